//! The private tokio runtime of rpc-sync: created on first use on named threads, shared by
//! every handle (channels, servers), and shut down when the last handle is dropped.
//!
//! # Blocking from inside an async runtime
//!
//! [`RuntimeHandle::block_on`] blocks the calling thread until a future finishes on the
//! private runtime. Doing that on a thread that is inside a tokio runtime (any runtime:
//! the caller's own, or this one; `tokio::runtime::Handle::try_current()` succeeds) is
//! refused: the call returns at once an [`RpcError`] with code `FAILED_PRECONDITION` and
//! the message "blocking rpc-sync call made from inside an async runtime; ...". It never
//! panics and never deadlocks. Blocking a runtime's worker thread could stall the very
//! tasks the call needs (a server on a `#[tokio::test]` runtime, or this runtime's own
//! workers), and that would be a silent deadlock; a clear error is better.
//!
//! This includes the blocking-pool threads of a *user's* runtime
//! (`tokio::task::spawn_blocking`): tokio gives no stable way to tell them from worker
//! threads, so they are refused as well. From async code, use rpc-aio, or make the call on
//! a thread outside the runtime (`std::thread::spawn`).
//!
//! The one exception is a closure run by [`RuntimeHandle::spawn_blocking`] on the private
//! runtime's own blocking pool: that thread drives no futures, so blocking there is safe,
//! and `block_on` works (a blocking server handler that makes a blocking client call).
//!
//! # Shutdown
//!
//! When the last [`RuntimeHandle`] is dropped, the runtime shuts down: its tasks are
//! dropped, and blocking work is given five seconds ([`SHUTDOWN_TIMEOUT`]) to finish before
//! it is left to end on its own. On a thread outside any runtime this happens before `drop` returns. On
//! a runtime thread (where tokio forbids dropping a runtime) the shutdown is handed to a
//! short-lived thread, `rpc-sync-runtime-shutdown`, so it never panics.

use crate::bridge;
use rpc_core::RpcError;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures::FutureExt;
use tokio::runtime::{EnterGuard, Handle, Runtime};
use tokio::task::JoinHandle;

/// How long shutdown waits for blocking work on the runtime's blocking pool.
pub(crate) const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// The live shared runtime, if any handle still holds it.
static SHARED: Mutex<Weak<Shared>> = Mutex::new(Weak::new());

/// Numbers the runtime threads across every runtime this process creates.
static THREAD_COUNTER: AtomicUsize = AtomicUsize::new(0);

struct Shared {
    /// `Some` until dropped; taken by `Drop` to shut the runtime down.
    runtime: Option<Runtime>,
    handle: Handle,
}

