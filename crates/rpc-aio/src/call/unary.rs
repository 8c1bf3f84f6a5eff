//! `UnaryCall`: a unary-unary call (awaiting it gives the response) and `UnaryWithCall`.

use super::driver::UnaryRun;
use super::state::{CallDetails, CallShared};
use rpc_core::{Metadata, RpcError};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use tokio::task::JoinHandle;

macro_rules! call_accessors {
    () => {
        /// The initial metadata (response headers); waits until they arrive. Errors with
        /// the call's error if it failed before the server sent headers.
        ///
        /// # Cancel safety
        /// Cancel safe: dropping the future only stops waiting; the call goes on.
        pub async fn initial_metadata(&self) -> Result<rpc_core::Metadata, rpc_core::RpcError> {
            self.core.initial_metadata().await
        }

        /// The trailing metadata; waits until the call ends.
        ///
        /// # Cancel safety
        /// Cancel safe: dropping the future only stops waiting; the call goes on.
        pub async fn trailing_metadata(&self) -> rpc_core::Metadata {
            self.core.trailing_metadata().await
        }

        /// The status code; waits until the call ends.
        ///
        /// # Cancel safety
        /// Cancel safe: dropping the future only stops waiting; the call goes on.
        pub async fn code(&self) -> rpc_core::StatusCode {
            self.core.code().await
        }

        /// The status details; waits until the call ends.
        ///
        /// # Cancel safety
        /// Cancel safe: dropping the future only stops waiting; the call goes on.
        pub async fn details(&self) -> String {
            self.core.details().await
        }

        /// Cancels the call (the server sees it cancelled); `false` if it had already ended.
        pub fn cancel(&self) -> bool {
            self.core.cancel()
        }

        /// Whether the call ended CANCELLED.
        pub fn cancelled(&self) -> bool {
            self.core.cancelled()
        }

        /// Whether the call has ended.
        pub fn done(&self) -> bool {
            self.core.done()
        }

        /// Time left until the deadline (`None`: no deadline).
        pub fn time_remaining(&self) -> Option<std::time::Duration> {
            self.core.time_remaining()
        }

        /// Runs `callback` when the call ends (at once if it has ended), on the thread that ends it.
        pub fn add_done_callback(&self, callback: impl FnOnce(&crate::call::CallDetails) + Send + 'static) {
            self.core.add_done_callback(callback)
        }
    };
}
pub(crate) use call_accessors;

/// A unary-unary call: await it for the response; the accessors work meanwhile.
///
/// # When the RPC runs
/// Like tonic's calls (and every Rust future), the RPC runs when the call is awaited: it is
/// driven inline by the task that awaits it, with no task or channel of its own, so a
/// unary call costs what a raw tonic call costs. It runs in the background on the
/// channel's runtime instead once [`start`](Self::start) is called, or once something
/// waits on the call without awaiting it: the async accessors (`initial_metadata()`,
/// `code()` ...) and [`add_done_callback`](Self::add_done_callback). gRPC Python's
/// `grpc.aio` starts every call at once; call `start()` for that behaviour.
///
/// # Drop behavior
/// Dropping an unfinished call cancels it: the HTTP/2 stream is reset and the server sees
/// the RPC cancelled. A call dropped before it ever ran sends nothing.
#[must_use = "a call does nothing until awaited and is cancelled when dropped; await it for the response"]
pub struct UnaryCall<Resp> {
    pub(crate) core: UnaryCore<Resp>,
}

// No field is structurally pinned: the call is polled through `&mut` only.
impl<Resp> Unpin for UnaryCall<Resp> {}

impl<Resp> fmt::Debug for UnaryCall<Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnaryCall").field("done", &self.core.shared.is_done()).finish()
    }
}

impl<Resp: Send + 'static> UnaryCall<Resp> {
    pub(crate) fn new(shared: Arc<CallShared>, run: Option<UnaryRun<Resp>>, runtime: tokio::runtime::Handle) -> Self {
        UnaryCall {
            core: UnaryCore {
                shared,
                run: Mutex::new(run.map_or(Run::Finished, Run::Idle)),
                runtime,
            },
        }
    }

    /// Starts the RPC now, in the background on the channel's runtime, instead of when the
    /// call is first awaited (gRPC Python's `grpc.aio` behaviour). Does nothing if the call
    /// is already running or has ended.
    pub fn start(&self) {
        self.core.start();
    }

    call_accessors!();
}

impl<Resp: Send + 'static> Future for UnaryCall<Resp> {
    type Output = Result<Resp, RpcError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().core.poll_run(cx)
    }
}

/// Where the future of a unary call is.
enum Run<Resp> {
    /// Not running in the background: polled inline by whoever awaits the call.
    Idle(UnaryRun<Resp>),
    /// Running as a task on the channel's runtime.
    Spawned(JoinHandle<Result<Resp, RpcError>>),
    /// Ended (or never started because the channel was closed).
    Finished,
}

/// The state of a unary call: the shared state, and the RPC's future wherever it runs.
pub(crate) struct UnaryCore<Resp> {
    shared: Arc<CallShared>,
    /// Locked only by `&self` methods that start or cancel the call; polling has `&mut`.
    run: Mutex<Run<Resp>>,
    runtime: tokio::runtime::Handle,
}

