//! The async server (grpc.aio's `Server`): handlers of every kind, blocking or async,
//! registered by generated code or by hand; ports bound at once; `start`, `stop(grace)`
//! and `wait_for_termination` with gRPC's lifecycle semantics.
//!
//! # The path of a request, file by file
//!
//! ```text
//! transport/listen.rs      accept a connection (TLS handshake on a TLS port)
//! transport/connection.rs  hyper's HTTP/2 connection; GOAWAY when draining; keepalive policy
//! dispatch.rs              a gRPC POST? admitted (admission.rs)? grpc-timeout, grpc-encoding
//! routing/registry.rs      the handler for the path, through routing/interceptor.rs
//! rpc/context.rs           the RPC's context, deadline and place in the books
//! rpc/invoke.rs            run the handler: blocking on pool.rs (elastic: parked workers
//!                          give their place), async inline
//! rpc/requests.rs          request frames -> messages (codec), compressed flags
//! rpc/responses.rs         responses -> frames (codec, compression), trailers with the status
//! rpc/pull.rs              a blocking handler's response iterator, pulled while the stream has room
//! rpc/guard.rs             the deadline and cancellation, raced against the handler
//! ```
//!
//! The server's life is one state machine (`lifecycle.rs`); `stop.rs` runs a stop through
//! it. Each connection is a hyper HTTP/2 connection task of our own (not tonic's `Server`),
//! so that a stop can drain connections with GOAWAY, wait up to the grace for the RPCs in
//! flight, cancel those still running, and close what is left.

mod admission;
mod dispatch;
mod lifecycle;
mod pool;
pub(crate) use pool::park_while;
mod routing;
mod rpc;
mod stop;
mod transport;

pub use routing::handler::{
    GenericRpcHandler, HandlerCallDetails, RpcMethodHandler, method_handlers_generic_handler, raw_generic_rpc_handler,
    stream_stream_rpc_method_handler, stream_unary_rpc_method_handler, unary_stream_rpc_method_handler, unary_unary_rpc_method_handler,
};
pub use routing::interceptor::{Continuation, ServerInterceptor};
pub use stop::StopHandle;

use dispatch::ServerShared;
use lifecycle::Phase;
use rpc_core::codegen::{self, MethodDescriptor, MethodHandler, ServiceDescriptor};
use rpc_core::{RpcError, ServerCredentials, ServerOptions};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use transport::listen::{Connections, Port};

/// Creates a server (grpc.aio's `server()`). No runtime is needed until `start`.
pub fn server(options: ServerOptions) -> Server {
    Server::new(options)
}

/// What is set up before the server starts, and the stop once asked for.
#[derive(Default)]
struct Setup {
    ports: Vec<Port>,
    stop: Option<StopHandle>,
}

struct Inner {
    shared: Arc<ServerShared>,
    connections: Arc<Connections>,
    setup: Mutex<Setup>,
}

/// An async gRPC server. Cloning gives another handle on the same server.
///
/// ```no_run
/// # async fn demo() -> Result<(), rpc_aio::RpcError> {
/// use std::time::Duration;
/// let server = rpc_aio::server(rpc_aio::ServerOptions::default());
/// // add_greeter_servicer_to_server(MyGreeter, &server);
/// let port = server.add_insecure_port("127.0.0.1:0")?;
/// server.start().await?;
/// println!("listening on {port}");
/// server.stop(Some(Duration::from_secs(5))).await;
/// # Ok(()) }
/// ```
///
/// # Drop behavior
/// Dropping the handles does not stop a started server (it serves until `stop`).
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("active_rpcs", &self.active_rpcs())
            .field("connections", &self.inner.connections.count())
            .field("terminated", &self.is_terminated())
            .finish()
    }
}

impl Server {
    /// Creates a server with `options`; see [`server`].
    pub fn new(options: ServerOptions) -> Server {
        Server {
            inner: Arc::new(Inner {
                shared: Arc::new(ServerShared::new(options)),
                connections: Arc::default(),
                setup: Mutex::default(),
            }),
        }
    }

