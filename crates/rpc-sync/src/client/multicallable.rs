//! Multi-callables: calling a method by its path (gRPC Python's `UnaryUnaryMultiCallable`
//! and friends), generic over the message codec, prost by default. Each holds rpc-aio's
//! multi-callable and blocks on (or wraps) the calls it makes; generated stubs go through
//! these too ([`rpc_core::codegen::Channel`] is implemented here).
//!
//! A method that blocks (`call` of a one-response kind, `with_call`) refuses on a thread
//! inside an async runtime before anything is sent; one that returns a call object (`future`,
//! the streaming kinds' `call`) works anywhere, and its blocking methods refuse there.

use super::call::{Call, CallOutcome, StreamStreamCall, StreamUnaryCall, UnaryCall, UnaryStreamCall, kind};
use super::channel::Channel;
use crate::bridge;
use crate::runtime::RuntimeHandle;
use rpc_core::codec::{Decoder, Encoder, ProstCodec};
use rpc_core::codegen::MethodDescriptor;
use rpc_core::{IntoRequest, IntoStreamingRequest, OutgoingMessage, Request, RequestSource, RpcError, SourceKind};
use std::fmt;

/// A method to call, of kind `K`, sending `Req` and receiving `Resp` through the codec `C`
/// (gRPC Python's multi-callables, in one type). Cheap to clone.
pub struct MultiCallable<K, Req, Resp, C = ProstCodec> {
    inner: rpc_aio::MultiCallable<K, Req, Resp, C>,
    channel: Channel,
    runtime: RuntimeHandle,
}

/// Calls a unary-unary method: [`call`](MultiCallable::call), `with_call`, `future`.
pub type UnaryUnaryMultiCallable<Req, Resp, C = ProstCodec> = MultiCallable<kind::UnaryUnary, Req, Resp, C>;
/// Calls a unary-stream method; the call is an iterator of responses.
pub type UnaryStreamMultiCallable<Req, Resp, C = ProstCodec> = MultiCallable<kind::UnaryStream, Req, Resp, C>;
/// Calls a stream-unary method with a request iterator.
pub type StreamUnaryMultiCallable<Req, Resp, C = ProstCodec> = MultiCallable<kind::StreamUnary, Req, Resp, C>;
/// Calls a stream-stream method with a request iterator (or `WriteRequests`).
pub type StreamStreamMultiCallable<Req, Resp, C = ProstCodec> = MultiCallable<kind::StreamStream, Req, Resp, C>;

impl<K, Req, Resp, C> Clone for MultiCallable<K, Req, Resp, C> {
    fn clone(&self) -> Self {
        MultiCallable {
            inner: self.inner.clone(),
            channel: self.channel.clone(),
            runtime: self.runtime.clone(),
        }
    }
}

impl<K, Req, Resp, C> fmt::Debug for MultiCallable<K, Req, Resp, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultiCallable").field("method", &self.inner.method()).finish()
    }
}

impl<K, Req, Resp, C> MultiCallable<K, Req, Resp, C> {
    fn new(channel: &Channel, inner: rpc_aio::MultiCallable<K, Req, Resp, C>) -> Self {
        MultiCallable {
            inner,
            channel: channel.clone(),
            runtime: channel.runtime().clone(),
        }
    }

    /// The method path.
    pub fn method(&self) -> &str {
        self.inner.method()
    }

    /// The channel the calls are made on.
    pub fn channel(&self) -> &Channel {
        &self.channel
    }
}

impl Channel {
    /// A [`UnaryUnaryMultiCallable`] for the method at `path` (e.g. `/pkg.Service/Method`),
    /// with prost messages.
    pub fn unary_unary<Req, Resp>(&self, path: &str) -> UnaryUnaryMultiCallable<Req, Resp> {
        MultiCallable::new(self, self.as_aio().unary_unary(path))
    }

    /// A [`UnaryUnaryMultiCallable`] whose messages go through `codec`.
    pub fn unary_unary_with_codec<Req, Resp, C>(&self, path: &str, codec: C) -> UnaryUnaryMultiCallable<Req, Resp, C> {
        MultiCallable::new(self, self.as_aio().unary_unary_with_codec(path, codec))
    }

