//! The unified call object, [`Call`]: one type for the four kinds of call (a `Future` of the
//! response for unary-response calls, a `Stream` of responses for streaming ones, `write`
//! and `done_writing` for request-streaming calls made with `WriteRequests`), with gRPC
//! Python's `Call` accessors as its methods. [`UnaryCall`], [`UnaryStreamCall`],
//! [`StreamUnaryCall`] and [`StreamStreamCall`] name its four kinds.
//!
//! # When a call runs
//! A unary-request call (unary-unary, unary-stream) runs when it is first polled (awaited
//! or read): the task that polls it drives the RPC inline, with no task or channel of its
//! own, as tonic's calls do. It moves onto a task of the channel's runtime once
//! [`Call::start`] is called, or once something waits on it without polling it: the async
//! accessors (`initial_metadata()`, `code()` ...) and [`Call::add_done_callback`]. A
//! request-streaming call (stream-unary, stream-stream) starts at once, as in grpc.aio:
//! its requests flow while the caller is busy elsewhere; its responses are still read
//! inline. The deadline is fixed when the call object is made.

pub(crate) mod drive;
pub(crate) mod run;
pub(crate) mod shared;
mod with_call;
pub(crate) mod writer;

pub use shared::CallOutcome;
pub use with_call::{StreamUnaryWithCall, UnaryWithCall, WithCall};
pub use writer::RequestSender;

use drive::Drive;
use futures::Stream;
use rpc_core::{Metadata, RpcError, StatusCode, WriteOptions};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use writer::Writer;

/// The kinds of call, as the first type parameter of [`Call`].
pub mod kind {
    /// One request, one response.
    #[derive(Debug)]
    pub enum UnaryUnary {}
    /// One request, a stream of responses.
    #[derive(Debug)]
    pub enum UnaryStream {}
    /// A stream of requests, one response.
    #[derive(Debug)]
    pub enum StreamUnary {}
    /// Streams both ways.
    #[derive(Debug)]
    pub enum StreamStream {}

    /// Kinds with one response: the call is a `Future`.
    pub trait OneResponse: sealed::Sealed {}
    impl OneResponse for UnaryUnary {}
    impl OneResponse for StreamUnary {}

    /// Kinds with a stream of responses: the call is a `Stream`.
    pub trait ManyResponses: sealed::Sealed {}
    impl ManyResponses for UnaryStream {}
    impl ManyResponses for StreamStream {}

    /// Kinds with a stream of requests: the call can `write`.
    pub trait ManyRequests: sealed::Sealed {}
    impl ManyRequests for StreamUnary {}
    impl ManyRequests for StreamStream {}

    mod sealed {
        pub trait Sealed {}
        impl Sealed for super::UnaryUnary {}
        impl Sealed for super::UnaryStream {}
        impl Sealed for super::StreamUnary {}
        impl Sealed for super::StreamStream {}
    }
}

/// A unary-unary call: await it for the response.
pub type UnaryCall<Resp> = Call<kind::UnaryUnary, (), Resp>;
/// A unary-stream call: a `Stream` of responses (or [`Call::read`]).
pub type UnaryStreamCall<Resp> = Call<kind::UnaryStream, (), Resp>;
/// A stream-unary call: await it for the response; [`Call::write`] requests when made with
/// `WriteRequests`.
pub type StreamUnaryCall<Req, Resp> = Call<kind::StreamUnary, Req, Resp>;
/// A stream-stream call: a `Stream` of responses; [`Call::write`] requests when made with
/// `WriteRequests`, or [`Call::split`] it to write from one task and read from another.
pub type StreamStreamCall<Req, Resp> = Call<kind::StreamStream, Req, Resp>;

/// One call, of kind `K` (see [`kind`]), sending `Req` and receiving `Resp` (grpc.aio's
/// `Call`).
///
/// # Drop behavior
/// Dropping an unfinished call cancels it: the HTTP/2 stream is reset and the server sees
/// the RPC cancelled. A call dropped before it ever ran sends nothing.
#[must_use = "a call does nothing until polled and is cancelled when dropped"]
pub struct Call<K, Req, Resp> {
    drive: Drive<Resp>,
    writer: Option<Writer<Req>>,
    /// The response of a one-response call, once read (it is returned once the status is in).
    response: Option<Resp>,
    _kind: PhantomData<fn() -> K>,
}

