//! The one bridge between blocking code and the engine: every blocking method of this
//! crate waits for an rpc-aio future with [`wait`] (or [`wait_until`], with a limit).
//!
//! # The rule
//!
//! The future is polled on the caller's own thread, inside the private runtime's context
//! (so its timers and sockets are the runtime's), and the thread parks between polls; the
//! work it waits for runs on the runtime (connection tasks, handlers), whose wakers unpark
//! the thread directly. So a blocking call costs one thread hop each way and no task of its
//! own. Work that must run on the runtime itself (a future of the user's given to
//! `RuntimeHandle::block_on`) is spawned there and its `JoinHandle` waited on the same way.
//! The functions take the runtime's tokio handle (the private runtime's, see `runtime.rs`),
//! but for [`wait_call`], the per-message wait of a call object, whose futures enter the
//! runtime themselves where they need it.
//!
//! Waiting is refused on a thread inside a tokio runtime (see [`may_block`]): blocking a
//! runtime's thread could stall the very tasks the wait needs. The one exception is a
//! closure the engine runs for this crate on the private runtime's blocking pool (a request
//! iterator, a blocking interceptor, a callback: see [`allow_blocking`]), which drives no
//! futures.

use rpc_core::RpcError;
use std::cell::Cell;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

thread_local! {
    /// Set while a closure run by [`allow_blocking`] is on this thread.
    static BLOCKING_ALLOWED: Cell<bool> = const { Cell::new(false) };
}

/// Restores the previous value of [`BLOCKING_ALLOWED`] when dropped (also on panic).
struct AllowBlocking {
    previous: bool,
}

impl Drop for AllowBlocking {
    fn drop(&mut self) {
        BLOCKING_ALLOWED.with(|b| b.set(self.previous));
    }
}

/// Runs `f` with blocking allowed on this thread: for user code the runtime calls on its
/// blocking pool, where blocking is safe because that thread drives no futures.
pub(crate) fn allow_blocking<R>(f: impl FnOnce() -> R) -> R {
    let _allowed = AllowBlocking {
        previous: BLOCKING_ALLOWED.with(|b| b.replace(true)),
    };
    f()
}

/// Refuses to block a thread that is inside a tokio runtime, unless it runs a closure of
/// [`allow_blocking`]. Checked before a call is started, so a refused call sends nothing.
///
/// # Errors
/// FAILED_PRECONDITION "blocking rpc-sync call made from inside an async runtime; ...".
pub(crate) fn may_block() -> Result<(), RpcError> {
    if tokio::runtime::Handle::try_current().is_ok() && !BLOCKING_ALLOWED.with(Cell::get) {
        return Err(RpcError::failed_precondition(
            "blocking rpc-sync call made from inside an async runtime; use rpc-aio, \
             or make the call from a thread outside the runtime (std::thread::spawn)",
        ));
    }
    Ok(())
}

/// Blocks until `future` finishes (see the module documentation).
///
/// # Errors
/// FAILED_PRECONDITION on a thread inside an async runtime (the future is not polled).
pub(crate) fn wait<F: Future>(runtime: &tokio::runtime::Handle, future: F) -> Result<F::Output, RpcError> {
    may_block()?;
    let _entered = runtime.enter();
    until_ready(future)
}

/// Like [`wait`], for the futures of a call object that run once per message (a read, a
/// write). These enter the runtime themselves where they need it (a call's start, its
/// timers), so the wait does not: a streamed message then costs no runtime entry.
///
/// # Errors
/// As [`wait`].
pub(crate) fn wait_call<F: Future>(future: F) -> Result<F::Output, RpcError> {
    may_block()?;
    until_ready(future)
}

/// Parks on `future` with no deadline: it only returns once the future is ready.
fn until_ready<F: Future>(future: F) -> Result<F::Output, RpcError> {
    park_on_thread(future, None).ok_or_else(|| RpcError::internal("rpc-sync wait ended without a result"))
}

/// Like [`wait`], giving up at `deadline`: `Ok(None)` then (the future is dropped, so it
/// should be a borrow of something that goes on).
///
/// # Errors
/// As [`wait`].
pub(crate) fn wait_until<F: Future>(
    runtime: &tokio::runtime::Handle,
    future: F,
    deadline: Option<Instant>,
) -> Result<Option<F::Output>, RpcError> {
    may_block()?;
    Ok(park_on(runtime, future, deadline))
}

