//! The `*_rpc_method_handler` constructors of the blocking face: handlers from blocking
//! functions, for servers built without generated code (gRPC Python's
//! `grpc.unary_unary_rpc_method_handler` and friends). The handler types are rpc-aio's.

/// The handler types are rpc-aio's: one type for both servers.
#[doc(no_inline)]
pub use rpc_aio::{GenericRpcHandler, HandlerCallDetails, RpcMethodHandler, method_handlers_generic_handler};
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
