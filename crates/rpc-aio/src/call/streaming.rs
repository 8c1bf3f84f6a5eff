//! The streaming call objects: `UnaryStreamCall`, `StreamUnaryCall`, `StreamStreamCall`.

use super::state::{CallCore, CallDetails};
use super::unary::{HasShared, UnaryWithCall, call_accessors};
use futures::Stream;
use rpc_core::RpcError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// A unary-stream call: a `Stream` of responses, plus [`read`](Self::read) and the accessors.
///
/// # Drop behavior
/// Dropping an unfinished call cancels it (the server sees the RPC cancelled).
#[must_use = "a call is cancelled when dropped; read its responses"]
pub struct UnaryStreamCall<Resp> {
    pub(crate) core: CallCore<Resp>,
}

impl<Resp> Unpin for UnaryStreamCall<Resp> {}

impl<Resp> fmt::Debug for UnaryStreamCall<Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnaryStreamCall").field("done", &self.core.done()).finish()
    }
}

impl<Resp> UnaryStreamCall<Resp> {
    /// The next response; `Ok(None)` at the end of the stream (grpc.aio's EOF).
    ///
    /// # Cancel safety
    /// Cancel safe: if the future is dropped before it completes, no message is lost.
    pub async fn read(&mut self) -> Result<Option<Resp>, RpcError> {
        self.core.read().await
    }
    call_accessors!();
}

impl<Resp> Stream for UnaryStreamCall<Resp> {
    type Item = Result<Resp, RpcError>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().core.poll_next_message(cx)
    }
}

/// The writing half shared by request-streaming calls.
pub(crate) struct Writer<Req> {
    pub(crate) tx: Option<mpsc::Sender<Req>>,
    pub(crate) has_source: bool,
}

impl<Req> Writer<Req> {
    async fn write<Resp>(&mut self, core: &CallCore<Resp>, request: Req) -> Result<(), RpcError> {
        if self.has_source {
            return Err(RpcError::failed_precondition(
                "write() is only for calls made with WriteRequests; this call has a request source",
            ));
        }
        let Some(tx) = &self.tx else {
            return Err(RpcError::failed_precondition("write() after done_writing()"));
        };
        if tx.send(request).await.is_err() {
            return Err(match core.shared.outcome().await {
                Err(e) => e,
                Ok(_) => RpcError::failed_precondition("write() after the call finished"),
            });
        }
        Ok(())
    }

    fn done_writing(&mut self) -> Result<(), RpcError> {
        if self.has_source {
            return Err(RpcError::failed_precondition(
                "done_writing() is only for calls made with WriteRequests; this call has a request source",
            ));
        }
        self.tx = None;
        Ok(())
    }
}

macro_rules! writer_methods {
    () => {
        /// Sends one request (only for calls made with `WriteRequests`).
        ///
        /// # Cancel safety
        /// Not cancel safe: if the future is dropped before it completes, the request may or
        /// may not have been queued.
        pub async fn write(&mut self, request: Req) -> Result<(), RpcError> {
            self.writer.write(&self.core, request).await
        }

        /// Says no more requests will be written (half-closes the request stream).
        ///
        /// # Cancel safety
        /// Completes at once; cancel safe.
        pub async fn done_writing(&mut self) -> Result<(), RpcError> {
            self.writer.done_writing()
        }
    };
}

/// A stream-unary call: await it for the response; `write`/`done_writing` when made with
/// `WriteRequests`.
///
/// # Drop behavior
/// Dropping an unfinished call cancels it (the server sees the RPC cancelled).
#[must_use = "a call is cancelled when dropped; await it for the response"]
pub struct StreamUnaryCall<Req, Resp> {
    pub(crate) core: CallCore<Resp>,
    pub(crate) writer: Writer<Req>,
    pub(crate) response: Option<Resp>,
}

impl<Req, Resp> Unpin for StreamUnaryCall<Req, Resp> {}

impl<Req, Resp> fmt::Debug for StreamUnaryCall<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamUnaryCall").field("done", &self.core.done()).finish()
    }
}

impl<Req, Resp> StreamUnaryCall<Req, Resp> {
    writer_methods!();
    call_accessors!();
}

impl<Req, Resp> Future for StreamUnaryCall<Req, Resp> {
    type Output = Result<Resp, RpcError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.core.poll_unary(&mut this.response, cx)
    }
}

impl<Req, Resp> HasShared for StreamUnaryCall<Req, Resp> {
    fn finished_details(&self) -> Option<CallDetails> {
        self.core.shared.details_now()
    }
}

/// A stream-unary call resolving to the response with the finished call's details.
pub type StreamUnaryWithCall<Req, Resp> = UnaryWithCall<StreamUnaryCall<Req, Resp>>;

/// A stream-stream call: a `Stream` of responses with `read`, `write`, `done_writing` and
/// the accessors.
///
/// # Drop behavior
/// Dropping an unfinished call cancels it (the server sees the RPC cancelled).
#[must_use = "a call is cancelled when dropped; read its responses"]
pub struct StreamStreamCall<Req, Resp> {
    pub(crate) core: CallCore<Resp>,
    pub(crate) writer: Writer<Req>,
}

impl<Req, Resp> Unpin for StreamStreamCall<Req, Resp> {}

impl<Req, Resp> fmt::Debug for StreamStreamCall<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamStreamCall").field("done", &self.core.done()).finish()
    }
}

impl<Req, Resp> StreamStreamCall<Req, Resp> {
    /// The next response; `Ok(None)` at the end of the stream.
    ///
    /// # Cancel safety
    /// Cancel safe: if the future is dropped before it completes, no message is lost.
    pub async fn read(&mut self) -> Result<Option<Resp>, RpcError> {
        self.core.read().await
    }
    writer_methods!();
    call_accessors!();
}

impl<Req, Resp> Stream for StreamStreamCall<Req, Resp> {
    type Item = Result<Resp, RpcError>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().core.poll_next_message(cx)
    }
}
