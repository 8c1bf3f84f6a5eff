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
pub use rpc_core::{
    AuthContext, AuthMetadataContext, AuthMetadataPlugin, CallCredentials, CallOptions, ChannelConnectivity, ChannelCredentials,
    ChannelOptions, Compression, IntoRequest, IntoStreamingRequest, Metadata, MetadataError, MetadataValue, Request, RequestIterator,
    RequestStream, ResponseIterator, ResponseStream, RpcError, ServerCredentials, ServerOptions, ServicerContext, StatusCode,
    WriteRequests, codegen, details, stream,
};
pub use runtime::RuntimeHandle;

// client
mod call;
mod channel;
mod client_interceptor;
mod codegen_impl;
mod connectivity;
mod multicallable;
pub use call::{CallDetails, StreamStreamCall, StreamUnaryCall, UnaryCall, UnaryStreamCall};
pub use channel::{Channel, ChannelBuilder, insecure_channel, secure_channel};
pub use client_interceptor::{ClientInterceptor, Next, Responses, intercept_channel};
pub use connectivity::{ChannelReadyFuture, SubscriptionId, channel_ready_future};
pub use multicallable::{StreamStreamMultiCallable, StreamUnaryMultiCallable, UnaryStreamMultiCallable, UnaryUnaryMultiCallable};
#[doc(no_inline)]
pub use rpc_aio::{AnyMessage, ClientCallDetails};

// server
mod server;
mod shutdown;
pub use server::{
    Continuation, GenericRpcHandler, HandlerCallDetails, RpcMethodHandler, Server, ServerInterceptor, StopHandle,
    method_handlers_generic_handler, server, stream_stream_rpc_method_handler, stream_unary_rpc_method_handler,
    unary_stream_rpc_method_handler, unary_unary_rpc_method_handler,
};
pub use shutdown::{Shutdown, ShutdownOutcome, ShutdownReason, ShutdownTrigger};

// testing helpers for users
pub mod testing;
