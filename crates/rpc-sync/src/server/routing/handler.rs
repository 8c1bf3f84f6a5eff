//! The `*_rpc_method_handler` constructors of the blocking face: handlers from blocking
//! functions, for servers built without generated code (gRPC Python's
//! `grpc.unary_unary_rpc_method_handler` and friends). The handler types are rpc-aio's.

/// The handler types are rpc-aio's: one type for both servers.
#[doc(no_inline)]
pub use rpc_aio::{GenericRpcHandler, HandlerCallDetails, RpcMethodHandler, method_handlers_generic_handler};
use rpc_core::codec::{Bytes, BytesCodec};
use rpc_core::codegen::MethodHandler;
use rpc_core::{RequestIterator, ResponseIterator, RpcError, ServicerContext};
use std::sync::Arc;

/// A blocking unary-unary handler (run on the server's worker pool).
pub fn unary_unary_rpc_method_handler<Req, Resp, F>(behaviour: F) -> RpcMethodHandler
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
    F: Fn(Req, &ServicerContext) -> Result<Resp, RpcError> + Send + Sync + 'static,
{
    RpcMethodHandler::new(MethodHandler::BlockingUnaryUnary(Arc::new(behaviour)))
}

/// A blocking unary-stream handler: the function returns an iterator of responses, pulled
/// on the worker thread (so it may block between items).
pub fn unary_stream_rpc_method_handler<Req, Resp, F>(behaviour: F) -> RpcMethodHandler
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
    F: Fn(Req, &ServicerContext) -> Result<ResponseIterator<Resp>, RpcError> + Send + Sync + 'static,
{
    RpcMethodHandler::new(MethodHandler::BlockingUnaryStream(Arc::new(behaviour)))
}

/// A blocking stream-unary handler: the function gets a blocking iterator of requests.
pub fn stream_unary_rpc_method_handler<Req, Resp, F>(behaviour: F) -> RpcMethodHandler
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
    F: Fn(RequestIterator<Req>, &ServicerContext) -> Result<Resp, RpcError> + Send + Sync + 'static,
{
    RpcMethodHandler::new(MethodHandler::BlockingStreamUnary(Arc::new(behaviour)))
}

/// A blocking stream-stream handler.
pub fn stream_stream_rpc_method_handler<Req, Resp, F>(behaviour: F) -> RpcMethodHandler
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
    F: Fn(RequestIterator<Req>, &ServicerContext) -> Result<ResponseIterator<Resp>, RpcError> + Send + Sync + 'static,
{
    RpcMethodHandler::new(MethodHandler::BlockingStreamStream(Arc::new(behaviour)))
}

/// A generic handler that serves every RPC, whatever its path and kind, with raw messages,
/// blocking (run on the server's worker pool, which it holds for the whole RPC):
/// `behaviour` gets an iterator of the request messages as their encoded payloads (one
/// message for a unary-request method) and returns the response messages, sent as they
/// are. The method is `context.method()`. For proxies and recorders that pass messages on
/// without knowing their types. Register it last: it serves whatever the handlers before
/// it did not.
///
/// An `Err` from the iterator ends the RPC with that status (its trailing metadata
/// included); responses already sent stay sent.
///
/// ```no_run
/// # fn main() -> Result<(), rpc_sync::RpcError> {
/// use rpc_sync::{RequestIterator, ResponseIterator};
/// let server = rpc_sync::server(rpc_sync::ServerOptions::default())?;
/// // Every method echoes its requests back, byte for byte.
/// server.add_generic_rpc_handlers([rpc_sync::raw_generic_rpc_handler(
///     |requests: RequestIterator<rpc_sync::codec::Bytes>, _context: &_| Ok(ResponseIterator::new(requests)),
/// )]);
/// server.add_insecure_port("127.0.0.1:50051")?;
/// server.start()?;
/// # Ok(()) }
/// ```
pub fn raw_generic_rpc_handler<F>(behaviour: F) -> GenericRpcHandler
where
    F: Fn(RequestIterator<Bytes>, &ServicerContext) -> Result<ResponseIterator<Bytes>, RpcError> + Send + Sync + 'static,
{
    // A stream-stream behaviour: on the wire, every kind of RPC is a stream of messages each way.
    let handler = RpcMethodHandler::with_codec(MethodHandler::BlockingStreamStream(Arc::new(behaviour)), BytesCodec);
    GenericRpcHandler::new(move |_| Some(handler.clone()))
}
