//! [`Throttle`]: a channel's retry throttle (`retryThrottling`, gRFC A6): failures take a
//! token, successes give `tokenRatio` back, and at or below half of `maxTokens` no retry or
//! hedge is sent.

use super::service_config::Throttling;
use std::sync::atomic::{AtomicU64, Ordering};

/// The retry throttle of a channel (`retryThrottling`), in thousandths of a token.
#[derive(Debug)]
pub(crate) struct Throttle {
    tokens: AtomicU64,
    max: u64,
    ratio: u64,
}

impl Throttle {
    pub(crate) fn new(t: Throttling) -> Throttle {
        let max = (t.max_tokens * 1000.0) as u64;
        Throttle {
            tokens: AtomicU64::new(max),
            max,
            ratio: (t.token_ratio * 1000.0) as u64,
        }
    }

    fn update(&self, f: impl Fn(u64) -> u64) {
        let _ = self.tokens.fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| Some(f(t)));
    }

    /// A failure (a retryable or non-fatal code, or a pushback that stops retries).
    pub(crate) fn failure(&self) {
        self.update(|t| t.saturating_sub(1000));
    }

    /// A success.
    pub(crate) fn success(&self) {
        self.update(|t| (t + self.ratio).min(self.max));
    }

    /// Whether retries and hedges may be sent now.
    pub(crate) fn allows(&self) -> bool {
        self.tokens.load(Ordering::Acquire) > self.max / 2
    }
}
