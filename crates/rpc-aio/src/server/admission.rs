//! Admitting RPCs: refused with UNAVAILABLE once the server is stopping, and with
//! RESOURCE_EXHAUSTED at `maximum_concurrent_rpcs`; counted while they run (so a stop can
//! wait for them); and entered in the books, so that when the grace ends the stop can
//! cancel every one still running.

use super::lifecycle::{Lifecycle, Phase};
use rpc_core::{ContextControl, RpcError};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// The books are split so that RPCs starting and ending on different threads rarely
/// contend for one lock.
const SHARDS: usize = 16;

/// The RPCs of a server.
#[derive(Debug)]
pub(crate) struct Admission {
    lifecycle: Arc<Lifecycle>,
    limit: Option<usize>,
    active: AtomicUsize,
    idle: Notify,
    next_id: AtomicU64,
    books: [Mutex<HashMap<u64, ContextControl>>; SHARDS],
    cancelled: AtomicUsize,
}

impl Admission {
    pub(crate) fn new(lifecycle: Arc<Lifecycle>, limit: Option<usize>) -> Admission {
        Admission {
            lifecycle,
            limit,
            active: AtomicUsize::new(0),
            idle: Notify::new(),
            next_id: AtomicU64::new(0),
            books: std::array::from_fn(|_| Mutex::new(HashMap::new())),
            cancelled: AtomicUsize::new(0),
        }
    }

    fn shard(&self, id: u64) -> MutexGuard<'_, HashMap<u64, ContextControl>> {
        self.books[id as usize % SHARDS].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Admits a new RPC: refused once stopping (the stream is reset REFUSED_STREAM: the
    /// client sees UNAVAILABLE, or retries it elsewhere), and with RESOURCE_EXHAUSTED at
    /// `maximum_concurrent_rpcs`.
    pub(crate) fn admit(self: &Arc<Self>) -> Result<Admitted, Refused> {
        if self.lifecycle.phase() > Phase::Serving {
            return Err(Refused::Stopping);
        }
        let before = self.active.fetch_add(1, Ordering::AcqRel);
        let admitted = Admitted { books: self.clone() };
        if let Some(max) = self.limit
            && before >= max
        {
            return Err(Refused::Status(RpcError::resource_exhausted(format!(
                "the server is at its limit of {max} concurrent RPCs (maximum_concurrent_rpcs)"
            ))));
        }
        Ok(admitted)
    }

    /// RPCs in flight.
    pub(crate) fn active(&self) -> usize {
        self.active.load(Ordering::Acquire)
    }

    /// Waits until no RPC is in flight.
    pub(crate) async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.active() == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Cancels every RPC in the books (the grace is over); returns how many.
    pub(crate) fn cancel_all(&self) -> usize {
        let mut controls = Vec::new();
        for shard in &self.books {
            controls.extend(shard.lock().unwrap_or_else(|p| p.into_inner()).values().cloned());
        }
        for c in &controls {
            c.cancel();
        }
        self.cancelled.fetch_add(controls.len(), Ordering::AcqRel);
        controls.len()
    }

    /// RPCs cancelled by a stop so far.
    pub(crate) fn cancelled_rpcs(&self) -> usize {
        self.cancelled.load(Ordering::Acquire)
    }

    /// The status of an RPC cancelled by the server: UNAVAILABLE once the grace ended.
    pub(crate) fn cancel_error(&self) -> RpcError {
        if self.lifecycle.phase() >= Phase::Cancelling {
            RpcError::unavailable("the server stopped: the grace period ended before the RPC finished")
        } else {
            RpcError::cancelled("the RPC was cancelled")
        }
    }
}

/// Why a new RPC was not admitted.
#[derive(Debug)]
pub(crate) enum Refused {
    /// The server is stopping: the RPC was not processed.
    Stopping,
    /// Answered with this status.
    Status(RpcError),
}

/// An admitted RPC, counted as active; [`register`](Self::register) enters it in the books.
#[derive(Debug)]
pub(crate) struct Admitted {
    books: Arc<Admission>,
}

impl Admitted {
    /// Enters the RPC's context in the books so a stop can cancel it.
    pub(crate) fn register(self, control: &ContextControl) -> Booked {
        let id = self.books.next_id.fetch_add(1, Ordering::Relaxed);
        self.books.shard(id).insert(id, control.clone());
        if self.books.lifecycle.phase() >= Phase::Cancelling {
            // The stop's sweep may have run before this entry was made.
            control.cancel();
        }
        Booked { admitted: self, id }
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if self.books.active.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.books.idle.notify_waiters();
        }
    }
}

/// An RPC's entry in the books; dropping it removes the entry and uncounts the RPC.
#[derive(Debug)]
pub(crate) struct Booked {
    admitted: Admitted,
    id: u64,
}

impl Drop for Booked {
    fn drop(&mut self) {
        self.admitted.books.shard(self.id).remove(&self.id);
    }
}