// Nothing is pinned in place: the call is polled through `&mut` only.
impl<K, Req, Resp> Unpin for Call<K, Req, Resp> {}

impl<K, Req, Resp> fmt::Debug for Call<K, Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("kind", &std::any::type_name::<K>().rsplit("::").next().unwrap_or("?"))
            .field("done", &self.drive.shared.is_done())
            .finish()
    }
}

impl<K, Req, Resp: Send + 'static> Call<K, Req, Resp> {
    pub(crate) fn new(drive: Drive<Resp>, writer: Option<Writer<Req>>) -> Self {
        Call {
            drive,
            writer,
            response: None,
            _kind: PhantomData,
        }
    }

    /// Starts the RPC now, in the background on the channel's runtime, instead of when the
    /// call is first polled (gRPC Python's `grpc.aio` behaviour). Does nothing if it is
    /// running in the background already or has ended.
    pub fn start(&self) {
        self.drive.start();
    }

    /// The initial metadata (response headers); waits until they arrive (running the call
    /// in the background). Errors with the call's error if it failed before the server sent
    /// headers.
    ///
    /// # Cancel safety
    /// Cancel safe: dropping the future only stops waiting; the call goes on.
    pub async fn initial_metadata(&self) -> Result<Metadata, RpcError> {
        self.drive.start();
        self.drive.shared.initial().await
    }

    /// The trailing metadata; waits until the call ends (running it in the background).
    ///
    /// # Cancel safety
    /// Cancel safe: dropping the future only stops waiting; the call goes on.
    pub async fn trailing_metadata(&self) -> Metadata {
        self.outcome().await.trailing_metadata().clone()
    }

    /// The status code; waits until the call ends (running it in the background).
    ///
    /// # Cancel safety
    /// Cancel safe: dropping the future only stops waiting; the call goes on.
    pub async fn code(&self) -> StatusCode {
        self.outcome().await.code()
    }

    /// The status details; waits until the call ends (running it in the background).
    ///
    /// # Cancel safety
    /// Cancel safe: dropping the future only stops waiting; the call goes on.
    pub async fn details(&self) -> String {
        self.outcome().await.details().to_owned()
    }

    /// How the call ended (its metadata, code and details); waits until it ends (running it
    /// in the background).
    ///
    /// # Cancel safety
    /// Cancel safe: dropping the future only stops waiting; the call goes on.
    pub async fn outcome(&self) -> CallOutcome {
        self.drive.start();
        self.drive.shared.finished().await
    }

    /// How the call ended, if it has.
    pub fn outcome_now(&self) -> Option<CallOutcome> {
        self.drive.shared.outcome_now()
    }

    /// Cancels the call (the server sees it cancelled); `false` if it had already ended.
    pub fn cancel(&self) -> bool {
        self.drive.cancel()
    }

    /// Whether the call ended CANCELLED.
    pub fn cancelled(&self) -> bool {
        self.drive.shared.ended_cancelled()
    }

    /// Whether the call has ended.
    pub fn done(&self) -> bool {
        self.drive.shared.is_done()
    }

    /// Whether the call is still running (not ended).
    pub fn running(&self) -> bool {
        !self.drive.shared.is_done()
    }

    /// Time left until the deadline (`None`: no deadline).
    pub fn time_remaining(&self) -> Option<Duration> {
        self.drive.shared.deadline().map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Runs `callback` when the call ends (at once, on this thread, if it has ended), on the
    /// thread that ends it; the call runs in the background until then.
    pub fn add_done_callback(&self, callback: impl FnOnce(&CallOutcome) + Send + 'static) {
        self.drive.start();
        self.drive.shared.add_callback(Box::new(callback));
    }
}

