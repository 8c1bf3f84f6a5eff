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
