//! Multi-callables: calling a method by its path (gRPC Python's `UnaryUnaryMultiCallable`
//! and friends), generic over the message codec, prost by default. Generated stubs go
//! through these too ([`rpc_core::codegen::Channel`] is implemented here), so a call made
//! by name and a call made by a stub take the same path.

use super::call::{
    Call, StreamStreamCall, StreamUnaryCall, StreamUnaryWithCall, UnaryCall, UnaryStreamCall, UnaryWithCall, WithCall, kind,
};
use super::channel::Channel;
use super::pipeline::{self, Input, MethodPath, STREAM_BUFFER, Shape};
use rpc_core::codec::{Decoder, Encoder, ProstCodec};
use rpc_core::codegen::MethodDescriptor;
use rpc_core::{IntoRequest, IntoStreamingRequest, Request, RequestSource};
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

const UNARY: Shape = Shape { eager: false, buffer: 1 };
const SERVER_STREAMING: Shape = Shape {
    eager: false,
    buffer: STREAM_BUFFER,
};
const CLIENT_STREAMING: Shape = Shape { eager: true, buffer: 1 };
const BIDI: Shape = Shape {
    eager: true,
    buffer: STREAM_BUFFER,
};

/// A method to call, of kind `K` (see [`kind`](super::call::kind)), sending `Req` and
/// receiving `Resp` through the codec `C` (gRPC Python's multi-callables, in one type).
/// Cheap to clone; it holds a clone of its channel.
pub struct MultiCallable<K, Req, Resp, C = ProstCodec> {
    channel: Channel,
    path: MethodPath,
    codec: Arc<C>,
    _types: PhantomData<fn(K, Req) -> Resp>,
}

/// Calls a unary-unary method: [`call`](MultiCallable::call), `with_call`, `future`.
pub type UnaryUnaryMultiCallable<Req, Resp, C = ProstCodec> = MultiCallable<kind::UnaryUnary, Req, Resp, C>;
/// Calls a unary-stream method; the call is a `Stream` of responses.
pub type UnaryStreamMultiCallable<Req, Resp, C = ProstCodec> = MultiCallable<kind::UnaryStream, Req, Resp, C>;
/// Calls a stream-unary method with a request source (an iterator, `stream(..)` or `WriteRequests`).
pub type StreamUnaryMultiCallable<Req, Resp, C = ProstCodec> = MultiCallable<kind::StreamUnary, Req, Resp, C>;
/// Calls a stream-stream method with a request source.
pub type StreamStreamMultiCallable<Req, Resp, C = ProstCodec> = MultiCallable<kind::StreamStream, Req, Resp, C>;

impl<K, Req, Resp, C> Clone for MultiCallable<K, Req, Resp, C> {
    fn clone(&self) -> Self {
        MultiCallable {
            channel: self.channel.clone(),
            path: self.path.clone(),
            codec: self.codec.clone(),
            _types: PhantomData,
        }
    }
}

impl<K, Req, Resp, C> fmt::Debug for MultiCallable<K, Req, Resp, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultiCallable").field("method", &self.path.as_str()).finish()
    }
}

impl<K, Req, Resp, C> MultiCallable<K, Req, Resp, C> {
    fn new(channel: &Channel, path: MethodPath, codec: C) -> Self {
        MultiCallable::sharing(channel, path, Arc::new(codec))
    }

    /// A multi-callable whose codec is shared with others.
    fn sharing(channel: &Channel, path: MethodPath, codec: Arc<C>) -> Self {
        MultiCallable {
            channel: channel.clone(),
            path,
            codec,
            _types: PhantomData,
        }
    }

    /// The method path.
    pub fn method(&self) -> &str {
        self.path.as_str()
    }

    /// The channel the calls are made on.
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    fn start<R>(&self, request: Request<R>, input: impl FnOnce(R) -> Input<Req>, shape: Shape) -> pipeline::Made<Req, Resp>
    where
        Req: Send + 'static,
        Resp: Send + 'static,
        C: Encoder<Req> + Decoder<Resp>,
    {
        let (message, options) = request.into_parts();
        pipeline::start(&self.channel, &self.path, options, input(message), &self.codec, shape)
    }

