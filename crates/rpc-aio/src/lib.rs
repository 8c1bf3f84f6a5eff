//! The native async face of `rpc`, a gRPC library for Rust: channels, the unified `Call`,
//! and the async server, mirroring gRPC Python's `grpc.aio`.
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![warn(unreachable_pub)]

mod deadline;

#[doc(no_inline)]
pub use rpc_core::{
    AuthContext, AuthMetadataContext, AuthMetadataPlugin, CallCredentials, CallOptions, ChannelConnectivity, ChannelCredentials,
    ChannelOptions, Compression, IntoRequest, IntoStreamingRequest, Metadata, MetadataError, MetadataValue, Request, RequestIterator,
    RequestStream, ResponseIterator, ResponseStream, RpcError, ServerCredentials, ServerOptions, ServicerContext, StatusCode,
    WriteRequests, codegen, details, stream,
};

// client
mod call;
mod channel;
mod client_interceptor;
mod codegen_impl;
mod compression;
mod connectivity;
mod multicallable;
mod target;
mod tls_roots;
pub use call::{CallDetails, StreamStreamCall, StreamUnaryCall, StreamUnaryWithCall, UnaryCall, UnaryStreamCall, UnaryWithCall};
pub use channel::{Channel, ChannelBuilder, insecure_channel, secure_channel};
pub use client_interceptor::{AnyMessage, AnyResponses, ClientCallDetails, ClientInterceptor, Next, single_response};
pub use multicallable::{StreamStreamMultiCallable, StreamUnaryMultiCallable, UnaryStreamMultiCallable, UnaryUnaryMultiCallable};

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

#[doc(hidden)]
pub mod __fuzz {
    //! Internals exposed for the cargo-fuzz targets in `fuzz/` and their regression tests
    //! only: not part of the API, no stability promised.

    /// Feeds `chunks` in order to the server's gRPC length-prefix scanner (the one that
    /// enforces the receive limit); returns the announced length of the first message over
    /// `limit`.
    pub fn scan_frames<'a>(chunks: impl IntoIterator<Item = &'a [u8]>, limit: usize) -> Result<(), u64> {
        let mut scanner = crate::server::FrameScanner::default();
        for chunk in chunks {
            scanner.feed(chunk, limit)?;
        }
        Ok(())
    }

    /// What the client does to response headers and trailers before tonic decodes the
    /// status from them (drops undecodable `grpc-status-details-bin`).
    pub fn sanitize_status_headers(headers: &mut http::HeaderMap) {
        crate::call::body::sanitize(headers);
    }
}
