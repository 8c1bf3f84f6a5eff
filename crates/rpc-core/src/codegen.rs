//! The contract between generated code and the two faces: the traits and types that
//! `rpc-build` output is written against, and nothing else.
//!
//! A generated stub is generic over [`Channel`]; `rpc_aio::Channel` and
//! `rpc_sync::Channel` implement it with their multi-callables (one per method kind), so
//! one stub serves both faces. Generated registration functions are generic over
//! [`Server`], which both servers implement.

use crate::context::ServicerContext;
use crate::error::RpcError;
use crate::request::Request;
pub use crate::request::RequestSource;
use crate::streams::{RequestIterator, RequestStream, ResponseIterator, ResponseStream};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use crate::codec::ProstCodec;
pub use crate::request::{IntoRequest, IntoStreamingRequest};
pub use crate::{Metadata, RpcError as Error, StatusCode};
#[doc(hidden)]
pub use prost;
#[doc(hidden)]
pub use prost_types;

/// A boxed, sendable future, as returned by type-erased async handlers.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// The four kinds of gRPC method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MethodKind {
    /// One request, one response.
    UnaryUnary,
    /// One request, a stream of responses.
    UnaryStream,
    /// A stream of requests, one response.
    StreamUnary,
    /// Streams both ways.
    StreamStream,
}

impl MethodKind {
    /// Whether the client sends a stream.
    pub const fn client_streaming(self) -> bool {
        matches!(self, MethodKind::StreamUnary | MethodKind::StreamStream)
    }
    /// Whether the server sends a stream.
    pub const fn server_streaming(self) -> bool {
        matches!(self, MethodKind::UnaryStream | MethodKind::StreamStream)
    }
}

/// A method of a service, as generated code describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MethodDescriptor {
    /// The full service name, e.g. `helloworld.Greeter`.
    pub service: &'static str,
    /// The method name as in the proto, e.g. `SayHello`.
    pub name: &'static str,
    /// The path, `/helloworld.Greeter/SayHello`.
    pub path: &'static str,
    /// The kind.
    pub kind: MethodKind,
}

/// A service, as generated code describes it (for registration, health and reflection).
#[derive(Clone, Copy, Debug)]
pub struct ServiceDescriptor {
    /// The full service name, e.g. `helloworld.Greeter`.
    pub name: &'static str,
    /// Its methods.
    pub methods: &'static [&'static MethodDescriptor],
    /// The encoded `FileDescriptorSet` of the proto files the service came from.
    pub file_descriptor_set: &'static [u8],
}

/// Messages a stub sends: any prost message.
pub trait OutMessage: prost::Message + Send + 'static {}
impl<T: prost::Message + Send + 'static> OutMessage for T {}

/// Messages a stub receives: any prost message with a default (to decode into).
pub trait InMessage: prost::Message + Default + Send + 'static {}
impl<T: prost::Message + Default + Send + 'static> InMessage for T {}