    fn setup(&self) -> MutexGuard<'_, Setup> {
        self.inner.setup.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The options the server was made with.
    pub fn options(&self) -> &ServerOptions {
        &self.inner.shared.env.options
    }

    /// Adds an interceptor; interceptors run in the order added, before the handler is chosen.
    pub fn add_interceptor(&self, interceptor: impl ServerInterceptor) {
        self.inner.shared.registry.add_interceptor(Arc::new(interceptor));
    }

    /// Registers generic handlers (grpc's `add_generic_rpc_handlers`); they are asked in
    /// order, after the registered methods, for RPCs that arrive from now on.
    pub fn add_generic_rpc_handlers(&self, handlers: impl IntoIterator<Item = GenericRpcHandler>) {
        self.inner.shared.registry.add_generic(handlers);
    }

    /// Registers the handlers of one service by method name (grpc's
    /// `add_registered_method_handlers`), served at `/{service}/{name}`.
    pub fn add_registered_method_handlers<K: Into<String>>(
        &self,
        service: &str,
        handlers: impl IntoIterator<Item = (K, RpcMethodHandler)>,
    ) {
        for (name, handler) in handlers {
            self.add_method_handler(&format!("/{service}/{}", name.into()), handler);
        }
    }

    /// Registers the handler of one method by its full path (`/package.Service/Method`).
    /// Registering a path again replaces its handler.
    pub fn add_method_handler(&self, path: &str, handler: RpcMethodHandler) {
        self.inner.shared.registry.add_method(path.to_owned(), handler);
    }

