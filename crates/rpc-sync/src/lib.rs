//! The blocking face of the `rpc` gRPC library, modelled on gRPC Python's `grpc` module.
//!
//! # Implementation
//!
//! rpc-sync wraps rpc-aio the way `reqwest::blocking` wraps `reqwest`: every blocking
//! type holds its async counterpart and runs it on a private tokio runtime (see
//! [`RuntimeHandle`]) whose threads are named `rpc-sync-runtime-N`. No protocol rule is
//! implemented here; this crate moves values across threads and blocks.
//!
//! A blocking call made from inside an async runtime does not panic and does not
//! deadlock: it fails at once with `FAILED_PRECONDITION` (see [`RuntimeHandle::block_on`]).
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![warn(unreachable_pub)]
#![doc(test(attr(deny(warnings))))]

mod runtime;

#[doc(no_inline)]
pub use rpc_core::{RpcError, StatusCode};
pub use runtime::RuntimeHandle;

// server
mod server;
mod shutdown;
pub use server::{
    Continuation, GenericRpcHandler, HandlerCallDetails, RpcMethodHandler, Server, ServerInterceptor, StopHandle,
    method_handlers_generic_handler, server, stream_stream_rpc_method_handler, stream_unary_rpc_method_handler,
    unary_stream_rpc_method_handler, unary_unary_rpc_method_handler,
};
pub use shutdown::{Shutdown, ShutdownOutcome, ShutdownReason, ShutdownTrigger};