/// What a client channel offers generated stubs: one multi-callable per method kind.
///
/// `rpc_aio::Channel` and `rpc_sync::Channel` implement it with their multi-callables
/// (`UnaryUnaryMultiCallable` ...), so a stub method is "make the multi-callable of this
/// method, call it": the same code path as calling a method by name.
pub trait Channel: Clone + Send + Sync + 'static {
    /// The multi-callable of a unary-unary method.
    type UnaryUnary<Req: OutMessage, Resp: InMessage>: UnaryUnaryCallable<Req, Resp>;
    /// The multi-callable of a unary-stream method.
    type UnaryStream<Req: OutMessage, Resp: InMessage>: UnaryStreamCallable<Req, Resp>;
    /// The multi-callable of a stream-unary method.
    type StreamUnary<Req: OutMessage, Resp: InMessage>: StreamUnaryCallable<Req, Resp>;
    /// The multi-callable of a stream-stream method.
    type StreamStream<Req: OutMessage, Resp: InMessage>: StreamStreamCallable<Req, Resp>;

    /// The multi-callable of a unary-unary method.
    fn unary_unary<Req: OutMessage, Resp: InMessage>(&self, method: &'static MethodDescriptor) -> Self::UnaryUnary<Req, Resp>;
    /// The multi-callable of a unary-stream method.
    fn unary_stream<Req: OutMessage, Resp: InMessage>(&self, method: &'static MethodDescriptor) -> Self::UnaryStream<Req, Resp>;
    /// The multi-callable of a stream-unary method.
    fn stream_unary<Req: OutMessage, Resp: InMessage>(&self, method: &'static MethodDescriptor) -> Self::StreamUnary<Req, Resp>;
    /// The multi-callable of a stream-stream method.
    fn stream_stream<Req: OutMessage, Resp: InMessage>(&self, method: &'static MethodDescriptor) -> Self::StreamStream<Req, Resp>;
}

/// Calling a unary-unary method: gRPC Python's `UnaryUnaryMultiCallable`.
pub trait UnaryUnaryCallable<Req, Resp> {
    /// What `call` returns (blocking: `Result<Resp, RpcError>`; async: a call object that
    /// resolves to it).
    type Call;
    /// What `with_call` returns: the response together with the finished call.
    type WithCall;
    /// What `future` returns: a handle on a call running in the background.
    type Future;
    /// Makes the call.
    fn call(&self, request: Request<Req>) -> Self::Call;
    /// Makes the call, returning the response with the finished call.
    fn with_call(&self, request: Request<Req>) -> Self::WithCall;
    /// Starts the call in the background.
    fn future(&self, request: Request<Req>) -> Self::Future;
}

/// Calling a unary-stream method.
pub trait UnaryStreamCallable<Req, Resp> {
    /// What `call` returns (blocking: an iterator of responses; async: a stream).
    type Call;
    /// Starts the call.
    fn call(&self, request: Request<Req>) -> Self::Call;
}

/// Calling a stream-unary method.
pub trait StreamUnaryCallable<Req, Resp> {
    /// What `call` returns.
    type Call;
    /// What `with_call` returns.
    type WithCall;
    /// What `future` returns.
    type Future;
    /// Makes the call with the requests of `request`.
    fn call(&self, request: Request<RequestSource<Req>>) -> Self::Call;
    /// Makes the call, returning the response with the finished call.
    fn with_call(&self, request: Request<RequestSource<Req>>) -> Self::WithCall;
    /// Starts the call in the background.
    fn future(&self, request: Request<RequestSource<Req>>) -> Self::Future;
}

/// Calling a stream-stream method.
pub trait StreamStreamCallable<Req, Resp> {
    /// What `call` returns.
    type Call;
    /// Starts the call with the requests of `request`.
    fn call(&self, request: Request<RequestSource<Req>>) -> Self::Call;
}

/// What a stub's unary-unary method returns on channel `C`.
pub type UnaryUnaryCall<C, Req, Resp> = <<C as Channel>::UnaryUnary<Req, Resp> as UnaryUnaryCallable<Req, Resp>>::Call;
/// What a stub's `*_with_call` unary-unary method returns on channel `C`.
pub type UnaryUnaryWithCall<C, Req, Resp> = <<C as Channel>::UnaryUnary<Req, Resp> as UnaryUnaryCallable<Req, Resp>>::WithCall;
/// What a stub's `*_future` unary-unary method returns on channel `C`.
pub type UnaryUnaryFuture<C, Req, Resp> = <<C as Channel>::UnaryUnary<Req, Resp> as UnaryUnaryCallable<Req, Resp>>::Future;
/// What a stub's unary-stream method returns on channel `C`.
pub type UnaryStreamCall<C, Req, Resp> = <<C as Channel>::UnaryStream<Req, Resp> as UnaryStreamCallable<Req, Resp>>::Call;
/// What a stub's stream-unary method returns on channel `C`.
pub type StreamUnaryCall<C, Req, Resp> = <<C as Channel>::StreamUnary<Req, Resp> as StreamUnaryCallable<Req, Resp>>::Call;
/// What a stub's `*_with_call` stream-unary method returns on channel `C`.
pub type StreamUnaryWithCall<C, Req, Resp> = <<C as Channel>::StreamUnary<Req, Resp> as StreamUnaryCallable<Req, Resp>>::WithCall;
/// What a stub's `*_future` stream-unary method returns on channel `C`.
pub type StreamUnaryFuture<C, Req, Resp> = <<C as Channel>::StreamUnary<Req, Resp> as StreamUnaryCallable<Req, Resp>>::Future;
/// What a stub's stream-stream method returns on channel `C`.
pub type StreamStreamCall<C, Req, Resp> = <<C as Channel>::StreamStream<Req, Resp> as StreamStreamCallable<Req, Resp>>::Call;

/// A blocking unary-response behaviour.
pub type BlockingFn<In, Out> = Arc<dyn Fn(In, &ServicerContext) -> Result<Out, RpcError> + Send + Sync>;
/// An async behaviour; the context is owned so the future is `'static`.
pub type AsyncFn<In, Out> = Arc<dyn Fn(In, ServicerContext) -> BoxFuture<Result<Out, RpcError>> + Send + Sync>;

/// The behaviour of one method: one of the four kinds, blocking or async.
pub enum MethodHandler<Req, Resp> {
    /// Blocking unary-unary.
    BlockingUnaryUnary(BlockingFn<Req, Resp>),
    /// Blocking unary-stream.
    BlockingUnaryStream(BlockingFn<Req, ResponseIterator<Resp>>),
    /// Blocking stream-unary.
    BlockingStreamUnary(BlockingFn<RequestIterator<Req>, Resp>),
    /// Blocking stream-stream.
    BlockingStreamStream(BlockingFn<RequestIterator<Req>, ResponseIterator<Resp>>),
    /// Async unary-unary.
    AsyncUnaryUnary(AsyncFn<Req, Resp>),
    /// Async unary-stream.
    AsyncUnaryStream(AsyncFn<Req, ResponseStream<Resp>>),
    /// Async stream-unary.
    AsyncStreamUnary(AsyncFn<RequestStream<Req>, Resp>),
    /// Async stream-stream.
    AsyncStreamStream(AsyncFn<RequestStream<Req>, ResponseStream<Resp>>),
}

impl<Req, Resp> MethodHandler<Req, Resp> {
    /// The kind of method this behaviour serves.
    pub fn kind(&self) -> MethodKind {
        use MethodHandler::*;
        match self {
            BlockingUnaryUnary(_) | AsyncUnaryUnary(_) => MethodKind::UnaryUnary,
            BlockingUnaryStream(_) | AsyncUnaryStream(_) => MethodKind::UnaryStream,
            BlockingStreamUnary(_) | AsyncStreamUnary(_) => MethodKind::StreamUnary,
            BlockingStreamStream(_) | AsyncStreamStream(_) => MethodKind::StreamStream,
        }
    }

    /// Whether the behaviour blocks (and so runs on a worker thread).
    pub fn is_blocking(&self) -> bool {
        use MethodHandler::*;
        matches!(
            self,
            BlockingUnaryUnary(_) | BlockingUnaryStream(_) | BlockingStreamUnary(_) | BlockingStreamStream(_)
        )
    }
}

impl<Req, Resp> Clone for MethodHandler<Req, Resp> {
    fn clone(&self) -> Self {
        use MethodHandler::*;
        match self {
            BlockingUnaryUnary(f) => BlockingUnaryUnary(f.clone()),
            BlockingUnaryStream(f) => BlockingUnaryStream(f.clone()),
            BlockingStreamUnary(f) => BlockingStreamUnary(f.clone()),
            BlockingStreamStream(f) => BlockingStreamStream(f.clone()),
            AsyncUnaryUnary(f) => AsyncUnaryUnary(f.clone()),
            AsyncUnaryStream(f) => AsyncUnaryStream(f.clone()),
            AsyncStreamUnary(f) => AsyncStreamUnary(f.clone()),
            AsyncStreamStream(f) => AsyncStreamStream(f.clone()),
        }
    }
}

impl<Req, Resp> fmt::Debug for MethodHandler<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MethodHandler")
            .field("kind", &self.kind())
            .field("blocking", &self.is_blocking())
            .finish()
    }
}

/// What a server offers generated registration functions.
pub trait Server {
    /// Registers the behaviour of one method. Registering a path again replaces it;
    /// registering after `start` takes effect for RPCs that arrive afterwards.
    fn add_method<Req, Resp>(&self, method: &'static MethodDescriptor, handler: MethodHandler<Req, Resp>)
    where
        Req: prost::Message + Default + Send + 'static,
        Resp: prost::Message + Send + 'static;

    /// Records a service as served (for health and reflection).
    fn add_service_descriptor(&self, service: &'static ServiceDescriptor);
}

/// Marks a servicer implemented with the blocking servicer trait.
#[derive(Debug)]
pub enum Blocking {}
/// Marks a servicer implemented with the async servicer trait.
#[derive(Debug)]
pub enum Async {}

pub use crate::context::ServicerContext as Context;
pub use crate::request::{RequestSource as Source, StreamRequests, WriteRequests};

pub use crate::streams::{
    RequestIterator as ReqIter, RequestStream as ReqStream, ResponseIterator as RespIter, ResponseStream as RespStream,
};

/// Implements the contract for one face, so the two faces' implementations are one text:
/// the four callable traits for the face's `MultiCallable<K, Req, Resp, C>` (forwarding to
/// its inherent `call` / `with_call` / `future`) and [`Channel`] for its channel (through
/// the channel's `multicallable_for(method)`). `kind` must name the face's kind markers.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_codegen_contract {
    (
        channel = $channel:ty,
        multicallable = $mc:ident,
        unary_unary = ($uu_call:ty, $uu_with:ty, $uu_fut:ty),
        unary_stream = $us_call:ty,
        stream_unary = ($su_call:ty, $su_with:ty, $su_fut:ty),
        stream_stream = $ss_call:ty $(,)?
    ) => {
        impl<Req, Resp, C> $crate::codegen::UnaryUnaryCallable<Req, Resp> for $mc<kind::UnaryUnary, Req, Resp, C>
        where
            Req: $crate::codegen::OutMessage,
            Resp: $crate::codegen::InMessage,
            C: $crate::codec::Encoder<Req> + $crate::codec::Decoder<Resp>,
        {
            type Call = $uu_call;
            type WithCall = $uu_with;
            type Future = $uu_fut;
            fn call(&self, request: $crate::Request<Req>) -> $uu_call {
                <$mc<kind::UnaryUnary, Req, Resp, C>>::call(self, request)
            }
            fn with_call(&self, request: $crate::Request<Req>) -> $uu_with {
                <$mc<kind::UnaryUnary, Req, Resp, C>>::with_call(self, request)
            }
            fn future(&self, request: $crate::Request<Req>) -> $uu_fut {
                <$mc<kind::UnaryUnary, Req, Resp, C>>::future(self, request)
            }
        }

        impl<Req, Resp, C> $crate::codegen::UnaryStreamCallable<Req, Resp> for $mc<kind::UnaryStream, Req, Resp, C>
        where
            Req: $crate::codegen::OutMessage,
            Resp: $crate::codegen::InMessage,
            C: $crate::codec::Encoder<Req> + $crate::codec::Decoder<Resp>,
        {
            type Call = $us_call;
            fn call(&self, request: $crate::Request<Req>) -> $us_call {
                <$mc<kind::UnaryStream, Req, Resp, C>>::call(self, request)
            }
        }

        impl<Req, Resp, C> $crate::codegen::StreamUnaryCallable<Req, Resp> for $mc<kind::StreamUnary, Req, Resp, C>
        where
            Req: $crate::codegen::OutMessage,
            Resp: $crate::codegen::InMessage,
            C: $crate::codec::Encoder<Req> + $crate::codec::Decoder<Resp>,
        {
            type Call = $su_call;
            type WithCall = $su_with;
            type Future = $su_fut;
            fn call(&self, request: $crate::Request<$crate::RequestSource<Req>>) -> $su_call {
                <$mc<kind::StreamUnary, Req, Resp, C>>::call(self, request)
            }
            fn with_call(&self, request: $crate::Request<$crate::RequestSource<Req>>) -> $su_with {
                <$mc<kind::StreamUnary, Req, Resp, C>>::with_call(self, request)
            }
            fn future(&self, request: $crate::Request<$crate::RequestSource<Req>>) -> $su_fut {
                <$mc<kind::StreamUnary, Req, Resp, C>>::future(self, request)
            }
        }

        impl<Req, Resp, C> $crate::codegen::StreamStreamCallable<Req, Resp> for $mc<kind::StreamStream, Req, Resp, C>
        where
            Req: $crate::codegen::OutMessage,
            Resp: $crate::codegen::InMessage,
            C: $crate::codec::Encoder<Req> + $crate::codec::Decoder<Resp>,
        {
            type Call = $ss_call;
            fn call(&self, request: $crate::Request<$crate::RequestSource<Req>>) -> $ss_call {
                <$mc<kind::StreamStream, Req, Resp, C>>::call(self, request)
            }
        }

        impl $crate::codegen::Channel for $channel {
            type UnaryUnary<Req: $crate::codegen::OutMessage, Resp: $crate::codegen::InMessage> = $mc<kind::UnaryUnary, Req, Resp>;
            type UnaryStream<Req: $crate::codegen::OutMessage, Resp: $crate::codegen::InMessage> = $mc<kind::UnaryStream, Req, Resp>;
            type StreamUnary<Req: $crate::codegen::OutMessage, Resp: $crate::codegen::InMessage> = $mc<kind::StreamUnary, Req, Resp>;
            type StreamStream<Req: $crate::codegen::OutMessage, Resp: $crate::codegen::InMessage> = $mc<kind::StreamStream, Req, Resp>;

            fn unary_unary<Req: $crate::codegen::OutMessage, Resp: $crate::codegen::InMessage>(
                &self,
                method: &'static $crate::codegen::MethodDescriptor,
            ) -> $mc<kind::UnaryUnary, Req, Resp> {
                self.multicallable_for(method)
            }
            fn unary_stream<Req: $crate::codegen::OutMessage, Resp: $crate::codegen::InMessage>(
                &self,
                method: &'static $crate::codegen::MethodDescriptor,
            ) -> $mc<kind::UnaryStream, Req, Resp> {
                self.multicallable_for(method)
            }
            fn stream_unary<Req: $crate::codegen::OutMessage, Resp: $crate::codegen::InMessage>(
                &self,
                method: &'static $crate::codegen::MethodDescriptor,
            ) -> $mc<kind::StreamUnary, Req, Resp> {
                self.multicallable_for(method)
            }
            fn stream_stream<Req: $crate::codegen::OutMessage, Resp: $crate::codegen::InMessage>(
                &self,
                method: &'static $crate::codegen::MethodDescriptor,
            ) -> $mc<kind::StreamStream, Req, Resp> {
                self.multicallable_for(method)
            }
        }
    };
}
