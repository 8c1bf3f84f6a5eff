//! Helpers of the face-specific tests: for rpc-aio tests on their own runtime
//! (`#[tokio::test]`), the test service on an rpc-aio server and handlers registered by
//! hand (constructors typed for [`Msg`]); a channel of either face; a port nothing listens
//! on; and [`Raw`], a message the test service cannot decode.

use crate::pb::{Msg, SvcStub};
use crate::probe::Probe;
use crate::servicer::Style;
use crate::wait::bounded;
use rpc_aio::{RpcMethodHandler, Server};
use rpc_core::{RequestIterator, ResponseIterator, RpcError, ServerCredentials, ServerOptions, ServicerContext};
use std::sync::Arc;

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

/// An rpc-sync channel to `target` with default options.
pub fn sync_channel(target: &str) -> rpc_sync::Channel {
    rpc_sync::insecure_channel(target, rpc_core::ChannelOptions::default()).expect("a channel")
}

/// A loopback port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// The test service (`style` handlers) on an rpc-aio server started on 127.0.0.1 (a free
/// port, with `credentials`) on the current runtime; returns it, its port and its probe.
pub async fn serve_service(style: Style, options: ServerOptions, credentials: ServerCredentials) -> (Server, u16, Arc<Probe>) {
    let server = rpc_aio::server(options);
    let probe = Probe::new();
    style.register(&server, &probe);
    let port = server.add_secure_port("127.0.0.1:0", credentials).expect("a loopback port");
    server.start().await.expect("the server starts");
    (server, port, probe)
}

/// Asserts the server on `port` still answers a normal call from a fresh channel.
pub async fn assert_serving(port: u16) {
    let stub = SvcStub::new(aio_channel(&format!("127.0.0.1:{port}")));
    let reply = bounded(stub.unary(crate::msg("still-there"))).await;
    assert_eq!(reply.expect("a normal call").text, "echo:still-there");
}