    /// A call with one request: it has no writer.
    fn unary_request<K2>(&self, request: Request<Req>, shape: Shape) -> Call<K2, (), Resp>
    where
        Req: Send + 'static,
        Resp: Send + 'static,
        C: Encoder<Req> + Decoder<Resp>,
    {
        Call::new(self.start(request, Input::One, shape).drive, None)
    }

    /// A call with a request stream.
    fn stream_request(&self, request: Request<RequestSource<Req>>, shape: Shape) -> Call<K, Req, Resp>
    where
        Req: Send + 'static,
        Resp: Send + 'static,
        C: Encoder<Req> + Decoder<Resp>,
    {
        let made = self.start(request, Input::Source, shape);
        Call::new(made.drive, made.writer)
    }
}

impl Channel {
    /// A [`UnaryUnaryMultiCallable`] for the method at `path` (e.g. `/pkg.Service/Method`),
    /// with prost messages.
    pub fn unary_unary<Req, Resp>(&self, path: &str) -> UnaryUnaryMultiCallable<Req, Resp> {
        UnaryUnaryMultiCallable::new(self, MethodPath::Shared(path.into()), ProstCodec)
    }

    /// A [`UnaryUnaryMultiCallable`] whose messages go through `codec` (raw bytes,
    /// closures, dynamic messages).
    pub fn unary_unary_with_codec<Req, Resp, C>(&self, path: &str, codec: C) -> UnaryUnaryMultiCallable<Req, Resp, C> {
        UnaryUnaryMultiCallable::new(self, MethodPath::Shared(path.into()), codec)
    }

    /// A [`UnaryStreamMultiCallable`] for the method at `path`, with prost messages.
    pub fn unary_stream<Req, Resp>(&self, path: &str) -> UnaryStreamMultiCallable<Req, Resp> {
        UnaryStreamMultiCallable::new(self, MethodPath::Shared(path.into()), ProstCodec)
    }

    /// A [`UnaryStreamMultiCallable`] whose messages go through `codec`.
    pub fn unary_stream_with_codec<Req, Resp, C>(&self, path: &str, codec: C) -> UnaryStreamMultiCallable<Req, Resp, C> {
        UnaryStreamMultiCallable::new(self, MethodPath::Shared(path.into()), codec)
    }

    /// A [`StreamUnaryMultiCallable`] for the method at `path`, with prost messages.
    pub fn stream_unary<Req, Resp>(&self, path: &str) -> StreamUnaryMultiCallable<Req, Resp> {
        StreamUnaryMultiCallable::new(self, MethodPath::Shared(path.into()), ProstCodec)
    }

    /// A [`StreamUnaryMultiCallable`] whose messages go through `codec`.
    pub fn stream_unary_with_codec<Req, Resp, C>(&self, path: &str, codec: C) -> StreamUnaryMultiCallable<Req, Resp, C> {
        StreamUnaryMultiCallable::new(self, MethodPath::Shared(path.into()), codec)
    }

    /// A [`StreamStreamMultiCallable`] for the method at `path`, with prost messages.
    pub fn stream_stream<Req, Resp>(&self, path: &str) -> StreamStreamMultiCallable<Req, Resp> {
        StreamStreamMultiCallable::new(self, MethodPath::Shared(path.into()), ProstCodec)
    }

    /// A [`StreamStreamMultiCallable`] whose messages go through `codec`.
    pub fn stream_stream_with_codec<Req, Resp, C>(&self, path: &str, codec: C) -> StreamStreamMultiCallable<Req, Resp, C> {
        StreamStreamMultiCallable::new(self, MethodPath::Shared(path.into()), codec)
    }
}

