//! `RpcMethodHandler` (the behaviour of one method, type-erased, blocking or async, with
//! its codec), its `*_rpc_method_handler` constructors, and `GenericRpcHandler` with
//! `method_handlers_generic_handler`, for servers built without generated code.

use crate::outcome::RpcOutcome;
use crate::server::rpc::context::{Hook, Rpc};
use crate::server::rpc::invoke;
use crate::server::rpc::responses::{ServerBody, error_response};
use futures::future::BoxFuture;
use hyper::body::Incoming;
use rpc_core::codec::{Bytes, BytesCodec, Decoder, Encoder, ProstCodec};
use rpc_core::codegen::{MethodHandler, MethodKind};
use rpc_core::{Metadata, RequestStream, ResponseStream, RpcError, ServicerContext, StatusCode};
use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

/// What an erased handler does with one RPC.
pub(crate) trait ErasedMethod: Send + Sync + 'static {
    fn serve(&self, request: http::Request<Incoming>, rpc: Rpc) -> BoxFuture<'static, http::Response<ServerBody>>;
}

struct Typed<Req, Resp, C> {
    handler: MethodHandler<Req, Resp>,
    codec: Arc<C>,
}

impl<Req, Resp, C> ErasedMethod for Typed<Req, Resp, C>
where
    Req: Send + 'static,
    Resp: Send + 'static,
    C: Decoder<Req> + Encoder<Resp>,
{
    fn serve(&self, request: http::Request<Incoming>, rpc: Rpc) -> BoxFuture<'static, http::Response<ServerBody>> {
        Box::pin(invoke::serve(self.handler.clone(), request, rpc, self.codec.clone()))
    }
}

/// A handler with one more interceptor hook.
struct Hooked {
    inner: Arc<dyn ErasedMethod>,
    hook: Hook,
}

impl ErasedMethod for Hooked {
    fn serve(&self, request: http::Request<Incoming>, mut rpc: Rpc) -> BoxFuture<'static, http::Response<ServerBody>> {
        rpc.hooks.add(self.hook.clone());
        self.inner.serve(request, rpc)
    }
}

struct Abort(RpcError);

impl ErasedMethod for Abort {
    fn serve(&self, _request: http::Request<Incoming>, rpc: Rpc) -> BoxFuture<'static, http::Response<ServerBody>> {
        Box::pin(std::future::ready(error_response(rpc, self.0.clone())))
    }
}

/// The behaviour of one method (gRPC Python's `RpcMethodHandler`): one of the four kinds,
/// blocking or async, with its message types erased so handlers of every method can be
/// stored, chosen by interceptors and registered together. Cheap to clone.
///
/// Blocking behaviours run on the server's bounded worker pool; async ones on the runtime.
#[derive(Clone)]
pub struct RpcMethodHandler {
    pub(crate) inner: Arc<dyn ErasedMethod>,
    kind: MethodKind,
    blocking: bool,
}

impl RpcMethodHandler {
    /// Erases a typed behaviour with prost messages (what generated registration code builds).
    pub fn new<Req, Resp>(handler: MethodHandler<Req, Resp>) -> RpcMethodHandler
    where
        Req: prost::Message + Default + Send + 'static,
        Resp: prost::Message + Send + 'static,
    {
        RpcMethodHandler::with_codec(handler, ProstCodec)
    }

    /// Erases a typed behaviour whose requests are decoded and responses encoded by
    /// `codec` (raw bytes, closures, dynamic messages: see `rpc_core::codec`).
    pub fn with_codec<Req, Resp, C>(handler: MethodHandler<Req, Resp>, codec: C) -> RpcMethodHandler
    where
        Req: Send + 'static,
        Resp: Send + 'static,
        C: Decoder<Req> + Encoder<Resp>,
    {
        RpcMethodHandler {
            kind: handler.kind(),
            blocking: handler.is_blocking(),
            inner: Arc::new(Typed {
                handler,
                codec: Arc::new(codec),
            }),
        }
    }

    /// A handler that ends every RPC at once with `code` and `details` (e.g. returned by an
    /// interceptor that rejects a call). An OK code becomes UNKNOWN, as with `abort`.
    pub fn abort(code: StatusCode, details: impl Into<String>) -> RpcMethodHandler {
        let code = if code == StatusCode::Ok { StatusCode::Unknown } else { code };
        RpcMethodHandler::abort_with_status(RpcError::new(code, details))
    }

