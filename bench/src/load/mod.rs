//! Client load loops, one module per client side, all bounded in time and in count.
//!
//! Every loop runs `in_flight` callers (tasks, or threads for rpc-sync: one thread per call
//! in flight) spread round-robin over `conns` connections (one channel each). A call is
//! counted (and its latency kept) when it starts after the warm-up and ends before the
//! window closes; streamed messages are counted when they arrive inside the window.

pub mod aio;
pub mod open;
pub mod sync;
pub mod tonic;

use crate::Side;
use serde::Serialize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What kind of traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Unary `Call` echoes.
    Unary,
    /// `StreamFrom`: the server streams.
    ServerStream,
    /// `Echo`: both stream.
    Bidi,
}

/// One load to run.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct LoadSpec {
    /// Kind of traffic.
    pub kind: Kind,
    /// Payload size in bytes.
    pub payload: usize,
    /// Calls (or streams) in flight.
    pub in_flight: usize,
    /// Connections (channels).
    pub conns: usize,
    /// Warm-up before the window.
    pub warmup: Duration,
    /// The measured window.
    pub duration: Duration,
    /// At most this many calls in all (a bound, besides time).
    pub max_calls: u64,
    /// Messages per streaming call.
    pub batch: u32,
}

impl LoadSpec {
    /// Messages per streaming call by default: about 16 MiB, between 64 and 10,000 messages.
    pub fn default_batch(payload: usize) -> u32 {
        (16 * 1024 * 1024 / payload.max(1)).clamp(64, 10_000) as u32
    }

    /// Messages per streaming call.
    pub fn batch(&self) -> u32 {
        self.batch.max(1)
    }
}

/// What a load achieved.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Outcome {
    /// Calls that ended well (including those cut short by the end of the window).
    pub ok: u64,
    /// Calls that failed.
    pub failed: u64,
    /// Calls (unary) or messages (streaming) counted inside the window.
    pub counted: u64,
    /// The window.
    pub window_s: f64,
    /// Latencies (ns) of the calls counted (unary only).
    #[serde(skip)]
    pub latencies_ns: Vec<u64>,
    /// The first error seen, if any.
    pub first_error: Option<String>,
}

impl Outcome {
    /// Calls or messages per second.
    pub fn rate(&self) -> f64 {
        if self.window_s > 0.0 {
            self.counted as f64 / self.window_s
        } else {
            0.0
        }
    }
}

/// Shared by the callers of one load.
pub(crate) struct Tally {
    pub from: Instant,
    pub end: Instant,
    pub max_calls: u64,
    issued: AtomicU64,
    ok: AtomicU64,
    failed: AtomicU64,
    counted: AtomicU64,
    latencies: Mutex<Vec<u64>>,
    first_error: Mutex<Option<String>>,
}

impl Tally {
    pub fn new(spec: &LoadSpec) -> Tally {
        let start = Instant::now();
        Tally {
            from: start + spec.warmup,
            end: start + spec.warmup + spec.duration,
            max_calls: spec.max_calls,
            issued: AtomicU64::new(0),
            ok: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            counted: AtomicU64::new(0),
            latencies: Mutex::new(Vec::new()),
            first_error: Mutex::new(None),
        }
    }

    /// Whether a caller may start another call (time and count bounds).
    pub fn go(&self) -> bool {
        Instant::now() < self.end && self.issued.fetch_add(1, Ordering::Relaxed) < self.max_calls
    }

    /// Whether `t` is inside the window.
    pub fn inside(&self, t: Instant) -> bool {
        t >= self.from && t <= self.end
    }

    pub fn ok(&self) {
        self.ok.fetch_add(1, Ordering::Relaxed);
    }

    pub fn fail(&self, e: impl std::fmt::Display) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_error.lock().unwrap_or_else(|p| p.into_inner());
        if first.is_none() {
            *first = Some(e.to_string());
        }
    }

    pub fn count(&self, n: u64) {
        self.counted.fetch_add(n, Ordering::Relaxed);
    }

    /// Adds a caller's latencies (kept per caller, merged once).
    pub fn latencies(&self, mut ns: Vec<u64>) {
        self.latencies.lock().unwrap_or_else(|p| p.into_inner()).append(&mut ns);
    }

    /// A unary call that started at `s` and ended now.
    pub fn unary_done(&self, s: Instant, lat: &mut Vec<u64>) {
        let e = Instant::now();
        self.ok();
        if s >= self.from && e <= self.end {
            self.count(1);
            lat.push((e - s).as_nanos() as u64);
        }
    }

    pub fn outcome(self) -> Outcome {
        Outcome {
            ok: self.ok.into_inner(),
            failed: self.failed.into_inner(),
            counted: self.counted.into_inner(),
            window_s: (self.end - self.from).as_secs_f64(),
            latencies_ns: self.latencies.into_inner().unwrap_or_default(),
            first_error: self.first_error.into_inner().unwrap_or_default(),
        }
    }
}

/// Runs `spec` from the `client` side against `target`.
pub fn run(client: Side, target: &str, spec: &LoadSpec) -> Outcome {
    match client {
        Side::Tonic => tonic::run(target, spec),
        Side::Aio => aio::run(target, spec),
        Side::Sync => sync::run(target, spec),
    }
}

/// A multi-thread tokio runtime with tokio's defaults (one worker per allowed CPU), the
/// same for the raw tonic and rpc-aio clients.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}
