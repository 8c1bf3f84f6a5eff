//! [`Probe`]: what one server instance saw of its calls. Every server the kit starts (the
//! servicers of either face, the tonic peer) records into a probe of its own, so tests that
//! run in parallel never count each other's events.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// What one server saw: calls that reached a handler, handlers that saw their RPC
/// cancelled, handlers that ran to their end, the request headers of the last call.
#[derive(Debug, Default)]
pub struct Probe {
    calls: AtomicUsize,
    cancelled: AtomicUsize,
    completed: AtomicUsize,
    sent: AtomicUsize,
    released: AtomicBool,
    last: Mutex<Last>,
}

/// What is kept of the last call.
#[derive(Debug, Default)]
struct Last {
    headers: Vec<(String, Vec<u8>)>,
    time_remaining: Option<Option<Duration>>,
}

impl Probe {
    /// A fresh probe, for one server.
    pub fn new() -> Arc<Probe> {
        Arc::default()
    }

    fn last(&self) -> MutexGuard<'_, Last> {
        self.last.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Calls that reached a handler.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Handlers that saw their RPC cancelled (by the client, a deadline or a stop) before
    /// their end.
    pub fn cancelled(&self) -> usize {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// Handlers that waited (`x-sleep-ms`, `x-hold`) and then finished their work.
    pub fn completed(&self) -> usize {
        self.completed.load(Ordering::SeqCst)
    }

    /// Streamed responses the handlers produced.
    pub fn sent(&self) -> usize {
        self.sent.load(Ordering::SeqCst)
    }

    /// The first value of request header `key` of the last call, as text (lossy for
    /// binary values).
    pub fn header(&self, key: &str) -> Option<String> {
        self.headers(key).into_iter().next()
    }

    /// Every value of request header `key` of the last call, in order, as text.
    pub fn headers(&self, key: &str) -> Vec<String> {
        self.last()
            .headers
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .collect()
    }

    /// The first value of binary request header `key` of the last call, decoded.
    pub fn header_bin(&self, key: &str) -> Option<Vec<u8>> {
        self.last().headers.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    /// The time the last call's handler had left when it started: `None` if its server
    /// does not report it (the tonic peer) or no call came, `Some(None)` if the call had
    /// no deadline.
    pub fn time_remaining(&self) -> Option<Option<Duration>> {
        self.last().time_remaining
    }

    /// Releases the calls held by `x-hold` (and the stuck ones of `x-stuck`), now and later.
    pub fn release(&self) {
        self.released.store(true, Ordering::SeqCst);
    }

    /// Whether [`release`](Self::release) was called.
    pub fn is_released(&self) -> bool {
        self.released.load(Ordering::SeqCst)
    }

    pub(crate) fn record_call(&self, headers: Vec<(String, Vec<u8>)>, time_remaining: Option<Option<Duration>>) {
        {
            let mut last = self.last();
            last.headers = headers;
            last.time_remaining = time_remaining;
        }
        self.calls.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn record_cancelled(&self) {
        self.cancelled.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn record_completed(&self) {
        self.completed.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn record_sent(&self) {
        self.sent.fetch_add(1, Ordering::SeqCst);
    }
}

/// Counts a cancellation on its probe when dropped before [`disarm`](Self::disarm): put one
/// in whatever the engine drops when an RPC is cancelled (a handler's future, a response
/// stream or iterator).
#[derive(Debug)]
pub(crate) struct CancelGuard(Option<Arc<Probe>>);

impl CancelGuard {
    pub(crate) fn new(probe: &Arc<Probe>) -> CancelGuard {
        CancelGuard(Some(probe.clone()))
    }

    /// The work ended normally: nothing to count.
    pub(crate) fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if let Some(probe) = self.0.take() {
            probe.record_cancelled();
        }
    }
}
