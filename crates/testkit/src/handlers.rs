//! Helpers of the rpc-aio server tests that register handlers by hand: handler
//! constructors typed for [`Msg`], a server started with them, a channel to it, a port
//! nothing listens on, and [`Raw`], a message the test service cannot decode.

use crate::pb::Msg;
use rpc_aio::{RpcMethodHandler, Server};
use rpc_core::{RequestIterator, ResponseIterator, RpcError, ServerOptions, ServicerContext};

/// A message whose field 1 is bytes: with invalid UTF-8 there it does not decode as a [`Msg`].
#[derive(Clone, PartialEq, prost::Message)]
pub struct Raw {
    /// Sent where [`Msg::text`] is expected.
    #[prost(bytes = "vec", tag = "1")]
    pub text: Vec<u8>,
}

/// A blocking unary-unary handler of [`Msg`]s.
pub fn blocking_unary(f: impl Fn(Msg, &ServicerContext) -> Result<Msg, RpcError> + Send + Sync + 'static) -> RpcMethodHandler {
    rpc_sync::unary_unary_rpc_method_handler(f)
}

/// A blocking unary-stream handler of [`Msg`]s.
pub fn blocking_unary_stream(
    f: impl Fn(Msg, &ServicerContext) -> Result<ResponseIterator<Msg>, RpcError> + Send + Sync + 'static,
) -> RpcMethodHandler {
    rpc_sync::unary_stream_rpc_method_handler(f)
}

/// A blocking stream-unary handler of [`Msg`]s.
pub fn blocking_stream_unary(
    f: impl Fn(RequestIterator<Msg>, &ServicerContext) -> Result<Msg, RpcError> + Send + Sync + 'static,
) -> RpcMethodHandler {
    rpc_sync::stream_unary_rpc_method_handler(f)
}

/// A blocking stream-stream handler of [`Msg`]s.
pub fn blocking_stream_stream(
    f: impl Fn(RequestIterator<Msg>, &ServicerContext) -> Result<ResponseIterator<Msg>, RpcError> + Send + Sync + 'static,
) -> RpcMethodHandler {
    rpc_sync::stream_stream_rpc_method_handler(f)
}

/// An async unary-unary handler that replies `echo:<text>`.
pub fn echo_handler() -> RpcMethodHandler {
    rpc_aio::unary_unary_rpc_method_handler(|m: Msg, _ctx| async move {
        Ok::<_, RpcError>(Msg {
            text: format!("echo:{}", m.text),
            ..m
        })
    })
}

/// An rpc-aio server with `register`ed handlers, started on 127.0.0.1 (a free port) on the
/// current runtime; returns it and its target.
pub async fn serve_aio(options: ServerOptions, register: impl FnOnce(&Server)) -> (Server, String) {
    let server = rpc_aio::server(options);
    register(&server);
    let port = server.add_insecure_port("127.0.0.1:0").expect("a loopback port");
    server.start().await.expect("the server starts");
    (server, format!("127.0.0.1:{port}"))
}

/// An rpc-aio channel to `target` with default options.
pub fn aio_channel(target: &str) -> rpc_aio::Channel {
    rpc_aio::insecure_channel(target, rpc_core::ChannelOptions::default()).expect("a channel")
}

/// A loopback port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}