    /// A handler that ends every RPC at once with `status` (its trailing metadata and rich
    /// details included).
    pub fn abort_with_status(status: RpcError) -> RpcMethodHandler {
        RpcMethodHandler {
            inner: Arc::new(Abort(status)),
            kind: MethodKind::UnaryUnary,
            blocking: false,
        }
    }

    /// The kind of method this handler serves.
    pub fn kind(&self) -> MethodKind {
        self.kind
    }

    /// Whether the behaviour blocks (it runs on the worker pool).
    pub fn is_blocking(&self) -> bool {
        self.blocking
    }

    fn hooked(self, hook: Hook) -> RpcMethodHandler {
        RpcMethodHandler {
            inner: Arc::new(Hooked { inner: self.inner, hook }),
            ..self
        }
    }

    /// This handler, with `hook` run on each request message after it is decoded and
    /// before the handler gets it (for every kind of method, blocking or async); it may
    /// read the message or change it in place (`message.downcast_mut::<Request>()`).
    ///
    /// For interceptors: `continuation.run(details).await.map(|h| h.on_request(..))` wraps
    /// the handler the rest of the chain chose. Request hooks of the outer wrappers run
    /// first. Hooks run on the server's runtime, so they must not block.
    pub fn on_request(self, hook: impl Fn(&mut (dyn Any + Send)) + Send + Sync + 'static) -> RpcMethodHandler {
        self.hooked(Hook::Request(Arc::new(hook)))
    }

    /// This handler, with `hook` run on each response message the handler produces,
    /// before it is encoded and sent; it may read the message or change it in place.
    /// Response hooks of the inner wrappers run first. They must not block. They run on
    /// the server's runtime, or, for a blocking server-streaming handler, on the worker
    /// that pulls and encodes its responses.
    pub fn on_response(self, hook: impl Fn(&mut (dyn Any + Send)) + Send + Sync + 'static) -> RpcMethodHandler {
        self.hooked(Hook::Response(Arc::new(hook)))
    }

    /// This handler, with `hook` run once per RPC with its final status (the code,
    /// details and trailing metadata the handler produced, as they are sent) and how long
    /// the RPC took from the moment the handler was given it. An RPC that ends without a
    /// status (the client cancelled it, or the server stopped) reports CANCELLED (or
    /// UNAVAILABLE when the server's grace period ended). Status hooks of the inner
    /// wrappers run first. They must not block.
    pub fn on_status(self, hook: impl Fn(&RpcOutcome) + Send + Sync + 'static) -> RpcMethodHandler {
        self.hooked(Hook::Status(Arc::new(hook)))
    }
}

impl fmt::Debug for RpcMethodHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RpcMethodHandler")
            .field("kind", &self.kind)
            .field("blocking", &self.blocking)
            .finish()
    }
}

