//! Server interceptors (gRPC Python's `grpc.aio.ServerInterceptor`): each sees the method
//! and metadata of an RPC before its handler is chosen, and returns the handler to run
//! (usually the one the rest of the chain chooses, or an aborting one).

use super::handler::{HandlerCallDetails, RpcMethodHandler};
use futures::future::BoxFuture;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

/// An async server interceptor. Interceptors run in the order they were added.
///
/// ```
/// use futures::future::BoxFuture;
/// use rpc_aio::{Continuation, HandlerCallDetails, RpcMethodHandler, ServerInterceptor, StatusCode};
///
/// struct RequireToken;
///
/// impl ServerInterceptor for RequireToken {
///     fn intercept_service(&self, next: Continuation, details: HandlerCallDetails) -> BoxFuture<'static, Option<RpcMethodHandler>> {
///         Box::pin(async move {
///             if details.invocation_metadata.get_str("authorization") != Some("Bearer open-sesame") {
///                 return Some(RpcMethodHandler::abort(StatusCode::Unauthenticated, "missing or invalid token"));
///             }
///             next.run(details).await
///         })
///     }
/// }
/// ```
pub trait ServerInterceptor: Send + Sync + 'static {
    /// Chooses the handler for one RPC: `continuation.run(details)` asks the rest of the
    /// chain; `None` means no handler (UNIMPLEMENTED).
    ///
    /// The future is dropped, and the RPC abandoned, if the client goes away meanwhile.
    fn intercept_service(&self, continuation: Continuation, details: HandlerCallDetails) -> BoxFuture<'static, Option<RpcMethodHandler>>;
}

/// The rest of the interceptor chain after the current interceptor, ending in the
/// server's handler lookup.
pub struct Continuation {
    chain: Arc<[Arc<dyn ServerInterceptor>]>,
    next: usize,
    registry: Arc<dyn Lookup>,
}

/// The end of the chain: the server's own choice of handler.
pub(crate) trait Lookup: Send + Sync + 'static {
    fn lookup(&self, details: &HandlerCallDetails) -> Option<RpcMethodHandler>;
}

impl Continuation {
    pub(crate) fn new(chain: Arc<[Arc<dyn ServerInterceptor>]>, registry: Arc<dyn Lookup>) -> Continuation {
        Continuation { chain, next: 0, registry }
    }

    /// Runs the rest of the chain and returns the handler it chose (`None`: UNIMPLEMENTED).
    pub fn run(self, details: HandlerCallDetails) -> BoxFuture<'static, Option<RpcMethodHandler>> {
        match self.chain.get(self.next).cloned() {
            Some(interceptor) => {
                let rest = Continuation {
                    chain: self.chain,
                    next: self.next + 1,
                    registry: self.registry,
                };
                interceptor.intercept_service(rest, details)
            }
            None => {
                let found = self.registry.lookup(&details);
                Box::pin(std::future::ready(found))
            }
        }
    }
}

impl<F, Fut> ServerInterceptor for F
where
    F: Fn(Continuation, HandlerCallDetails) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<RpcMethodHandler>> + Send + 'static,
{
    fn intercept_service(&self, continuation: Continuation, details: HandlerCallDetails) -> BoxFuture<'static, Option<RpcMethodHandler>> {
        Box::pin(self(continuation, details))
    }
}

impl fmt::Debug for Continuation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Continuation")
            .field("remaining", &(self.chain.len() - self.next))
            .finish()
    }
}