    /// The services registered through generated code (for health and reflection).
    pub fn services(&self) -> Vec<&'static ServiceDescriptor> {
        self.inner.shared.registry.services()
    }

    /// Binds a plaintext port now and returns its number (port 0 picks a free one).
    /// Several ports may be added, before `start`.
    ///
    /// `address` is `host:port` (`127.0.0.1:0`, `[::]:50051`, `localhost:8080`) or a Unix
    /// socket, written as a channel target: `unix:relative/path`, `unix:/abs/path`,
    /// `unix:///abs/path`, or `unix-abstract:name` (Linux). A Unix socket has no port
    /// number: 1 is returned for it, as gRPC does. A socket file already at the path is
    /// removed before binding (gRPC does the same: a server that died leaves one behind;
    /// any other kind of file there fails the bind); the file the server made is removed
    /// when it stops.
    ///
    /// # Errors
    /// INVALID_ARGUMENT for an address that does not resolve, UNAVAILABLE if it cannot be
    /// bound, FAILED_PRECONDITION after `start`.
    pub fn add_insecure_port(&self, address: &str) -> Result<u16, RpcError> {
        self.add_secure_port(address, ServerCredentials::insecure())
    }

    /// Binds a port with `credentials` (TLS, reloadable TLS, local, or insecure) now and
    /// returns its number; `address` as for [`add_insecure_port`](Self::add_insecure_port).
    ///
    /// # Errors
    /// As [`add_insecure_port`](Self::add_insecure_port), and INVALID_ARGUMENT for
    /// credentials rustls refuses.
    pub fn add_secure_port(&self, address: &str, credentials: ServerCredentials) -> Result<u16, RpcError> {
        let security = transport::listen::Security {
            tls: transport::tls::tls_source(&credentials)?,
            local_only: matches!(credentials, ServerCredentials::Local),
        };
        let mut setup = self.setup();
        if self.inner.shared.lifecycle.phase() != Phase::Created {
            return Err(RpcError::failed_precondition("ports must be added before the server starts"));
        }
        let (port, number) = transport::listen::bind(address, security)?;
        setup.ports.push(port);
        Ok(number)
    }

    /// Starts serving on the ports added, on the current tokio runtime.
    ///
    /// # Errors
    /// FAILED_PRECONDITION if the server was started (or stopped) before, or when called
    /// outside a tokio runtime.
    ///
    /// # Cancel safety
    /// The server has started once the future completes; dropped before, nothing starts.
    pub async fn start(&self) -> Result<(), RpcError> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| RpcError::failed_precondition("an rpc_aio server must be started inside a tokio runtime"))?;
        let mut setup = self.setup();
        let shared = &self.inner.shared;
        if setup.stop.is_some() || shared.lifecycle.phase() > Phase::Serving {
            return Err(RpcError::failed_precondition(
                "the server was stopped; a stopped server cannot start again",
            ));
        }
        if shared.lifecycle.phase() != Phase::Created || !shared.env.set_runtime(runtime) {
            return Err(RpcError::failed_precondition("the server was already started"));
        }
        shared.lifecycle.advance(Phase::Serving);
        for port in std::mem::take(&mut setup.ports) {
            transport::listen::serve_port(port, shared.clone(), self.inner.connections.clone())?;
        }
        tracing::debug!("server started");
        Ok(())
    }

    /// Stops the server: it accepts no new RPCs at once (their streams are reset with
    /// REFUSED_STREAM, which tells clients the RPC was not processed: rpc's channels send it
    /// to another backend, or fail it UNAVAILABLE); RPCs in
    /// flight run on until `grace` ends and are then cancelled (their handlers see
    /// cancellation, their clients get UNAVAILABLE); `None` cancels them at once.
    ///
    /// Calling `stop` again with a shorter grace shortens it; on a stopped server it
    /// completes at once. Returns at once: await the handle to wait for termination.
    ///
    /// # Drop behavior
    /// The stop runs on the server's runtime whether or not the handle is kept.
    pub fn stop(&self, grace: Option<Duration>) -> StopHandle {
        let shared = &self.inner.shared;
        shared.lifecycle.shorten_grace(Instant::now() + grace.unwrap_or(Duration::ZERO));
        let mut setup = self.setup();
        if let Some(stop) = &setup.stop {
            return stop.clone();
        }
        let handle = StopHandle::new(shared.lifecycle.subscribe());
        setup.stop = Some(handle.clone());
        setup.ports.clear();
        match shared.env.runtime().filter(|_| shared.lifecycle.phase() == Phase::Serving) {
            Some(runtime) => {
                // Refuse new RPCs before returning; the spawned task drains and closes.
                shared.lifecycle.advance(Phase::Draining);
                runtime.spawn(stop::run(shared.clone(), self.inner.connections.clone()));
            }
            None => {
                // Never started: nothing to drain.
                shared.env.pool.close();
                shared.lifecycle.advance(Phase::Terminated);
            }
        }
        handle
    }

    /// Waits until the server has terminated (`true`) or `timeout` passed (`false`);
    /// `None` waits without limit. A stop that happened before the call is seen.
    ///
    /// # Cancel safety
    /// Cancel safe: dropping the future only stops waiting.
    pub async fn wait_for_termination(&self, timeout: Option<Duration>) -> bool {
        let wait = self.inner.shared.lifecycle.reached(Phase::Terminated);
        match timeout {
            None => {
                wait.await;
                true
            }
            Some(t) => tokio::time::timeout(t, wait).await.is_ok(),
        }
    }

    /// Whether the server has terminated.
    pub fn is_terminated(&self) -> bool {
        self.inner.shared.lifecycle.is_terminated()
    }

    /// RPCs in flight now.
    pub fn active_rpcs(&self) -> usize {
        self.inner.shared.env.admission.active()
    }

    /// How many RPCs a stop cancelled because they outlived the grace.
    pub fn cancelled_rpcs(&self) -> usize {
        self.inner.shared.env.admission.cancelled_rpcs()
    }
}

impl codegen::Server for Server {
    fn add_method<Req, Resp>(&self, method: &'static MethodDescriptor, handler: MethodHandler<Req, Resp>)
    where
        Req: prost::Message + Default + Send + 'static,
        Resp: prost::Message + Send + 'static,
    {
        self.add_method_handler(method.path, RpcMethodHandler::new(handler));
    }

    fn add_service_descriptor(&self, service: &'static ServiceDescriptor) {
        self.inner.shared.registry.add_service(service);
    }
}