impl Shared {
    fn start() -> Result<Shared, RpcError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name_fn(|| format!("rpc-sync-runtime-{}", THREAD_COUNTER.fetch_add(1, Ordering::Relaxed)))
            .build()
            .map_err(|e| RpcError::unavailable(format!("could not start the rpc-sync runtime: {e}")))?;
        tracing::debug!("rpc-sync runtime started");
        let handle = runtime.handle().clone();
        Ok(Shared {
            runtime: Some(runtime),
            handle,
        })
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let Some(runtime) = self.runtime.take() else { return };
        if Handle::try_current().is_err() {
            runtime.shutdown_timeout(SHUTDOWN_TIMEOUT);
            tracing::debug!("rpc-sync runtime shut down");
            return;
        }
        // tokio panics when a runtime is dropped inside a runtime context (and a runtime
        // thread cannot wait for itself): shut it down from a thread of its own. The slot
        // keeps the runtime reachable if that thread cannot be started.
        let slot = Arc::new(Mutex::new(Some(runtime)));
        let theirs = slot.clone();
        let spawned = std::thread::Builder::new()
            .name("rpc-sync-runtime-shutdown".to_owned())
            .spawn(move || {
                if let Some(rt) = take(&theirs) {
                    rt.shutdown_timeout(SHUTDOWN_TIMEOUT);
                    tracing::debug!("rpc-sync runtime shut down");
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("could not start the rpc-sync shutdown thread ({e}); shutting down in the background");
            if let Some(rt) = take(&slot) {
                rt.shutdown_background();
            }
        }
    }
}

fn take(slot: &Mutex<Option<Runtime>>) -> Option<Runtime> {
    slot.lock().unwrap_or_else(|p| p.into_inner()).take()
}

/// A handle on rpc-sync's private tokio runtime.
///
/// Every blocking channel and server holds one; clones share the same runtime, which runs
/// on threads named `rpc-sync-runtime-N` and is shut down when the last handle is dropped
/// (tasks are dropped; blocking work gets five seconds to finish).
///
/// # Blocking from inside an async runtime
/// [`block_on`](Self::block_on) on a thread inside any tokio runtime (a task, a
/// `Runtime::block_on` body, `#[tokio::test]`, a `tokio::task::spawn_blocking` closure, or
/// under [`enter`](Self::enter)) returns `FAILED_PRECONDITION` at once: no panic, no
/// deadlock. The exception is a closure run by [`spawn_blocking`](Self::spawn_blocking) on
/// this runtime, where blocking is safe.
#[derive(Clone)]
pub struct RuntimeHandle {
    shared: Arc<Shared>,
}

impl RuntimeHandle {
    /// A handle on the shared runtime, starting it if no handle is alive.
    ///
    /// # Errors
    /// `UNAVAILABLE` if the runtime cannot be started (e.g. its threads cannot be spawned).
    pub fn shared() -> Result<RuntimeHandle, RpcError> {
        let mut current = SHARED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(shared) = current.upgrade() {
            return Ok(RuntimeHandle { shared });
        }
        let shared = Arc::new(Shared::start()?);
        *current = Arc::downgrade(&shared);
        Ok(RuntimeHandle { shared })
    }

    /// Whether two handles share the same runtime.
    pub fn ptr_eq(&self, other: &RuntimeHandle) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// The tokio handle of the runtime, for code that spawns on it directly.
    pub fn handle(&self) -> &Handle {
        &self.shared.handle
    }

    /// Runs `future` on the runtime and blocks the calling thread until it finishes.
    ///
    /// The future runs on the runtime's worker threads; the caller only waits.
    ///
    /// # Errors
    /// - `FAILED_PRECONDITION` at once, without running the future, when called on a
    ///   thread inside a tokio runtime (see the module documentation), except inside
    ///   [`spawn_blocking`](Self::spawn_blocking);
    /// - `INTERNAL` ("rpc-sync runtime task panicked: ...") if the future panics;
    /// - `CANCELLED` if the runtime shut down before the future finished.
    pub fn block_on<F>(&self, future: F) -> Result<F::Output, RpcError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        bridge::may_block()?;
        let task = self.shared.handle.spawn(AssertUnwindSafe(future).catch_unwind());
        match bridge::wait(&self.shared.handle, task)? {
            Ok(Ok(output)) => Ok(output),
            Ok(Err(panic)) => Err(RpcError::internal(format!(
                "rpc-sync runtime task panicked: {}",
                panic_message(panic.as_ref())
            ))),
            Err(_) => Err(RpcError::cancelled("the rpc-sync runtime shut down before the task finished")),
        }
    }

    /// Runs `future` in the background on the runtime.
    ///
    /// Works from any thread, including runtime threads. Dropping the `JoinHandle`
    /// detaches the task; it is dropped when the runtime shuts down.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.handle.spawn(future)
    }

    /// Runs the blocking closure `f` on the runtime's blocking pool.
    ///
    /// Inside `f`, [`block_on`](Self::block_on) is allowed (that thread drives no futures).
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.shared.handle.spawn_blocking(move || bridge::allow_blocking(f))
    }

    /// Enters the runtime's context on this thread until the guard is dropped, so that
    /// tokio types that need a reactor (timers, sockets) can be created here.
    ///
    /// While the guard lives, [`block_on`](Self::block_on) on this thread is refused like
    /// any call from inside a runtime.
    pub fn enter(&self) -> EnterGuard<'_> {
        self.shared.handle.enter()
    }
}

impl fmt::Debug for RuntimeHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeHandle")
            .field("handles", &Arc::strong_count(&self.shared))
            .finish()
    }
}

pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "non-string panic payload"
    }
}
