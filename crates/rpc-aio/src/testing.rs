//! In-process serving for users' tests: a started server on an ephemeral loopback port and
//! a channel connected to it, behind one call ([`serve`]); the server stops when the
//! [`TestServer`] is dropped.
//!
//! ```no_run
//! # #[tokio::main]
//! # async fn main() -> Result<(), rpc_aio::RpcError> {
//! // use my_protos::{GreeterStub, HelloRequest, add_greeter_servicer_to_server};
//! let (server, channel) = rpc_aio::testing::serve(|server| {
//!     // add_greeter_servicer_to_server(MyGreeter, server);
//!     # let _ = server;
//! })
//! .await?;
//! // let reply = GreeterStub::new(channel).say_hello(HelloRequest { name: "test".into() }).await?;
//! # let _ = channel;
//! server.stop().await;
//! # Ok(()) }
//! ```

use crate::{Channel, Server, insecure_channel};
use rpc_core::{ChannelOptions, RpcError, ServerOptions};
use std::fmt;

/// Starts a server with default options on `127.0.0.1` (a free port chosen by the system),
/// after `register` has added its servicers, and returns it with a channel connected to it.
///
/// Must be called inside a tokio runtime (a `#[tokio::test]`); the server serves on it.
///
/// # Errors
/// UNAVAILABLE if no loopback port can be bound; FAILED_PRECONDITION outside a runtime.
pub async fn serve(register: impl FnOnce(&Server)) -> Result<(TestServer, Channel), RpcError> {
    serve_with_options(ServerOptions::default(), ChannelOptions::default(), register).await
}

/// [`serve`] with server and channel options (message size limits, compression, ...).
///
/// # Errors
/// As [`serve`], and INVALID_ARGUMENT for channel options the channel refuses.
pub async fn serve_with_options(
    server_options: ServerOptions,
    channel_options: ChannelOptions,
    register: impl FnOnce(&Server),
) -> Result<(TestServer, Channel), RpcError> {
    let server = Server::new(server_options);
    register(&server);
    TestServer::start(server, channel_options).await
}

/// A started server serving a test, on a loopback port of its own.
///
/// # Drop behavior
/// Dropping it stops the server at once (`stop(None)`): RPCs still in flight are
/// cancelled and new ones are refused. Await [`stop`](Self::stop) to wait for the end.
#[must_use = "dropping the TestServer stops the server"]
pub struct TestServer {
    server: Server,
    port: u16,
}

impl TestServer {
    /// Starts `server` (its servicers registered) on a free loopback port, with a channel
    /// to it made with `channel_options`.
    ///
    /// # Errors
    /// As [`serve_with_options`].
    pub async fn start(server: Server, channel_options: ChannelOptions) -> Result<(TestServer, Channel), RpcError> {
        let port = server.add_insecure_port("127.0.0.1:0")?;
        server.start().await?;
        let test_server = TestServer { server, port };
        let channel = insecure_channel(&test_server.target(), channel_options)?;
        Ok((test_server, channel))
    }

    /// The server, e.g. to read [`Server::active_rpcs`] or register more handlers.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its address, `127.0.0.1:PORT`, for more channels.
    pub fn target(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Stops the server, cancelling RPCs in flight, and waits until it has terminated.
    ///
    /// # Cancel safety
    /// The stop goes on if the future is dropped; only the waiting ends.
    pub async fn stop(self) {
        self.server.stop(None).await;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Idempotent: after `stop` this completes at once.
        drop(self.server.stop(None));
    }
}

impl fmt::Debug for TestServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestServer")
            .field("port", &self.port)
            .field("server", &self.server)
            .finish()
    }
}
