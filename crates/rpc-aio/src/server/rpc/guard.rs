//! Racing an RPC against its end: [`Watch`] fires when the deadline passes (cancelling
//! the handler) or the RPC is cancelled (the client went away, or the server's grace
//! ended); [`Guarded`] runs a handler's future against it, and leaves a cancelled async
//! handler running for a while so it can see its cancellation.

use super::context::{Rpc, RpcEnv};
use futures::future::BoxFuture;
use rpc_core::{Cancellation, ContextControl, RpcError};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// How long a cancelled async handler may run on to notice its cancellation before it is dropped.
const ABANDONED_HANDLER_LIMIT: Duration = Duration::from_secs(10);

impl Rpc {
    /// A watch on this RPC's deadline and on its cancellation.
    pub(crate) fn watch(&self) -> Watch {
        Watch {
            cancel: self.control.cancelled_future(),
            sleep: self.deadline.map(|d| Box::pin(tokio::time::sleep_until(d.into()))),
            deadline: self.deadline,
            control: self.control.clone(),
            env: self.env.clone(),
        }
    }
}

/// Watches an RPC's deadline and its cancellation (by the server's stop).
pub(crate) struct Watch {
    cancel: Cancellation,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    deadline: Option<Instant>,
    control: ContextControl,
    env: Arc<RpcEnv>,
}

impl Watch {
    /// Ready with the status to end the RPC with once its deadline passes (the handler is
    /// then cancelled) or it is cancelled.
    pub(crate) fn poll_ended(&mut self, cx: &mut Context<'_>) -> Poll<RpcError> {
        if let Some(sleep) = self.sleep.as_mut()
            && sleep.as_mut().poll(cx).is_ready()
        {
            self.control.cancel();
            return Poll::Ready(RpcError::deadline_exceeded("deadline exceeded"));
        }
        if Pin::new(&mut self.cancel).poll(cx).is_ready() {
            return Poll::Ready(self.env.admission.cancel_error());
        }
        Poll::Pending
    }

    /// The status to end the RPC with if it has ended by now, without waiting for the
    /// timer or the cancellation's wake-up: its deadline has passed, or it was cancelled.
    fn ended_now(&self) -> Option<RpcError> {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Some(RpcError::deadline_exceeded("deadline exceeded"));
        }
        self.control.is_cancelled().then(|| self.env.admission.cancel_error())
    }
}

/// A handler's future racing the RPC's deadline and cancellation. When the RPC ends first,
/// or this future is dropped (the client went away), the handler's context is cancelled;
/// an async handler is then left to run on (for at most ten seconds) so it can see that.
pub(crate) struct Guarded<T: Send + 'static> {
    handler: Option<BoxFuture<'static, Result<T, RpcError>>>,
    watch: Watch,
    detach: bool,
}

impl<T: Send + 'static> Guarded<T> {
    /// `detach`: whether the handler future does the handler's work (async handlers) and
    /// should run on after cancellation, rather than only wait for it (blocking handlers).
    pub(crate) fn new(rpc: &Rpc, handler: BoxFuture<'static, Result<T, RpcError>>, detach: bool) -> Guarded<T> {
        Guarded {
            handler: Some(handler),
            watch: rpc.watch(),
            detach,
        }
    }

    fn abandon(&mut self) {
        self.watch.control.cancel();
        if let Some(handler) = self.handler.take()
            && self.detach
            && let Some(runtime) = self.watch.env.runtime()
        {
            runtime.spawn(async move {
                let _ = tokio::time::timeout(ABANDONED_HANDLER_LIMIT, handler).await;
            });
        }
    }
}

impl<T: Send + 'static> Future for Guarded<T> {
    type Output = Result<T, RpcError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        // An async handler woken by its cancellation is not polled here again: what it
        // returns now comes after the RPC ended, and is discarded (it runs on, detached). A
        // blocking handler's result may have been produced before the cancellation, so it is
        // always taken.
        let ended_before = this.detach && this.watch.control.is_cancelled();
        if !ended_before
            && let Some(handler) = this.handler.as_mut()
            && let Poll::Ready(r) = handler.as_mut().poll(cx)
        {
            this.handler = None;
            // An error that comes once the RPC has ended (a stop's grace ended on another
            // thread while the handler was polled; a blocking job skipped because the
            // deadline passed in the queue, before the timer fired) answers that end: the
            // RPC ends with the end's own status, as when the end is seen first.
            if r.is_err()
                && let Some(e) = this.watch.ended_now()
            {
                return Poll::Ready(Err(e));
            }
            return Poll::Ready(r);
        }
        match this.watch.poll_ended(cx) {
            Poll::Ready(e) => {
                this.abandon();
                Poll::Ready(Err(e))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: Send + 'static> Drop for Guarded<T> {
    fn drop(&mut self) {
        if self.handler.is_some() {
            self.abandon();
        }
    }
}
