//! The async server (grpc.aio's `Server`): handlers of every kind, blocking or async,
//! registered by generated code or by hand; ports bound at once; `start`, `stop(grace)`
//! and `wait_for_termination` with gRPC's lifecycle semantics.
//!
//! # Implementation
//!
//! Each connection is a hyper HTTP/2 connection task of our own (not tonic's `Server`),
//! so that a stop can drain connections with GOAWAY, wait up to the grace for the RPCs in
//! flight, cancel those still running, and close what is left: tonic alone would wait
//! forever. Requests are routed by path to type-erased handlers; tonic's `server::Grpc`
//! does the framing, codecs and compression of each RPC. Blocking handlers run on a
//! bounded pool of named worker threads, async handlers inline on the connection's task.

mod body;
mod compress;
mod dispatch;
mod handler;
mod interceptor;
mod invoke;
mod keepalive;
mod out;
mod pool;
mod registry;
mod rpc;
mod shared;
mod stop;
mod tls;
mod transport;

/// For the fuzz targets only (see `crate::__fuzz`).
pub(crate) use body::FrameScanner;
pub use handler::{
    GenericRpcHandler, HandlerCallDetails, RpcMethodHandler, method_handlers_generic_handler, stream_stream_rpc_method_handler,
    stream_unary_rpc_method_handler, unary_stream_rpc_method_handler, unary_unary_rpc_method_handler,
};
pub use interceptor::{Continuation, ServerInterceptor};
pub use stop::StopHandle;

use rpc_core::codegen::{self, MethodDescriptor, MethodHandler, ServiceDescriptor};
use rpc_core::{RpcError, ServerCredentials, ServerOptions};
use shared::ServerShared;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use transport::{ConnPhase, Connections, Port};

/// Creates a server (grpc.aio's `server()`). No runtime is needed until `start`.
pub fn server(options: ServerOptions) -> Server {
    Server::new(options)
}

#[derive(Default)]
struct Lifecycle {
    ports: Vec<Port>,
    started: bool,
    stop: Option<StopHandle>,
}

struct Inner {
    shared: Arc<ServerShared>,
    connections: Arc<Connections>,
    lifecycle: Mutex<Lifecycle>,
    phase: watch::Sender<ConnPhase>,
    grace_end: watch::Sender<Option<Instant>>,
    terminated: watch::Sender<bool>,
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
            .field("active_rpcs", &self.inner.shared.active())
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
                lifecycle: Mutex::default(),
                phase: watch::channel(ConnPhase::Serve).0,
                grace_end: watch::channel(None).0,
                terminated: watch::channel(false).0,
            }),
        }
    }

    fn lifecycle(&self) -> MutexGuard<'_, Lifecycle> {
        self.inner.lifecycle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The options the server was made with.
    pub fn options(&self) -> &ServerOptions {
        &self.inner.shared.options
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
    /// # Errors
    /// INVALID_ARGUMENT for an address that does not resolve, UNAVAILABLE if it cannot be
    /// bound, FAILED_PRECONDITION after `start`.
    pub fn add_insecure_port(&self, address: &str) -> Result<u16, RpcError> {
        self.add_secure_port(address, ServerCredentials::insecure())
    }

    /// Binds a port with `credentials` (TLS, or insecure) now and returns its number.
    ///
    /// # Errors
    /// As [`add_insecure_port`](Self::add_insecure_port), and INVALID_ARGUMENT for
    /// credentials rustls refuses.
    pub fn add_secure_port(&self, address: &str, credentials: ServerCredentials) -> Result<u16, RpcError> {
        let tls = tls::server_config(&credentials)?;
        let mut lifecycle = self.lifecycle();
        if lifecycle.started || lifecycle.stop.is_some() {
            return Err(RpcError::failed_precondition("ports must be added before the server starts"));
        }
        let (port, number) = transport::bind(address, tls)?;
        lifecycle.ports.push(port);
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
        let mut lifecycle = self.lifecycle();
        if lifecycle.stop.is_some() {
            return Err(RpcError::failed_precondition(
                "the server was stopped; a stopped server cannot start again",
            ));
        }
        if lifecycle.started || !self.inner.shared.set_runtime(runtime) {
            return Err(RpcError::failed_precondition("the server was already started"));
        }
        lifecycle.started = true;
        for port in std::mem::take(&mut lifecycle.ports) {
            transport::serve_port(
                port,
                self.inner.shared.clone(),
                self.inner.connections.clone(),
                self.inner.phase.subscribe(),
            )?;
        }
        tracing::debug!("server started");
        Ok(())
    }

    /// Stops the server: it accepts no new RPCs at once (they get UNAVAILABLE); RPCs in
    /// flight run on until `grace` ends and are then cancelled (their handlers see
    /// cancellation, their clients get UNAVAILABLE); `None` cancels them at once.
    ///
    /// Calling `stop` again with a shorter grace shortens it; on a stopped server it
    /// completes at once. Returns at once: await the handle to wait for termination.
    ///
    /// # Drop behavior
    /// The stop runs on the server's runtime whether or not the handle is kept.
    pub fn stop(&self, grace: Option<Duration>) -> StopHandle {
        let end = Instant::now() + grace.unwrap_or(Duration::ZERO);
        self.inner
            .grace_end
            .send_modify(|current| *current = Some(current.map_or(end, |c| c.min(end))));
        let mut lifecycle = self.lifecycle();
        if let Some(stop) = &lifecycle.stop {
            return stop.clone();
        }
        let handle = StopHandle::new(self.inner.terminated.subscribe());
        lifecycle.stop = Some(handle.clone());
        lifecycle.ports.clear();
        match self.inner.shared.runtime().filter(|_| lifecycle.started) {
            Some(runtime) => {
                runtime.spawn(stop::run(
                    self.inner.shared.clone(),
                    self.inner.connections.clone(),
                    self.inner.phase.clone(),
                    self.inner.grace_end.subscribe(),
                    self.inner.terminated.clone(),
                ));
            }
            None => {
                // Never started: nothing to drain.
                self.inner.shared.pool.close();
                self.inner.terminated.send_replace(true);
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
        let mut rx = self.inner.terminated.subscribe();
        let wait = async move {
            let _ = rx.wait_for(|t| *t).await;
        };
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
        *self.inner.terminated.borrow()
    }

    /// RPCs in flight now.
    pub fn active_rpcs(&self) -> usize {
        self.inner.shared.active()
    }

    /// How many RPCs a stop cancelled because they outlived the grace.
    pub fn cancelled_rpcs(&self) -> usize {
        self.inner.shared.cancelled_rpcs()
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