impl<Resp> Drop for UnaryCore<Resp> {
    fn drop(&mut self) {
        let run = std::mem::replace(self.run.get_mut().unwrap_or_else(PoisonError::into_inner), Run::Finished);
        if matches!(run, Run::Finished) {
            return;
        }
        self.shared.fail(RpcError::cancelled("call dropped before it finished"));
        if let Run::Spawned(task) = run {
            task.abort();
        }
        // An idle future is dropped here: tonic resets the HTTP/2 stream if it was sent.
    }
}

impl<Resp: Send + 'static> UnaryCore<Resp> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Run<Resp>> {
        self.run.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves an idle call onto a task of its own.
    pub(crate) fn start(&self) {
        let mut run = self.lock();
        if let Run::Idle(_) = &*run
            && let Run::Idle(fut) = std::mem::replace(&mut *run, Run::Finished)
        {
            *run = Run::Spawned(self.runtime.spawn(fut));
        }
    }

    fn poll_run(&mut self, cx: &mut Context<'_>) -> Poll<Result<Resp, RpcError>> {
        let run = self.run.get_mut().unwrap_or_else(PoisonError::into_inner);
        let result = match run {
            Run::Idle(fut) => {
                // Outside any runtime (a blocking caller), timers and the like need the
                // channel's runtime as context while the future is polled.
                let _entered = tokio::runtime::Handle::try_current().is_err().then(|| self.runtime.enter());
                ready!(fut.as_mut().poll(cx))
            }
            Run::Spawned(task) => match ready!(Pin::new(task).poll(cx)) {
                Ok(result) => result,
                Err(e) => Err(self.shared.error_now().unwrap_or_else(|| {
                    if e.is_panic() {
                        RpcError::internal("the call's task panicked")
                    } else {
                        RpcError::cancelled("the call's task was cancelled (its runtime shut down?)")
                    }
                })),
            },
            Run::Finished => {
                return Poll::Ready(Err(self.shared.error_now().unwrap_or_else(|| {
                    RpcError::internal("the call was already awaited: its response was returned then")
                })));
            }
        };
        *run = Run::Finished;
        Poll::Ready(result)
    }

    pub(crate) fn cancel(&self) -> bool {
        if !self.shared.fail(RpcError::cancelled("call cancelled by the client")) {
            return false;
        }
        let run = std::mem::replace(&mut *self.lock(), Run::Finished);
        if let Run::Spawned(task) = run {
            task.abort();
        }
        // An idle future is dropped here, resetting the stream at once.
        true
    }

    pub(crate) fn cancelled(&self) -> bool {
        self.shared.ended_cancelled()
    }

    pub(crate) fn done(&self) -> bool {
        self.shared.is_done()
    }

    pub(crate) fn time_remaining(&self) -> Option<std::time::Duration> {
        self.shared
            .deadline()
            .map(|d| d.saturating_duration_since(std::time::Instant::now()))
    }

    pub(crate) fn add_done_callback(&self, cb: impl FnOnce(&CallDetails) + Send + 'static) {
        self.start();
        self.shared.add_callback(Box::new(cb));
    }

    pub(crate) async fn initial_metadata(&self) -> Result<Metadata, RpcError> {
        self.start();
        self.shared.initial().await
    }

    pub(crate) async fn trailing_metadata(&self) -> Metadata {
        self.start();
        self.shared.details().await.trailing_metadata().clone()
    }

    pub(crate) async fn code(&self) -> rpc_core::StatusCode {
        self.start();
        self.shared.details().await.code()
    }

    pub(crate) async fn details(&self) -> String {
        self.start();
        self.shared.details().await.details().to_owned()
    }
}

/// A unary-response call that resolves to the response together with the finished call's
/// [`CallDetails`] (for `with_call`).
///
/// # Drop behavior
/// Dropping it unfinished cancels the call.
#[must_use = "a call is cancelled when dropped; await it for the response"]
#[pin_project::pin_project]
pub struct UnaryWithCall<F> {
    #[pin]
    call: F,
}

impl<F> fmt::Debug for UnaryWithCall<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UnaryWithCall(..)")
    }
}

pub(crate) use sealed::HasShared;

mod sealed {
    /// Access to a call's shared state, for [`UnaryWithCall`](super::UnaryWithCall).
    pub trait HasShared {
        /// The details of the finished call.
        fn finished_details(&self) -> Option<crate::call::CallDetails>;
    }
}

impl<Resp> HasShared for UnaryCall<Resp> {
    fn finished_details(&self) -> Option<CallDetails> {
        self.core.shared.details_now()
    }
}

impl<F> UnaryWithCall<F> {
    pub(crate) fn new(call: F) -> Self {
        UnaryWithCall { call }
    }
}

impl<F, Resp> Future for UnaryWithCall<F>
where
    F: Future<Output = Result<Resp, RpcError>> + HasShared,
{
    type Output = Result<(Resp, CallDetails), RpcError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        match this.call.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            // The response is only returned once the call has ended, so its details are final.
            Poll::Ready(Ok(r)) => match this.call.finished_details() {
                Some(d) => Poll::Ready(Ok((r, d))),
                None => Poll::Ready(Err(RpcError::internal("call ended without a status"))),
            },
        }
    }
}
