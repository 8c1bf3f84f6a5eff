//! Blocking server interceptors, adapted onto rpc-aio's async interceptor chain.

use crate::bridge;
use crate::runtime::RuntimeHandle;
use futures::future::BoxFuture;
use rpc_aio::{HandlerCallDetails, RpcMethodHandler};
use std::fmt;
use std::sync::Arc;

/// A blocking server interceptor (gRPC Python's `grpc.ServerInterceptor`).
///
/// It sees the method and the client's metadata before a handler is chosen, and returns
/// the handler to run: usually `continuation.run(details)`, or
/// `Some(RpcMethodHandler::abort(code, "why"))` to reject the RPC. `None` means UNIMPLEMENTED.
/// It runs on a blocking thread of the private runtime, so it may block.
pub trait ServerInterceptor: Send + Sync + 'static {
    /// Chooses the handler for one RPC.
    fn intercept_service(&self, continuation: Continuation, details: HandlerCallDetails) -> Option<RpcMethodHandler>;
}

impl<F> ServerInterceptor for F
where
    F: Fn(Continuation, HandlerCallDetails) -> Option<RpcMethodHandler> + Send + Sync + 'static,
{
    fn intercept_service(&self, continuation: Continuation, details: HandlerCallDetails) -> Option<RpcMethodHandler> {
        self(continuation, details)
    }
}

/// The rest of the interceptor chain, for a blocking interceptor.
pub struct Continuation {
    inner: rpc_aio::Continuation,
    runtime: RuntimeHandle,
}

impl Continuation {
    /// Runs the rest of the chain and returns the handler it chose (`None`: UNIMPLEMENTED).
    pub fn run(self, details: HandlerCallDetails) -> Option<RpcMethodHandler> {
        bridge::wait(self.runtime.handle(), self.inner.run(details)).ok().flatten()
    }
}

impl fmt::Debug for Continuation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Continuation")
    }
}

struct Adapter<I> {
    interceptor: Arc<I>,
    runtime: RuntimeHandle,
}

impl<I: ServerInterceptor> rpc_aio::ServerInterceptor for Adapter<I> {
    fn intercept_service(
        &self,
        continuation: rpc_aio::Continuation,
        details: HandlerCallDetails,
    ) -> BoxFuture<'static, Option<RpcMethodHandler>> {
        let interceptor = self.interceptor.clone();
        let runtime = self.runtime.clone();
        Box::pin(async move {
            let cont = Continuation {
                inner: continuation,
                runtime: runtime.clone(),
            };
            // A panicking interceptor fails this RPC's handler choice (UNIMPLEMENTED is wrong
            // for that), so it is answered as an internal error.
            match runtime.spawn_blocking(move || interceptor.intercept_service(cont, details)).await {
                Ok(handler) => handler,
                Err(_) => Some(RpcMethodHandler::abort(
                    rpc_core::StatusCode::Internal,
                    "server interceptor panicked",
                )),
            }
        })
    }
}

pub(crate) fn adapt<I: ServerInterceptor>(interceptor: I, runtime: RuntimeHandle) -> impl rpc_aio::ServerInterceptor {
    Adapter {
        interceptor: Arc::new(interceptor),
        runtime,
    }
}
