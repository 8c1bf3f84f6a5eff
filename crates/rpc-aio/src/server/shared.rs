//! What every connection and RPC of a server shares: options, handler tables, the worker
//! pool, the lifecycle phase, and the books of RPCs in flight (so a stop can cancel them).

use super::pool::WorkerPool;
use super::registry::Registry;
use rpc_core::{ContextControl, RpcError, ServerOptions};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use tokio::sync::Notify;

/// Where a server is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Phase {
    /// Accepting RPCs (before `start` too: nothing can arrive then).
    Serving = 0,
    /// `stop` was called: new RPCs get UNAVAILABLE; RPCs in flight run on.
    Draining = 1,
    /// The grace ended: RPCs in flight were cancelled.
    Cancelled = 2,
}

pub(crate) struct ServerShared {
    pub(crate) options: ServerOptions,
    pub(crate) registry: Arc<Registry>,
    pub(crate) pool: WorkerPool,
    runtime: OnceLock<tokio::runtime::Handle>,
    phase: AtomicU8,
    active: AtomicUsize,
    idle: Notify,
    next_id: AtomicU64,
    rpcs: Mutex<HashMap<u64, ContextControl>>,
    cancelled: AtomicUsize,
}

impl ServerShared {
    pub(crate) fn new(options: ServerOptions) -> ServerShared {
        let pool = WorkerPool::new(options.max_workers, options.max_queued_rpcs);
        ServerShared {
            options,
            registry: Arc::default(),
            pool,
            runtime: OnceLock::new(),
            phase: AtomicU8::new(Phase::Serving as u8),
            active: AtomicUsize::new(0),
            idle: Notify::new(),
            next_id: AtomicU64::new(0),
            rpcs: Mutex::new(HashMap::new()),
            cancelled: AtomicUsize::new(0),
        }
    }

    fn books(&self) -> MutexGuard<'_, HashMap<u64, ContextControl>> {
        self.rpcs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The runtime the server was started on.
    pub(crate) fn runtime(&self) -> Option<&tokio::runtime::Handle> {
        self.runtime.get()
    }

    /// Records the runtime at start; false if it was already recorded (started before).
    pub(crate) fn set_runtime(&self, handle: tokio::runtime::Handle) -> bool {
        self.runtime.set(handle).is_ok()
    }

    pub(crate) fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Acquire) {
            0 => Phase::Serving,
            1 => Phase::Draining,
            _ => Phase::Cancelled,
        }
    }

    /// Moves to `phase` if it is later than the current one.
    pub(crate) fn advance(&self, phase: Phase) {
        self.phase.fetch_max(phase as u8, Ordering::AcqRel);
    }

    /// Admits a new RPC: refused with UNAVAILABLE once stopping, and with RESOURCE_EXHAUSTED
    /// at `maximum_concurrent_rpcs`.
    pub(crate) fn admit(self: &Arc<Self>) -> Result<Admission, RpcError> {
        if self.phase() != Phase::Serving {
            return Err(RpcError::unavailable("the server is shutting down and accepts no new RPCs"));
        }
        let before = self.active.fetch_add(1, Ordering::AcqRel);
        let admission = Admission { shared: self.clone() };
        if let Some(max) = self.options.maximum_concurrent_rpcs
            && before >= max
        {
            return Err(RpcError::resource_exhausted(format!(
                "the server is at its limit of {max} concurrent RPCs (maximum_concurrent_rpcs)"
            )));
        }
        Ok(admission)
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

    /// Cancels every RPC in flight (the grace is over); returns how many.
    pub(crate) fn cancel_all(&self) -> usize {
        self.advance(Phase::Cancelled);
        let controls: Vec<ContextControl> = self.books().values().cloned().collect();
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
        if self.phase() == Phase::Cancelled {
            RpcError::unavailable("the server stopped: the grace period ended before the RPC finished")
        } else {
            RpcError::cancelled("the RPC was cancelled")
        }
    }
}

/// An admitted RPC counted as active; `register` enters its context in the books.
pub(crate) struct Admission {
    shared: Arc<ServerShared>,
}

impl Admission {
    /// Enters the RPC's context in the books so a stop can cancel it.
    pub(crate) fn register(self, control: &ContextControl) -> RpcSlot {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        self.shared.books().insert(id, control.clone());
        if self.shared.phase() == Phase::Cancelled {
            // The stop's sweep may have run before this entry was made.
            control.cancel();
        }
        RpcSlot { admission: self, id }
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        if self.shared.active.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.idle.notify_waiters();
        }
    }
}

/// An RPC's entry in the books; dropping it removes the entry and uncounts the RPC.
pub(crate) struct RpcSlot {
    admission: Admission,
    id: u64,
}

impl Drop for RpcSlot {
    fn drop(&mut self) {
        self.admission.shared.books().remove(&self.id);
    }
}
