//! `UnaryCall`: a unary-unary call (awaiting it gives the response) and `UnaryWithCall`.

use super::state::{CallCore, CallDetails};
use rpc_core::RpcError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

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
/// # Drop behavior
/// Dropping an unfinished call cancels it: its task is aborted, the HTTP/2 stream is reset
/// and the server sees the RPC cancelled.
#[must_use = "a call is cancelled when dropped; await it for the response"]
pub struct UnaryCall<Resp> {
    pub(crate) core: CallCore<Resp>,
    pub(crate) response: Option<Resp>,
}

// No field is structurally pinned: the call is polled through `&mut` only.
impl<Resp> Unpin for UnaryCall<Resp> {}

impl<Resp> fmt::Debug for UnaryCall<Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnaryCall").field("done", &self.core.done()).finish()
    }
}

impl<Resp> UnaryCall<Resp> {
    pub(crate) fn new(core: CallCore<Resp>) -> Self {
        UnaryCall { core, response: None }
    }
    call_accessors!();
}

impl<Resp> Future for UnaryCall<Resp> {
    type Output = Result<Resp, RpcError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.core.poll_unary(&mut this.response, cx)
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