impl<Req, Resp, C> MultiCallable<kind::UnaryUnary, Req, Resp, C>
where
    Req: Send + 'static,
    Resp: Send + 'static,
    C: Encoder<Req> + Decoder<Resp>,
{
    /// Makes the call; await it for the response. It runs when awaited (or started).
    pub fn call(&self, request: impl IntoRequest<Req>) -> UnaryCall<Resp> {
        self.unary_request(request.into_request(), UNARY)
    }

    /// Makes the call; resolves to the response with how the call ended.
    pub fn with_call(&self, request: impl IntoRequest<Req>) -> UnaryWithCall<Resp> {
        WithCall::new(self.call(request))
    }

    /// Makes the call and starts it in the background at once (gRPC Python's `future()`).
    pub fn future(&self, request: impl IntoRequest<Req>) -> UnaryCall<Resp> {
        let call = self.call(request);
        call.start();
        call
    }
}

impl<Req, Resp, C> MultiCallable<kind::UnaryStream, Req, Resp, C>
where
    Req: Send + 'static,
    Resp: Send + 'static,
    C: Encoder<Req> + Decoder<Resp>,
{
    /// Makes the call; read its responses as a `Stream` or with `read()`. It runs when first
    /// read (or started).
    pub fn call(&self, request: impl IntoRequest<Req>) -> UnaryStreamCall<Resp> {
        self.unary_request(request.into_request(), SERVER_STREAMING)
    }
}

impl<Req, Resp, C> MultiCallable<kind::StreamUnary, Req, Resp, C>
where
    Req: Send + 'static,
    Resp: Send + 'static,
    C: Encoder<Req> + Decoder<Resp>,
{
    /// Makes the call with a request source (it starts at once); await it for the response.
    pub fn call(&self, request: impl IntoStreamingRequest<Req>) -> StreamUnaryCall<Req, Resp> {
        self.stream_request(request.into_streaming_request(), CLIENT_STREAMING)
    }

    /// Makes the call; resolves to the response with how the call ended.
    pub fn with_call(&self, request: impl IntoStreamingRequest<Req>) -> StreamUnaryWithCall<Req, Resp> {
        WithCall::new(self.call(request))
    }

    /// Makes the call and reads its response in the background as well (the requests flow
    /// from the start, as with [`call`](Self::call)).
    pub fn future(&self, request: impl IntoStreamingRequest<Req>) -> StreamUnaryCall<Req, Resp> {
        let call = self.call(request);
        call.start();
        call
    }
}

impl<Req, Resp, C> MultiCallable<kind::StreamStream, Req, Resp, C>
where
    Req: Send + 'static,
    Resp: Send + 'static,
    C: Encoder<Req> + Decoder<Resp>,
{
    /// Makes the call with a request source (it starts at once); read its responses.
    pub fn call(&self, request: impl IntoStreamingRequest<Req>) -> StreamStreamCall<Req, Resp> {
        self.stream_request(request.into_streaming_request(), BIDI)
    }
}

impl<K, Req, Resp> MultiCallable<K, Req, Resp> {
    /// The multi-callable of a method of generated code (prost messages), for rpc-sync's
    /// implementation of the codegen contract.
    #[doc(hidden)]
    pub fn for_method(channel: &Channel, method: &'static MethodDescriptor) -> Self {
        // Generated stubs make one per call: the codec is shared, not allocated each time.
        static PROST: std::sync::LazyLock<Arc<ProstCodec>> = std::sync::LazyLock::new(|| Arc::new(ProstCodec));
        MultiCallable::sharing(channel, MethodPath::Static(method.path), PROST.clone())
    }
}

impl Channel {
    /// The multi-callable of a method of generated code (prost messages).
    fn multicallable_for<K, Req, Resp>(&self, method: &'static MethodDescriptor) -> MultiCallable<K, Req, Resp> {
        MultiCallable::for_method(self, method)
    }
}

rpc_core::__impl_codegen_contract!(
    channel = Channel,
    multicallable = MultiCallable,
    unary_unary = (UnaryCall<Resp>, UnaryWithCall<Resp>, UnaryCall<Resp>),
    unary_stream = UnaryStreamCall<Resp>,
    stream_unary = (StreamUnaryCall<Req, Resp>, StreamUnaryWithCall<Req, Resp>, StreamUnaryCall<Req, Resp>),
    stream_stream = StreamStreamCall<Req, Resp>,
);
