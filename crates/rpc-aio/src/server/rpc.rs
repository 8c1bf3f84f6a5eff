//! One RPC on the server: its context, deadline and slot in the server's books, how it
//! watches for its deadline and for the server's stop, and how its final status is made
//! from what the handler returned and set on its context.

use super::compress::PlainMarks;
use super::shared::{RpcSlot, ServerShared};
use futures::future::BoxFuture;
use rpc_core::{Cancellation, ContextControl, Metadata, RpcError, ServicerContext, StatusCode};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// How long a cancelled async handler may run on to notice its cancellation before it is dropped.
const ABANDONED_HANDLER_LIMIT: Duration = Duration::from_secs(10);

/// Initial metadata sent early with `ServicerContext::send_initial_metadata`, and the
/// signal that it was, so the response headers can go out before the handler returns.
#[derive(Default)]
pub(crate) struct InitialSlot {
    metadata: Mutex<Option<Metadata>>,
    sent: tokio::sync::Notify,
}

impl InitialSlot {
    /// Called from the handler's `send_initial_metadata` (at most once).
    pub(crate) fn put(&self, metadata: Metadata) {
        *self.metadata.lock().unwrap_or_else(|p| p.into_inner()) = Some(metadata);
        // notify_one keeps a permit, so a waiter that comes later still sees it.
        self.sent.notify_one();
    }
}

/// The server's side of one RPC. Dropping it ends the RPC: the context is terminated
/// (callbacks run, `is_active()` turns false) and the RPC leaves the server's books.
pub(crate) struct Rpc {
    pub(crate) ctx: ServicerContext,
    pub(crate) control: ContextControl,
    pub(crate) deadline: Option<Instant>,
    pub(crate) shared: Arc<ServerShared>,
    /// Responses to send uncompressed.
    pub(crate) plain: Arc<PlainMarks>,
    initial: Arc<InitialSlot>,
    pump: Option<tokio::task::AbortHandle>,
    _slot: RpcSlot,
}

impl Drop for Rpc {
    fn drop(&mut self) {
        if let Some(pump) = self.pump.take() {
            pump.abort();
        }
        self.control.terminate();
    }
}

impl Rpc {
    pub(crate) fn new(
        ctx: ServicerContext,
        control: ContextControl,
        initial: Arc<InitialSlot>,
        deadline: Option<Instant>,
        shared: Arc<ServerShared>,
        slot: RpcSlot,
    ) -> Rpc {
        Rpc {
            ctx,
            control,
            deadline,
            shared,
            plain: Arc::default(),
            initial,
            pump: None,
            _slot: slot,
        }
    }

    /// Ties a request pump task to the RPC: it is aborted when the RPC ends.
    pub(crate) fn attach_pump(&mut self, pump: tokio::task::AbortHandle) {
        self.pump = Some(pump);
    }

    /// The response headers: what the handler sent early, or nothing.
    pub(crate) fn take_initial_metadata(&self) -> Metadata {
        self.control.mark_initial_metadata_sent();
        self.initial
            .metadata
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_default()
    }

    /// Completes once the handler has sent initial metadata early.
    pub(crate) async fn initial_metadata_sent(&self) {
        self.initial.sent.notified().await
    }

    /// The final status when the handler ended with `result`: the code and details it set
    /// on the context (a non-OK code wins over a returned response), the error it returned,
    /// and the trailing metadata of both. Ends the RPC.
    pub(crate) fn final_status(self, result: Result<(), RpcError>) -> tonic::Status {
        self.final_error(result).to_tonic()
    }

    fn final_error(&self, result: Result<(), RpcError>) -> RpcError {
        let outcome = self.control.outcome();
        let status = match result {
            Err(e) => e,
            Ok(()) => match outcome.code {
                Some(code) if code != StatusCode::Ok => RpcError::new(code, outcome.details.clone().unwrap_or_default()),
                _ => RpcError::new(StatusCode::Ok, ""),
            },
        };
        merged(status, outcome.trailing_metadata)
    }

    /// The status of an RPC that ends before any response: trailers-only, so the initial
    /// metadata the handler sent early goes in the same header block. Ends the RPC.
    pub(crate) fn finish_with_error(self, error: RpcError) -> tonic::Status {
        let initial = self.take_initial_metadata();
        let mut status = self.final_error(Err(error));
        if !initial.is_empty() {
            let mut md = initial;
            md.extend(std::mem::take(status.trailing_metadata_mut()));
            status = status.with_trailing_metadata(md);
        }
        status.to_tonic()
    }

    /// A watch on this RPC's deadline and on its cancellation.
    pub(crate) fn watch(&self) -> Watch {
        Watch {
            cancel: self.ctx.on_cancel(),
            sleep: self.deadline.map(|d| Box::pin(tokio::time::sleep_until(d.into()))),
            control: self.control.clone(),
            shared: self.shared.clone(),
        }
    }
}

/// Adds the context's trailing metadata to the status's (entries already there are not repeated).
fn merged(mut status: RpcError, context_trailers: Metadata) -> RpcError {
    if context_trailers.is_empty() {
        return status;
    }
    let own = std::mem::take(status.trailing_metadata_mut());
    let mut md = context_trailers;
    for (k, v) in own.iter() {
        if !md.get_all(k).any(|x| x == v) {
            // Keys and values came validated from a Metadata, so adding cannot fail.
            let _ = md.add(k, v.clone());
        }
    }
    status.with_trailing_metadata(md)
}

/// Watches an RPC's deadline and its cancellation (by the server's stop).
pub(crate) struct Watch {
    cancel: Cancellation,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    control: ContextControl,
    shared: Arc<ServerShared>,
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
            return Poll::Ready(self.shared.cancel_error());
        }
        Poll::Pending
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
            && let Some(runtime) = self.watch.shared.runtime()
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

/// The message of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".to_owned()
    }
}

/// The status of a handler that panicked.
pub(crate) fn panicked(payload: &(dyn std::any::Any + Send)) -> RpcError {
    let message = panic_message(payload);
    tracing::error!(panic = %message, "a handler panicked; the RPC ends with UNKNOWN");
    RpcError::unknown(format!("handler panicked: {message}"))
}
