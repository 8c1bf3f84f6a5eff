//! [`Backoff`]: the reconnect backoff of subchannels and of health-check calls (gRPC's
//! connection-backoff.md: 1.6x per failure, 20% jitter, capped).

use std::time::Duration;

/// How much longer each failed attempt makes the next wait (gRPC's connection backoff).
const BACKOFF_MULTIPLIER: f64 = 1.6;
/// The spread of each wait: +/- 20%.
const BACKOFF_JITTER: f64 = 0.2;

/// Reconnect backoff settings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Backoff {
    pub(crate) initial: Duration,
    pub(crate) max: Duration,
}

impl Backoff {
    /// The wait after `delay`, and the next delay.
    pub(crate) fn step(&self, delay: Duration) -> (Duration, Duration) {
        let jitter = 1.0 + BACKOFF_JITTER * (fastrand::f64() * 2.0 - 1.0);
        let wait = Duration::try_from_secs_f64(delay.as_secs_f64() * jitter).unwrap_or(delay);
        let next = Duration::try_from_secs_f64(delay.as_secs_f64() * BACKOFF_MULTIPLIER)
            .unwrap_or(self.max)
            .min(self.max);
        (wait, next)
    }
}
