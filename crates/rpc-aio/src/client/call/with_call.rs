//! `WithCall`: a one-response call that resolves to the response together with how the
//! call ended (what `with_call` returns).

use super::shared::CallOutcome;
use super::{Call, kind};
use rpc_core::RpcError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A one-response call resolving to the response with the finished call's [`CallOutcome`]
/// (gRPC Python's `with_call`).
///
/// # Drop behavior
/// Dropping it unfinished cancels the call.
#[must_use = "a call is cancelled when dropped; await it for the response"]
pub struct WithCall<C> {
    call: C,
}

/// What a unary-unary `with_call` returns.
pub type UnaryWithCall<Resp> = WithCall<Call<kind::UnaryUnary, (), Resp>>;
/// What a stream-unary `with_call` returns.
pub type StreamUnaryWithCall<Req, Resp> = WithCall<Call<kind::StreamUnary, Req, Resp>>;

impl<C> fmt::Debug for WithCall<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WithCall(..)")
    }
}

impl<C> WithCall<C> {
    pub(crate) fn new(call: C) -> Self {
        WithCall { call }
    }

    /// The call, for its accessors while it runs.
    pub fn call(&self) -> &C {
        &self.call
    }
}

impl<K: kind::OneResponse, Req, Resp: Send + 'static> Future for WithCall<Call<K, Req, Resp>> {
    type Output = Result<(Resp, CallOutcome), RpcError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match Pin::new(&mut this.call).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            // The response is only returned once the call has ended, so its outcome is final.
            Poll::Ready(Ok(r)) => match this.call.outcome_now() {
                Some(outcome) => Poll::Ready(Ok((r, outcome))),
                None => Poll::Ready(Err(RpcError::internal("call ended without a status"))),
            },
        }
    }
}
