//! The server's handler tables as plain data: registered methods by path, generic handlers
//! in order, the interceptor chain, the service descriptors (for health and reflection).

use super::handler::{GenericRpcHandler, HandlerCallDetails, RpcMethodHandler};
use super::interceptor::{Continuation, Lookup, ServerInterceptor};
use rpc_core::codegen::ServiceDescriptor;
use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    // Nothing panics while holding these locks, so a poisoned one is still consistent.
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

/// The interceptors, in the order added.
type Chain = Arc<[Arc<dyn ServerInterceptor>]>;

#[derive(Default)]
pub(crate) struct Registry {
    methods: RwLock<HashMap<String, RpcMethodHandler>>,
    generic: RwLock<Vec<GenericRpcHandler>>,
    interceptors: RwLock<Option<Chain>>,
    services: RwLock<Vec<&'static ServiceDescriptor>>,
}

impl Registry {
    pub(crate) fn add_method(&self, path: String, handler: RpcMethodHandler) {
        write(&self.methods).insert(path, handler);
    }

    pub(crate) fn add_generic(&self, handlers: impl IntoIterator<Item = GenericRpcHandler>) {
        write(&self.generic).extend(handlers);
    }

    pub(crate) fn add_interceptor(&self, interceptor: Arc<dyn ServerInterceptor>) {
        let mut slot = write(&self.interceptors);
        let mut chain: Vec<_> = slot.as_deref().unwrap_or_default().to_vec();
        chain.push(interceptor);
        *slot = Some(chain.into());
    }

    /// The interceptor chain, `None` when there is none (the fast path).
    pub(crate) fn interceptors(&self) -> Option<Chain> {
        read(&self.interceptors).clone()
    }

    pub(crate) fn add_service(&self, service: &'static ServiceDescriptor) {
        let mut services = write(&self.services);
        if !services.iter().any(|s| s.name == service.name) {
            services.push(service);
        }
    }

    pub(crate) fn services(&self) -> Vec<&'static ServiceDescriptor> {
        read(&self.services).clone()
    }

    /// Whether a handler is registered for exactly `path` (not through a generic handler).
    pub(crate) fn is_registered(&self, path: &str) -> bool {
        read(&self.methods).contains_key(path)
    }

    /// The handler for `path`: a registered method, else the first generic handler that
    /// serves it (`details` is built only if generic handlers are asked).
    pub(crate) fn find(&self, path: &str, details: impl FnOnce() -> HandlerCallDetails) -> Option<RpcMethodHandler> {
        if let Some(h) = read(&self.methods).get(path) {
            return Some(h.clone());
        }
        let generic = read(&self.generic);
        if generic.is_empty() {
            return None;
        }
        let details = details();
        generic.iter().find_map(|g| g.service(&details))
    }

    /// The handler for an RPC: through the interceptors if there are any.
    pub(crate) async fn choose(self: &Arc<Self>, method: &str, metadata: &rpc_core::Metadata) -> Option<RpcMethodHandler> {
        let details = || HandlerCallDetails {
            method: method.to_owned(),
            invocation_metadata: metadata.clone(),
        };
        match self.interceptors() {
            None => self.find(method, details),
            Some(chain) => Continuation::new(chain, self.clone()).run(details()).await,
        }
    }
}

impl Lookup for Registry {
    fn lookup(&self, details: &HandlerCallDetails) -> Option<RpcMethodHandler> {
        self.find(&details.method, || details.clone())
    }
}