    /// A [`UnaryStreamMultiCallable`] for the method at `path`, with prost messages.
    pub fn unary_stream<Req, Resp>(&self, path: &str) -> UnaryStreamMultiCallable<Req, Resp> {
        MultiCallable::new(self, self.as_aio().unary_stream(path))
    }

    /// A [`UnaryStreamMultiCallable`] whose messages go through `codec`.
    pub fn unary_stream_with_codec<Req, Resp, C>(&self, path: &str, codec: C) -> UnaryStreamMultiCallable<Req, Resp, C> {
        MultiCallable::new(self, self.as_aio().unary_stream_with_codec(path, codec))
    }

    /// A [`StreamUnaryMultiCallable`] for the method at `path`, with prost messages.
    pub fn stream_unary<Req, Resp>(&self, path: &str) -> StreamUnaryMultiCallable<Req, Resp> {
        MultiCallable::new(self, self.as_aio().stream_unary(path))
    }

    /// A [`StreamUnaryMultiCallable`] whose messages go through `codec`.
    pub fn stream_unary_with_codec<Req, Resp, C>(&self, path: &str, codec: C) -> StreamUnaryMultiCallable<Req, Resp, C> {
        MultiCallable::new(self, self.as_aio().stream_unary_with_codec(path, codec))
    }

    /// A [`StreamStreamMultiCallable`] for the method at `path`, with prost messages.
    pub fn stream_stream<Req, Resp>(&self, path: &str) -> StreamStreamMultiCallable<Req, Resp> {
        MultiCallable::new(self, self.as_aio().stream_stream(path))
    }

    /// A [`StreamStreamMultiCallable`] whose messages go through `codec`.
    pub fn stream_stream_with_codec<Req, Resp, C>(&self, path: &str, codec: C) -> StreamStreamMultiCallable<Req, Resp, C> {
        MultiCallable::new(self, self.as_aio().stream_stream_with_codec(path, codec))
    }
}

/// Lets a request iterator block: rpc-aio pulls it on the private runtime's blocking pool,
/// where it may even make blocking calls.
struct MayBlock<T>(Box<dyn Iterator<Item = OutgoingMessage<T>> + Send>);

impl<T> Iterator for MayBlock<T> {
    type Item = OutgoingMessage<T>;
    fn next(&mut self) -> Option<OutgoingMessage<T>> {
        bridge::allow_blocking(|| self.0.next())
    }
}

/// A request source as rpc-aio pulls it for the blocking face.
fn prepare<Req: Send + 'static>(request: Request<RequestSource<Req>>) -> Request<RequestSource<Req>> {
    request.map(|source| match source.into_kind() {
        SourceKind::Iter(iter) => RequestSource::messages(MayBlock(iter)),
        SourceKind::Stream(s) => RequestSource::message_stream(s),
        SourceKind::Writer => RequestSource::writer(),
    })
}

fn nobody_writes() -> RpcError {
    RpcError::failed_precondition(
        "a blocking call made with WriteRequests has nobody to write its requests: pass them as an iterator, \
         or use future() and write through the call",
    )
}

impl<Req, Resp, C> MultiCallable<kind::UnaryUnary, Req, Resp, C>
where
    Req: Send + 'static,
    Resp: Send + 'static,
    C: Encoder<Req> + Decoder<Resp>,
{
    /// Makes the call and blocks until its response (gRPC Python's `__call__`).
    ///
    /// # Errors
    /// The call's error; FAILED_PRECONDITION (nothing sent) on a thread inside an async runtime.
    pub fn call(&self, request: impl IntoRequest<Req>) -> Result<Resp, RpcError> {
        bridge::may_block()?;
        bridge::wait(self.runtime.handle(), self.inner.call(request))?
    }

    /// Makes the call and blocks until it ends; returns the response with how the call ended.
    ///
    /// # Errors
    /// As [`call`](Self::call).
    pub fn with_call(&self, request: impl IntoRequest<Req>) -> Result<(Resp, CallOutcome), RpcError> {
        bridge::may_block()?;
        bridge::wait(self.runtime.handle(), self.inner.with_call(request))?
    }

    /// Starts the call in the background; never blocks.
    pub fn future(&self, request: impl IntoRequest<Req>) -> UnaryCall<Resp> {
        Call::new(self.inner.future(request), &self.runtime)
    }
}

