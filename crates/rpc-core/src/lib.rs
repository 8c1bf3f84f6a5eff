//! Shared types of the `rpc` gRPC library: what the blocking face (`rpc-sync`) and the
//! async face (`rpc-aio`) have in common, with no runtime and no I/O.
//!
//! - [`StatusCode`] and [`RpcError`] (with rich details in [`details`]);
//! - [`Metadata`], validated when built;
//! - credentials ([`ChannelCredentials`], [`CallCredentials`], [`ServerCredentials`]);
//! - [`ChannelConnectivity`], [`Compression`], [`ChannelOptions`], [`ServerOptions`];
//! - [`Request`] and [`CallOptions`], per-call options;
//! - [`ServicerContext`], the handler's view of its RPC;
//! - [`codec`], how messages become bytes (prost by default, raw bytes, closures);
//! - [`codegen`], the contract generated code is written against;
//! - [`observe`], the hook metrics and trace propagation plug into (`rpc-otel`).
//!
//! Engine-facing items (the server's side of a context, say) are `#[doc(hidden)]`: they
//! are for `rpc-aio` and carry no stability promise.
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![warn(unreachable_pub)]
#![doc(test(attr(deny(warnings))))]

pub mod codec;
pub mod codegen;
mod compression;
mod connectivity;
mod context;
mod credentials;
pub mod details;
mod error;
pub mod metadata;
pub mod observe;
mod options;
mod request;
mod response_channel;
mod status;
mod streams;
pub mod timeout;

/// What both faces re-export, listed once: `rpc_aio` and `rpc_sync` each say
/// `pub use rpc_core::shared::*`, so the two faces offer the same shared types by the same
/// names.
pub mod shared {
    pub use crate::{
        AuthContext, AuthMetadataContext, AuthMetadataPlugin, CallCredentials, CallOptions, CertificateHandle, ChannelConnectivity,
        ChannelCredentials, ChannelOptions, Compression, IntoRequest, IntoRequestSource, IntoStreamingRequest, Metadata, MetadataError,
        MetadataValue, OutgoingMessage, Request, RequestIterator, RequestSource, RequestStream, ResponseIterator, ResponseStream, RpcError,
        ServerCredentials, ServerOptions, ServicerContext, StatusCode, WriteOptions, WriteRequests, codec, codegen, details, stream,
    };
    pub use crate::{ResponseSender, SendError};
}

pub use compression::Compression;
pub use connectivity::ChannelConnectivity;
pub use context::{AuthContext, ServicerContext};
#[doc(hidden)]
pub use context::{Cancellation, ContextControl, HandlerOutcome, RpcInfo};
pub use credentials::{
    AuthMetadataContext, AuthMetadataPlugin, CallCredentials, CertificateHandle, ChannelCredentials, ChannelKind, CredentialsError,
    KeyCertPair, ServerCredentials, SslChannelConfig, SslServerConfig, is_local_peer,
};
pub use error::RpcError;
pub use metadata::{Metadata, MetadataError, MetadataValue};
pub use options::{ChannelOptions, DEFAULT_MAX_HEADER_LIST_SIZE, DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH, ServerOptions};
#[doc(hidden)]
pub use request::SourceKind;
pub use request::{
    CallOptions, IntoRequest, IntoRequestSource, IntoStreamingRequest, OutgoingMessage, Request, RequestSource, StreamRequests,
    WriteOptions, WriteRequests, stream,
};
pub use response_channel::{ResponseSender, SendError};
pub use status::StatusCode;
pub use streams::{RequestIterator, RequestStream, ResponseIterator, ResponseStream};