/// An async unary-unary handler from an async function of the request and the context.
pub fn unary_unary_rpc_method_handler<Req, Resp, F, Fut>(behaviour: F) -> RpcMethodHandler
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
    F: Fn(Req, ServicerContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Resp, RpcError>> + Send + 'static,
{
    RpcMethodHandler::new(MethodHandler::AsyncUnaryUnary(Arc::new(move |r, c| Box::pin(behaviour(r, c)))))
}

/// An async unary-stream handler: the function returns the stream of responses.
pub fn unary_stream_rpc_method_handler<Req, Resp, F, Fut>(behaviour: F) -> RpcMethodHandler
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
    F: Fn(Req, ServicerContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ResponseStream<Resp>, RpcError>> + Send + 'static,
{
    RpcMethodHandler::new(MethodHandler::AsyncUnaryStream(Arc::new(move |r, c| Box::pin(behaviour(r, c)))))
}

/// An async stream-unary handler: the function gets the stream of requests.
pub fn stream_unary_rpc_method_handler<Req, Resp, F, Fut>(behaviour: F) -> RpcMethodHandler
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
    F: Fn(RequestStream<Req>, ServicerContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Resp, RpcError>> + Send + 'static,
{
    RpcMethodHandler::new(MethodHandler::AsyncStreamUnary(Arc::new(move |r, c| Box::pin(behaviour(r, c)))))
}

/// An async stream-stream handler.
pub fn stream_stream_rpc_method_handler<Req, Resp, F, Fut>(behaviour: F) -> RpcMethodHandler
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
    F: Fn(RequestStream<Req>, ServicerContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ResponseStream<Resp>, RpcError>> + Send + 'static,
{
    RpcMethodHandler::new(MethodHandler::AsyncStreamStream(Arc::new(move |r, c| Box::pin(behaviour(r, c)))))
}

/// What a generic handler and an interceptor know about an RPC before a handler is chosen
/// (gRPC Python's `HandlerCallDetails`).
#[derive(Clone, Debug)]
pub struct HandlerCallDetails {
    /// The full method path, `/package.Service/Method`.
    pub method: String,
    /// The metadata the client sent.
    pub invocation_metadata: Metadata,
}

type Lookup = dyn Fn(&HandlerCallDetails) -> Option<RpcMethodHandler> + Send + Sync;

/// Chooses the handler of an RPC from its details (gRPC Python's `GenericRpcHandler`);
/// `None` passes the RPC on to the next generic handler (and finally UNIMPLEMENTED).
#[derive(Clone)]
pub struct GenericRpcHandler {
    lookup: Arc<Lookup>,
}

impl GenericRpcHandler {
    /// A generic handler from a lookup function.
    pub fn new(lookup: impl Fn(&HandlerCallDetails) -> Option<RpcMethodHandler> + Send + Sync + 'static) -> GenericRpcHandler {
        GenericRpcHandler { lookup: Arc::new(lookup) }
    }

    /// The handler for the RPC, if this generic handler serves it.
    pub fn service(&self, details: &HandlerCallDetails) -> Option<RpcMethodHandler> {
        (self.lookup)(details)
    }
}

impl fmt::Debug for GenericRpcHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GenericRpcHandler")
    }
}

/// A generic handler that serves every RPC, whatever its path and kind, with raw messages:
/// `behaviour` gets the request messages as their encoded payloads, untouched (one message
/// for a unary-request method), and returns the response messages, sent as they are. The
/// method is `context.method()`. For proxies, gateways and recorders that pass messages
/// on without knowing their types (the `proxy` example forwards every method to a
/// backend channel). Register it last: it serves whatever the handlers before it did not.
///
/// A stream item that is an `Err` ends the RPC with that status (its trailing metadata
/// included); responses already sent stay sent.
///
/// ```no_run
/// # #[tokio::main]
/// # async fn main() -> Result<(), rpc_aio::RpcError> {
/// use rpc_aio::{RequestStream, ResponseStream};
/// let server = rpc_aio::server(rpc_aio::ServerOptions::default());
/// // Every method echoes its requests back, byte for byte.
/// server.add_generic_rpc_handlers([rpc_aio::raw_generic_rpc_handler(
///     |requests: RequestStream<rpc_aio::codec::Bytes>, _context| async move { Ok(ResponseStream::new(requests)) },
/// )]);
/// server.add_insecure_port("127.0.0.1:50051")?;
/// server.start().await?;
/// # Ok(()) }
/// ```
pub fn raw_generic_rpc_handler<F, Fut>(behaviour: F) -> GenericRpcHandler
where
    F: Fn(RequestStream<Bytes>, ServicerContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ResponseStream<Bytes>, RpcError>> + Send + 'static,
{
    // A stream-stream behaviour: on the wire, every kind of RPC is a stream of messages each way.
    let stream_stream = MethodHandler::AsyncStreamStream(Arc::new(move |r, c| Box::pin(behaviour(r, c))));
    let handler = RpcMethodHandler::with_codec(stream_stream, BytesCodec);
    GenericRpcHandler::new(move |_| Some(handler.clone()))
}

/// A generic handler serving the methods of one service by name (gRPC Python's
/// `method_handlers_generic_handler`): `handlers` maps method names (`SayHello`) to handlers,
/// served at `/{service}/{name}`.
pub fn method_handlers_generic_handler<K: Into<String>>(
    service: &str,
    handlers: impl IntoIterator<Item = (K, RpcMethodHandler)>,
) -> GenericRpcHandler {
    let table: HashMap<String, RpcMethodHandler> = handlers
        .into_iter()
        .map(|(name, h)| (format!("/{service}/{}", name.into()), h))
        .collect();
    GenericRpcHandler::new(move |details| table.get(&details.method).cloned())
}
