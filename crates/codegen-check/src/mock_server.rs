//! A fake [`codegen::Server`]: it keeps every method handler and service descriptor a
//! generated registration function adds, so tests can check them and call the handlers.

use rpc_core::codegen::{self, MethodDescriptor, MethodHandler, ServiceDescriptor};
use rpc_core::{RpcInfo, ServicerContext};
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// One method as registered.
pub struct Added {
    /// Its descriptor.
    pub method: &'static MethodDescriptor,
    /// The kind of the handler (which `MethodHandler` variant).
    pub kind: codegen::MethodKind,
    /// Whether the handler is a blocking one.
    pub blocking: bool,
    handler: Box<dyn Any + Send>,
}

impl fmt::Debug for Added {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Added")
            .field("path", &self.method.path)
            .field("kind", &self.kind)
            .field("blocking", &self.blocking)
            .finish()
    }
}

/// A server that only records; see the module docs.
#[derive(Debug, Default)]
pub struct MockServer {
    methods: Mutex<Vec<Added>>,
    services: Mutex<Vec<&'static ServiceDescriptor>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl MockServer {
    /// An empty server.
    pub fn new() -> MockServer {
        MockServer::default()
    }

    /// `(path, kind, blocking)` of every method added, in order.
    pub fn methods(&self) -> Vec<(&'static str, codegen::MethodKind, bool)> {
        lock(&self.methods).iter().map(|a| (a.method.path, a.kind, a.blocking)).collect()
    }

    /// The names of the services added, in order.
    pub fn services(&self) -> Vec<&'static str> {
        lock(&self.services).iter().map(|s| s.name).collect()
    }

    /// The handler added last for `path`, with its message types; panics if there is none
    /// or the types differ.
    pub fn handler<Req: 'static, Resp: 'static>(&self, path: &str) -> MethodHandler<Req, Resp> {
        let methods = lock(&self.methods);
        let added = methods
            .iter()
            .rev()
            .find(|a| a.method.path == path)
            .unwrap_or_else(|| panic!("no handler for {path}"));
        added
            .handler
            .downcast_ref::<MethodHandler<Req, Resp>>()
            .unwrap_or_else(|| panic!("the handler of {path} has other message types"))
            .clone()
    }
}

impl codegen::Server for MockServer {
    fn add_method<Req, Resp>(&self, method: &'static MethodDescriptor, handler: MethodHandler<Req, Resp>)
    where
        Req: rpc_core::codegen::prost::Message + Default + Send + 'static,
        Resp: rpc_core::codegen::prost::Message + Send + 'static,
    {
        lock(&self.methods).push(Added {
            method,
            kind: handler.kind(),
            blocking: handler.is_blocking(),
            handler: Box::new(handler),
        });
    }

    fn add_service_descriptor(&self, service: &'static ServiceDescriptor) {
        lock(&self.services).push(service);
    }
}

/// A context for calling a handler directly, as if for an RPC of `method`.
pub fn context(method: &str) -> ServicerContext {
    let info = RpcInfo {
        method: method.to_owned(),
        ..RpcInfo::default()
    };
    ServicerContext::new(info, None).0
}

/// Polls a future that must be ready at once (the handlers of these tests never wait).
pub fn now<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the future was not ready at once"),
    }
}
