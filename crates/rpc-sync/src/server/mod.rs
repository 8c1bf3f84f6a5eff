//! The blocking server: rpc-aio's server driven from blocking code, its lifecycle
//! (`start`, `stop`, `wait_for_termination`) as blocking calls on the private runtime.
//!
//! Blocking handlers run on the engine's bounded worker pool (`ServerOptions::max_workers`
//! named threads, `max_queued_rpcs` waiting RPCs; beyond that, RESOURCE_EXHAUSTED at
//! once); async handlers run on the private runtime. Every protocol rule lives in rpc-aio.

mod routing;
mod stop;

pub use routing::handler::{
    GenericRpcHandler, HandlerCallDetails, RpcMethodHandler, method_handlers_generic_handler, raw_generic_rpc_handler,
    stream_stream_rpc_method_handler, stream_unary_rpc_method_handler, unary_stream_rpc_method_handler, unary_unary_rpc_method_handler,
};
pub use routing::interceptor::{Continuation, ServerInterceptor};
pub use stop::StopHandle;

use crate::bridge;
use crate::runtime::RuntimeHandle;
use rpc_core::codegen::{self, MethodDescriptor, MethodHandler, ServiceDescriptor};
use rpc_core::{RpcError, ServerCredentials, ServerOptions};
use std::time::Duration;

/// Creates a blocking server (gRPC Python's `grpc.server`).
///
/// Fails only if the private runtime cannot start.
pub fn server(options: ServerOptions) -> Result<Server, RpcError> {
    Server::new(options)
}

/// A blocking gRPC server. Cloning gives another handle on the same server.
///
/// # Drop behavior
/// Dropping handles does not stop a started server: call [`stop`](Server::stop). (The
/// server keeps the private runtime alive until it terminates.)
#[derive(Clone, Debug)]
pub struct Server {
    inner: rpc_aio::Server,
    runtime: RuntimeHandle,
}

impl Server {
    /// Creates a server with `options`; see [`server`].
    pub fn new(options: ServerOptions) -> Result<Server, RpcError> {
        Ok(Server {
            inner: rpc_aio::Server::new(options),
            runtime: RuntimeHandle::shared()?,
        })
    }

    /// The async server this one drives (to share it with async code).
    pub fn as_aio(&self) -> &rpc_aio::Server {
        &self.inner
    }

    /// Adds a blocking interceptor; interceptors run in the order added, before the handler is chosen.
    pub fn add_interceptor(&self, interceptor: impl ServerInterceptor) {
        self.inner
            .add_interceptor(routing::interceptor::adapt(interceptor, self.runtime.clone()));
    }

    /// Adds an async interceptor (the same type rpc-aio servers take).
    pub fn add_async_interceptor(&self, interceptor: impl rpc_aio::ServerInterceptor) {
        self.inner.add_interceptor(interceptor);
    }

    /// Registers generic handlers (gRPC Python's `add_generic_rpc_handlers`).
    pub fn add_generic_rpc_handlers(&self, handlers: impl IntoIterator<Item = GenericRpcHandler>) {
        self.inner.add_generic_rpc_handlers(handlers);
    }

    /// Registers method handlers of one service (gRPC Python's `add_registered_method_handlers`).
    pub fn add_registered_method_handlers<K: Into<String>>(
        &self,
        service: &str,
        handlers: impl IntoIterator<Item = (K, RpcMethodHandler)>,
    ) {
        self.inner.add_registered_method_handlers(service, handlers);
    }

    /// Binds a plaintext port now and returns it (port 0 picks a free one).
    ///
    /// `address` is `host:port` or a Unix socket (`unix:path`, `unix:///abs/path`,
    /// `unix-abstract:name`), for which 1 is returned, as gRPC does; a stale socket file
    /// at the path is replaced, and the server's own is removed when it stops (see
    /// `rpc_aio::Server::add_insecure_port`).
    pub fn add_insecure_port(&self, address: &str) -> Result<u16, RpcError> {
        self.inner.add_insecure_port(address)
    }

    /// Binds a port with `credentials` (TLS, reloadable TLS, local, or insecure) now and
    /// returns it; `address` as for [`add_insecure_port`](Self::add_insecure_port).
    pub fn add_secure_port(&self, address: &str, credentials: ServerCredentials) -> Result<u16, RpcError> {
        self.inner.add_secure_port(address, credentials)
    }

    /// Starts serving. Starting twice is an error.
    ///
    /// The private runtime is kept alive until the server terminates, so a started server
    /// serves on even when every handle on it (and on the runtime) has been dropped.
    pub fn start(&self) -> Result<(), RpcError> {
        let inner = self.inner.clone();
        bridge::wait(self.runtime.handle(), async move { inner.start().await })??;
        let (inner, keep_alive) = (self.inner.clone(), self.runtime.clone());
        self.runtime.spawn(async move {
            inner.wait_for_termination(None).await;
            drop(keep_alive);
        });
        Ok(())
    }

    /// Stops the server: no new RPCs at once; RPCs in flight run until `grace` ends and
    /// are then cancelled (`None` cancels at once). Returns at once with a handle to wait on.
    ///
    /// This works even when every worker thread is stuck in a handler: workers are not on
    /// the path to shutdown (stuck threads are left behind; the server still terminates).
    pub fn stop(&self, grace: Option<Duration>) -> StopHandle {
        let _entered = self.runtime.enter();
        StopHandle::new(self.inner.stop(grace), self.runtime.clone())
    }

    /// Blocks until the server has terminated (`Ok(true)`) or `timeout` passed (`Ok(false)`).
    ///
    /// Any number of threads may wait at once; a stop that happened before the call is seen.
    /// Called from inside an async runtime it fails at once (use rpc-aio there).
    pub fn wait_for_termination(&self, timeout: Option<Duration>) -> Result<bool, RpcError> {
        bridge::wait(self.runtime.handle(), self.inner.wait_for_termination(timeout))
    }

    /// Registers the handler of one method by its full path (`/package.Service/Method`).
    pub fn add_method_handler(&self, path: &str, handler: RpcMethodHandler) {
        self.inner.add_method_handler(path, handler);
    }

    /// RPCs in flight now.
    pub fn active_rpcs(&self) -> usize {
        self.inner.active_rpcs()
    }

    /// How many RPCs a stop cancelled because they outlived the grace.
    pub fn cancelled_rpcs(&self) -> usize {
        self.inner.cancelled_rpcs()
    }

    /// The options the server was made with.
    pub fn options(&self) -> &ServerOptions {
        self.inner.options()
    }

    /// The services registered through generated code (for health and reflection).
    pub fn services(&self) -> Vec<&'static ServiceDescriptor> {
        self.inner.services()
    }

    /// Whether the server has terminated.
    pub fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl codegen::Server for Server {
    fn add_method<Req, Resp>(&self, method: &'static MethodDescriptor, handler: MethodHandler<Req, Resp>)
    where
        Req: prost::Message + Default + Send + 'static,
        Resp: prost::Message + Send + 'static,
    {
        codegen::Server::add_method(&self.inner, method, handler);
    }

    fn add_service_descriptor(&self, service: &'static ServiceDescriptor) {
        codegen::Server::add_service_descriptor(&self.inner, service);
    }
}