impl<K: kind::ManyResponses, Req, Resp: Send + 'static> Call<K, Req, Resp> {
    /// The next response; `Ok(None)` at the end of the stream (grpc.aio's EOF).
    ///
    /// # Cancel safety
    /// Cancel safe: if the future is dropped before it completes, no message is lost.
    pub async fn read(&mut self) -> Result<Option<Resp>, RpcError> {
        std::future::poll_fn(|cx| self.drive.poll_next(cx)).await.transpose()
    }
}

impl<K: kind::ManyResponses, Req, Resp: Send + 'static> Stream for Call<K, Req, Resp> {
    type Item = Result<Resp, RpcError>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().drive.poll_next(cx)
    }
}

impl<K: kind::OneResponse, Req, Resp: Send + 'static> Future for Call<K, Req, Resp> {
    type Output = Result<Resp, RpcError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match this.drive.poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(m))) => {
                    // A second response of a one-response call is ignored.
                    if this.response.is_none() {
                        this.response = Some(m);
                    }
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e)),
                Poll::Ready(None) => {
                    return Poll::Ready(this.response.take().ok_or_else(|| match this.drive.shared.end_now() {
                        Some(Err(e)) => e,
                        _ => RpcError::internal("the server sent no response message (or the call was already awaited)"),
                    }));
                }
            }
        }
    }
}

impl<K: kind::ManyRequests, Req: Send + 'static, Resp: Send + 'static> Call<K, Req, Resp> {
    fn writer(&mut self) -> Result<&mut Writer<Req>, RpcError> {
        self.writer
            .as_mut()
            .ok_or_else(|| RpcError::failed_precondition("this call's writer was split off: write through its RequestSender"))
    }

    /// Sends one request (only for calls made with `WriteRequests`); waits while the
    /// connection has no room for it (flow control), and meanwhile reads responses ahead
    /// for the reader, so the call's end is seen even when no one reads.
    ///
    /// # Errors
    /// The call's status once it has ended (the server answered, e.g. UNIMPLEMENTED or its
    /// handler's error; the deadline passed while the write waited; the connection died):
    /// the responses that came before it are still read from the call.
    /// FAILED_PRECONDITION after `done_writing`, on a call with a request source, once the
    /// writer was split off, or when the call had ended OK.
    ///
    /// # Cancel safety
    /// Not cancel safe: if the future is dropped before it completes, the request may or
    /// may not have been queued.
    pub async fn write(&mut self, request: Req) -> Result<(), RpcError> {
        self.write_with(request, WriteOptions::new()).await
    }

    /// Sends one request with per-message options (e.g. uncompressed on a compressed call).
    ///
    /// # Errors
    /// As [`write`](Self::write).
    ///
    /// # Cancel safety
    /// As [`write`](Self::write).
    pub async fn write_with(&mut self, request: Req, options: WriteOptions) -> Result<(), RpcError> {
        let Call { drive, writer, .. } = self;
        let writer = writer
            .as_mut()
            .ok_or_else(|| RpcError::failed_precondition("this call's writer was split off: write through its RequestSender"))?;
        let (shared, runtime) = (drive.shared.clone(), drive.runtime().clone());
        writer.write(&shared, &runtime, Some(drive), request, options).await
    }

    /// Says no more requests will be written (half-closes the request stream).
    ///
    /// # Errors
    /// FAILED_PRECONDITION on a call with a request source, or once the writer was split off.
    ///
    /// # Cancel safety
    /// Completes at once; cancel safe.
    pub async fn done_writing(&mut self) -> Result<(), RpcError> {
        self.writer()?.done_writing().await
    }

    /// Splits off the writing half, to write from one task while another reads (or awaits)
    /// this call: full duplex. The call keeps its accessors and its responses; its own
    /// `write` fails from then on. (Split a call made with a request source and the sender's
    /// writes fail as the call's would.)
    pub fn split(mut self) -> (RequestSender<Req>, Self) {
        let writer = self.writer.take().unwrap_or_else(Writer::with_source);
        (
            RequestSender::new(writer, self.drive.shared.clone(), self.drive.runtime().clone()),
            self,
        )
    }
}