impl<Req, Resp, C> MultiCallable<kind::UnaryStream, Req, Resp, C>
where
    Req: Send + 'static,
    Resp: Send + 'static,
    C: Encoder<Req> + Decoder<Resp>,
{
    /// Makes the call; iterate over its responses (the call runs as they are read). Never blocks.
    pub fn call(&self, request: impl IntoRequest<Req>) -> UnaryStreamCall<Resp> {
        Call::new(self.inner.call(request), &self.runtime)
    }
}

impl<Req, Resp, C> MultiCallable<kind::StreamUnary, Req, Resp, C>
where
    Req: Send + 'static,
    Resp: Send + 'static,
    C: Encoder<Req> + Decoder<Resp>,
{
    /// Makes the call with the requests of `request` (any `IntoIterator`, pulled from the
    /// runtime; it may block) and blocks until the response.
    ///
    /// # Errors
    /// The call's error; FAILED_PRECONDITION (nothing sent) on a thread inside an async
    /// runtime, or for `WriteRequests` (nobody could write: use [`future`](Self::future)).
    pub fn call(&self, request: impl IntoStreamingRequest<Req>) -> Result<Resp, RpcError> {
        let request = request.into_streaming_request();
        if request.get_ref().is_writer() {
            return Err(nobody_writes());
        }
        bridge::may_block()?;
        bridge::wait(self.runtime.handle(), self.inner.call(prepare(request)))?
    }

    /// Like [`call`](Self::call), returning the response with how the call ended.
    ///
    /// # Errors
    /// As [`call`](Self::call).
    pub fn with_call(&self, request: impl IntoStreamingRequest<Req>) -> Result<(Resp, CallOutcome), RpcError> {
        let request = request.into_streaming_request();
        if request.get_ref().is_writer() {
            return Err(nobody_writes());
        }
        bridge::may_block()?;
        bridge::wait(self.runtime.handle(), self.inner.with_call(prepare(request)))?
    }

    /// Starts the call in the background; never blocks. Made with `WriteRequests`, its
    /// requests are written through the call ([`Call::write`]).
    pub fn future(&self, request: impl IntoStreamingRequest<Req>) -> StreamUnaryCall<Req, Resp> {
        Call::new(self.inner.future(prepare(request.into_streaming_request())), &self.runtime)
    }
}

impl<Req, Resp, C> MultiCallable<kind::StreamStream, Req, Resp, C>
where
    Req: Send + 'static,
    Resp: Send + 'static,
    C: Encoder<Req> + Decoder<Resp>,
{
    /// Starts the call with the requests of `request` (any `IntoIterator`, pulled from the
    /// runtime, so reading and sending overlap; or `WriteRequests`, then written through the
    /// call); iterate over its responses. Never blocks.
    pub fn call(&self, request: impl IntoStreamingRequest<Req>) -> StreamStreamCall<Req, Resp> {
        Call::new(self.inner.call(prepare(request.into_streaming_request())), &self.runtime)
    }
}

impl Channel {
    /// The multi-callable of a method of generated code (prost messages): rpc-aio's, wrapped.
    fn multicallable_for<K, Req, Resp>(&self, method: &'static MethodDescriptor) -> MultiCallable<K, Req, Resp> {
        MultiCallable::new(self, rpc_aio::MultiCallable::for_method(self.as_aio(), method))
    }
}

rpc_core::__impl_codegen_contract!(
    channel = Channel,
    multicallable = MultiCallable,
    unary_unary = (Result<Resp, RpcError>, Result<(Resp, CallOutcome), RpcError>, UnaryCall<Resp>),
    unary_stream = UnaryStreamCall<Resp>,
    stream_unary = (Result<Resp, RpcError>, Result<(Resp, CallOutcome), RpcError>, StreamUnaryCall<Req, Resp>),
    stream_stream = StreamStreamCall<Req, Resp>,
);
