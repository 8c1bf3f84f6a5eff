//! The blocking face of the `rpc` gRPC library, modelled on gRPC Python's `grpc` module.
//!
//! # Implementation
//!
//! rpc-sync wraps rpc-aio the way `reqwest::blocking` wraps `reqwest`: every blocking
//! type holds its async counterpart and runs it on a private tokio runtime (see
//! [`RuntimeHandle`]) whose threads are named `rpc-sync-runtime-N`. No protocol rule is
//! implemented here; this crate moves values across threads and blocks.
//!
//! Every blocking method waits through one bridge (`src/bridge.rs`): the rpc-aio future is
//! polled on the caller's thread, parked between polls, so a blocking call costs one thread
//! hop each way. A blocking call made from inside an async runtime does not panic and does
//! not deadlock: it fails at once with `FAILED_PRECONDITION` (see
//! [`RuntimeHandle::block_on`]).
//!
//! # Layout
//!
//! `src/client/` and `src/server/` mirror rpc-aio's files of the same names (a check in the
//! test suite compares their public items); `runtime.rs` is the private runtime and
//! `bridge.rs` the way to wait.
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![warn(unreachable_pub)]
#![doc(test(attr(deny(warnings))))]

mod bridge;
mod runtime;

pub use bridge::WaitError;
/// How a call or an RPC ended, as interceptors' status hooks see it (rpc-aio's type).
#[doc(no_inline)]
pub use rpc_aio::RpcOutcome;
#[doc(no_inline)]
pub use rpc_core::shared::*;
pub use runtime::RuntimeHandle;

// client
mod client;
pub use client::{
    AnyMessage, Call, CallOutcome, Channel, ChannelBuilder, ChannelReadyFuture, ClientCallDetails, ClientInterceptor, MultiCallable, Next,
    RequestSender, Responses, StreamStreamCall, StreamStreamMultiCallable, StreamUnaryCall, StreamUnaryMultiCallable, SubscriptionId,
    UnaryCall, UnaryStreamCall, UnaryStreamMultiCallable, UnaryUnaryMultiCallable, channel_ready_future, insecure_channel,
    intercept_channel, kind, lb, resolver, secure_channel,
};

// server
mod server;
mod shutdown;
pub use server::{
    Continuation, GenericRpcHandler, HandlerCallDetails, RpcMethodHandler, Server, ServerInterceptor, StopHandle,
    method_handlers_generic_handler, raw_generic_rpc_handler, server, stream_stream_rpc_method_handler, stream_unary_rpc_method_handler,
    unary_stream_rpc_method_handler, unary_unary_rpc_method_handler,
};
pub use shutdown::{Shutdown, ShutdownOutcome, ShutdownReason, ShutdownTrigger};

// testing helpers for users
pub mod testing;

// channelz snapshots (the engine's registry)
pub mod channelz;
