//! In-process serving for users' tests in the blocking face: a started server on an
//! ephemeral loopback port and a channel connected to it, behind one call ([`serve`]); the
//! server stops when the [`TestServer`] is dropped. Mirrors `rpc_aio::testing`.
//!
//! ```no_run
//! # fn main() -> Result<(), rpc_sync::RpcError> {
//! // use my_protos::{GreeterStub, HelloRequest, add_greeter_servicer_to_server};
//! let (server, channel) = rpc_sync::testing::serve(|server| {
//!     // add_greeter_servicer_to_server(MyGreeter, server);
//!     # let _ = server;
//! })?;
//! // let reply = GreeterStub::new(channel).say_hello(HelloRequest { name: "test".into() })?;
//! # let _ = channel;
//! drop(server); // stops it
//! # Ok(()) }
//! ```

use crate::bridge;
use crate::runtime::RuntimeHandle;
use crate::{Channel, Server};
use rpc_core::{ChannelOptions, RpcError, ServerOptions};
use std::time::Duration;

/// How long dropping a [`TestServer`] waits for the server to terminate.
const DROP_WAIT: Duration = Duration::from_secs(5);

/// Starts a blocking server with default options on `127.0.0.1` (a free port chosen by the
/// system), after `register` has added its servicers, and returns it with a channel
/// connected to it.
///
/// # Errors
/// UNAVAILABLE if no loopback port can be bound or the private runtime cannot start;
/// FAILED_PRECONDITION when called inside an async runtime (use `rpc_aio::testing` there).
pub fn serve(register: impl FnOnce(&Server)) -> Result<(TestServer, Channel), RpcError> {
    serve_with_options(ServerOptions::default(), ChannelOptions::default(), register)
}

/// [`serve`] with server and channel options (worker count, size limits, compression, ...).
///
/// # Errors
/// As [`serve`], and INVALID_ARGUMENT for channel options the channel refuses.
pub fn serve_with_options(
    server_options: ServerOptions,
    channel_options: ChannelOptions,
    register: impl FnOnce(&Server),
) -> Result<(TestServer, Channel), RpcError> {
    let server = Server::new(server_options)?;
    register(&server);
    TestServer::start(server, channel_options)
}

/// A started blocking server serving a test, on a loopback port of its own.
///
/// # Drop behavior
/// Dropping it stops the server at once (`stop(None)`: RPCs in flight are cancelled) and
/// waits up to five seconds for it to terminate, so the next test starts clean.
#[derive(Debug)]
#[must_use = "dropping the TestServer stops the server"]
pub struct TestServer {
    server: Server,
    /// rpc-aio's test server for the same server (its port, its address).
    inner: rpc_aio::testing::TestServer,
}

impl TestServer {
    /// Starts `server` (its servicers registered) on a free loopback port, with a channel
    /// to it made with `channel_options`: rpc-aio's `TestServer::start`, waited for.
    ///
    /// # Errors
    /// As [`serve_with_options`].
    pub fn start(server: Server, channel_options: ChannelOptions) -> Result<(TestServer, Channel), RpcError> {
        let runtime = RuntimeHandle::shared()?;
        let started = rpc_aio::testing::TestServer::start(server.as_aio().clone(), channel_options);
        let (inner, aio) = bridge::wait(runtime.handle(), started)??;
        Ok((TestServer { server, inner }, Channel::from_parts(aio, runtime)))
    }

    /// The server, e.g. to read [`Server::active_rpcs`] or register more handlers.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.inner.port()
    }

    /// Its address, `127.0.0.1:PORT`, for more channels.
    pub fn target(&self) -> String {
        self.inner.target()
    }

    /// Stops the server, cancelling RPCs in flight, and blocks (up to five seconds) until it
    /// has terminated; what dropping it does, said out loud.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // `wait` returns at once (false) when called inside an async runtime: never blocks one.
        self.server.stop(None).wait(Some(DROP_WAIT));
    }
}
