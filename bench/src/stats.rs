//! Percentiles of latencies and medians/spreads of figures over rounds.

use serde::Serialize;

/// The `q` quantile (0..=1) of sorted values (nearest rank).
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Latency percentiles in microseconds.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Latency {
    /// Median.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// Slowest.
    pub max_us: f64,
}

impl Latency {
    /// From latencies in nanoseconds (sorted here).
    pub fn from_ns(mut ns: Vec<u64>) -> Latency {
        ns.sort_unstable();
        let us = |v: u64| v as f64 / 1000.0;
        Latency {
            p50_us: us(quantile(&ns, 0.50)),
            p90_us: us(quantile(&ns, 0.90)),
            p99_us: us(quantile(&ns, 0.99)),
            max_us: us(ns.last().copied().unwrap_or(0)),
        }
    }
}

/// The median and range of one figure over rounds.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Spread {
    /// Median over rounds.
    pub median: f64,
    /// Lowest round.
    pub min: f64,
    /// Highest round.
    pub max: f64,
}

impl Spread {
    /// Of the values (empty gives zeros).
    pub fn of(values: &[f64]) -> Spread {
        if values.is_empty() {
            return Spread::default();
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 };
        Spread {
            median,
            min: v[0],
            max: v[n - 1],
        }
    }

    /// Spread as ± percent of the median (half the range).
    pub fn pct(&self) -> f64 {
        if self.median == 0.0 {
            0.0
        } else {
            (self.max - self.min) / 2.0 / self.median * 100.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_medians() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(quantile(&v, 0.5), 50);
        assert_eq!(quantile(&v, 0.99), 99);
        assert_eq!(quantile(&v, 1.0), 100);
        assert_eq!(quantile(&[], 0.5), 0);
        let s = Spread::of(&[3.0, 1.0, 2.0, 10.0]);
        assert_eq!((s.median, s.min, s.max), (2.5, 1.0, 10.0));
    }
}
