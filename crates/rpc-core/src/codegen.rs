//! The contract between generated code and the two faces: the traits and types that
//! `rpc-build` output is written against, and nothing else.
//!
//! A generated stub is generic over [`Channel`]; `rpc_aio::Channel` and
//! `rpc_sync::Channel` implement it, so one stub serves both faces. Generated
//! registration functions are generic over [`Server`], which both servers implement.

use crate::context::ServicerContext;
use crate::error::RpcError;
use crate::request::{Request, RequestSource};
use crate::streams::{RequestIterator, RequestStream, ResponseIterator, ResponseStream};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

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

/// What a client channel offers generated stubs. The associated types are what a call
/// returns: values in the blocking face, awaitable call objects in the async face.
pub trait Channel: Clone + Send + Sync + 'static {
    /// What a unary-response call returns (blocking: `Result<Resp, RpcError>`;
    /// async: a call object that resolves to it).
    type Unary<Resp: prost::Message + Default + Send + 'static>;
    /// What a `*_with_call` method returns: the response together with the finished call.
    type UnaryWithCall<Resp: prost::Message + Default + Send + 'static>;
    /// What a `*_future` method returns: a handle on a call running in the background.
    type UnaryFuture<Resp: prost::Message + Default + Send + 'static>;
    /// What a unary-stream call returns (blocking: an iterator; async: a stream).
    type Streaming<Resp: prost::Message + Default + Send + 'static>;
    /// What a stream-unary call returns (blocking: `Result<Resp, RpcError>`; async: a call
    /// object that can also `write` requests of type `Req`).
    type StreamUnary<Req: prost::Message + Send + 'static, Resp: prost::Message + Default + Send + 'static>;
    /// What a stream-unary `*_with_call` method returns.
    type StreamUnaryWithCall<Req: prost::Message + Send + 'static, Resp: prost::Message + Default + Send + 'static>;
    /// What a stream-unary `*_future` method returns.
    type StreamUnaryFuture<Req: prost::Message + Send + 'static, Resp: prost::Message + Default + Send + 'static>;
    /// What a stream-stream call returns (blocking: an iterator; async: a stream that can also `write`).
    type StreamStream<Req: prost::Message + Send + 'static, Resp: prost::Message + Default + Send + 'static>;

    /// Starts a unary-unary call.
    fn unary_unary<Req, Resp>(&self, method: &'static MethodDescriptor, request: Request<Req>) -> Self::Unary<Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static;

    /// Starts a unary-unary call, returning the response with the call.
    fn unary_unary_with_call<Req, Resp>(&self, method: &'static MethodDescriptor, request: Request<Req>) -> Self::UnaryWithCall<Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static;

    /// Starts a unary-unary call in the background.
    fn unary_unary_future<Req, Resp>(&self, method: &'static MethodDescriptor, request: Request<Req>) -> Self::UnaryFuture<Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static;

    /// Starts a unary-stream call.
    fn unary_stream<Req, Resp>(&self, method: &'static MethodDescriptor, request: Request<Req>) -> Self::Streaming<Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static;

    /// Starts a stream-unary call.
    fn stream_unary<Req, Resp>(
        &self,
        method: &'static MethodDescriptor,
        request: Request<RequestSource<Req>>,
    ) -> Self::StreamUnary<Req, Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static;

    /// Starts a stream-unary call, returning the response with the call.
    fn stream_unary_with_call<Req, Resp>(
        &self,
        method: &'static MethodDescriptor,
        request: Request<RequestSource<Req>>,
    ) -> Self::StreamUnaryWithCall<Req, Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static;

    /// Starts a stream-unary call in the background.
    fn stream_unary_future<Req, Resp>(
        &self,
        method: &'static MethodDescriptor,
        request: Request<RequestSource<Req>>,
    ) -> Self::StreamUnaryFuture<Req, Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static;

    /// Starts a stream-stream call.
    fn stream_stream<Req, Resp>(
        &self,
        method: &'static MethodDescriptor,
        request: Request<RequestSource<Req>>,
    ) -> Self::StreamStream<Req, Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static;
}

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