/// Wakes a thread parked in [`park_on`].
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        rpc_aio::__engine::unpark(&self.0);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        rpc_aio::__engine::unpark(&self.0);
    }
}

/// Polls `future` on this thread in the runtime's context, parking between polls, until
/// it finishes (`Some`) or `deadline` passes (`None`). A spurious unpark only costs a poll.
fn park_on<F: Future>(runtime: &tokio::runtime::Handle, future: F, deadline: Option<Instant>) -> Option<F::Output> {
    let _entered = runtime.enter();
    park_on_thread(future, deadline)
}

/// [`park_on`] without entering the runtime.
fn park_on_thread<F: Future>(future: F, deadline: Option<Instant>) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    // The thread's waker is made once: a wait per streamed message then allocates nothing.
    if let Ok(out) = THREAD_WAKER.try_with(|waker| poll_parking(waker, future.as_mut(), deadline)) {
        return out;
    }
    // A wait from a thread-local's destructor, once this one is gone: a waker of its own.
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    poll_parking(&waker, future, deadline)
}

/// Polls `future` with `waker`, parking between polls.
fn poll_parking<F: Future>(waker: &Waker, mut future: std::pin::Pin<&mut F>, deadline: Option<Instant>) -> Option<F::Output> {
    let mut cx = Context::from_waker(waker);
    if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
        return Some(v);
    }
    // Waiting on the network: a server's worker (a handler calling another server) gives
    // its place to the next RPC meanwhile.
    rpc_aio::__engine::park_worker_while(|| park_until_ready(&mut cx, future, deadline))
}

thread_local! {
    /// The waker that unparks this thread (a stale copy held by an earlier wait's future
    /// only costs a spurious unpark, which costs a poll).
    static THREAD_WAKER: Waker = Waker::from(Arc::new(Unpark(std::thread::current())));
}

/// The rest of [`park_on`], after a first poll found the future pending.
fn park_until_ready<F: Future>(cx: &mut Context<'_>, mut future: std::pin::Pin<&mut F>, deadline: Option<Instant>) -> Option<F::Output> {
    loop {
        match deadline {
            None => std::thread::park(),
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return None;
                }
                std::thread::park_timeout(left);
            }
        }
        if let Poll::Ready(v) = future.as_mut().poll(cx) {
            return Some(v);
        }
    }
}

/// Why a wait with a timeout came back without the outcome it waited for: the timeout
/// passed (gRPC Python's `FutureTimeoutError`; what was waited for goes on), or the call
/// (or the wait itself) failed.
#[derive(Clone, Debug)]
pub enum WaitError {
    /// The timeout passed first; the call goes on (wait again, or cancel it).
    Timeout(Duration),
    /// The call's error, or why the wait was refused (FAILED_PRECONDITION inside an async
    /// runtime).
    Rpc(RpcError),
}

impl WaitError {
    pub(crate) fn timed_out(timeout: Option<Duration>) -> WaitError {
        WaitError::Timeout(timeout.unwrap_or_default())
    }

    /// Whether the timeout passed (rather than the call failing).
    pub fn is_timeout(&self) -> bool {
        matches!(self, WaitError::Timeout(_))
    }

    /// The call's error, if that is what this is.
    pub fn rpc_error(&self) -> Option<&RpcError> {
        match self {
            WaitError::Rpc(e) => Some(e),
            WaitError::Timeout(_) => None,
        }
    }
}

impl std::fmt::Display for WaitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WaitError::Timeout(t) => write!(f, "timed out after {t:?} waiting; the call goes on"),
            WaitError::Rpc(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for WaitError {}

impl From<RpcError> for WaitError {
    fn from(e: RpcError) -> Self {
        WaitError::Rpc(e)
    }
}

impl From<WaitError> for RpcError {
    /// A timed-out wait becomes DEADLINE_EXCEEDED saying so (for `?` in functions that
    /// return `RpcError`; match on the `WaitError` to tell the two apart).
    fn from(e: WaitError) -> Self {
        match e {
            WaitError::Rpc(e) => e,
            WaitError::Timeout(t) => RpcError::deadline_exceeded(format!("timed out after {t:?} waiting; the call goes on")),
        }
    }
}
