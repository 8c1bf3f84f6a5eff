//! Rich error details: `google.rpc.Status` and the standard detail messages of `google/rpc/error_details.proto`.
//!
//! Attach them with [`RpcError::with_detail`](crate::RpcError::with_detail) and read them
//! back with [`RpcError::detail`](crate::RpcError::detail); on the wire they travel in the
//! `grpc-status-details-bin` trailer, compatible with every gRPC implementation.

use prost::Message;

/// A message that can travel as a rich error detail (packed in a `google.protobuf.Any`).
pub trait ErrorDetail: Message + Default {
    /// The `type.googleapis.com/...` URL that names the message type.
    const TYPE_URL: &'static str;
}

/// `google.rpc.Status`: code, message and details, the payload of `grpc-status-details-bin`.
#[derive(Clone, PartialEq, Message)]
pub struct RpcStatusProto {
    /// The status code.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// The developer-facing message.
    #[prost(string, tag = "2")]
    pub message: String,
    /// The details, each a packed message.
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<prost_types::Any>,
}

/// `google.rpc.RetryInfo`: when the client may retry.
#[derive(Clone, PartialEq, Message)]
pub struct RetryInfo {
    /// How long to wait before retrying.
    #[prost(message, optional, tag = "1")]
    pub retry_delay: Option<prost_types::Duration>,
}

/// `google.rpc.DebugInfo`: debugging information from the server.
#[derive(Clone, PartialEq, Message)]
pub struct DebugInfo {
    /// Stack trace entries.
    #[prost(string, repeated, tag = "1")]
    pub stack_entries: Vec<String>,
    /// Further detail.
    #[prost(string, tag = "2")]
    pub detail: String,
}

/// `google.rpc.QuotaFailure`: which quota checks failed.
#[derive(Clone, PartialEq, Message)]
pub struct QuotaFailure {
    /// The violations.
    #[prost(message, repeated, tag = "1")]
    pub violations: Vec<QuotaViolation>,
}

/// One quota violation.
#[derive(Clone, PartialEq, Message)]
pub struct QuotaViolation {
    /// The subject of the quota check.
    #[prost(string, tag = "1")]
    pub subject: String,
    /// What was exceeded.
    #[prost(string, tag = "2")]
    pub description: String,
}

/// `google.rpc.ErrorInfo`: the reason of an error, with its domain and metadata.
#[derive(Clone, PartialEq, Message)]
pub struct ErrorInfo {
    /// A short UPPER_SNAKE_CASE reason.
    #[prost(string, tag = "1")]
    pub reason: String,
    /// The logical grouping of the reason (usually a service name).
    #[prost(string, tag = "2")]
    pub domain: String,
    /// More structured details.
    #[prost(btree_map = "string, string", tag = "3")]
    pub metadata: std::collections::BTreeMap<String, String>,
}

/// `google.rpc.PreconditionFailure`: which preconditions failed.
#[derive(Clone, PartialEq, Message)]
pub struct PreconditionFailure {
    /// The violations.
    #[prost(message, repeated, tag = "1")]
    pub violations: Vec<PreconditionViolation>,
}

/// One precondition violation.
#[derive(Clone, PartialEq, Message)]
pub struct PreconditionViolation {
    /// The kind of precondition, e.g. "TOS".
    #[prost(string, tag = "1")]
    pub r#type: String,
    /// The subject, relative to the type.
    #[prost(string, tag = "2")]
    pub subject: String,
    /// How it failed.
    #[prost(string, tag = "3")]
    pub description: String,
}

/// `google.rpc.BadRequest`: which request fields were invalid.
#[derive(Clone, PartialEq, Message)]
pub struct BadRequest {
    /// The invalid fields.
    #[prost(message, repeated, tag = "1")]
    pub field_violations: Vec<FieldViolation>,
}

/// One invalid field of a request.
#[derive(Clone, PartialEq, Message)]
pub struct FieldViolation {
    /// A path to the field, e.g. "user.email".
    #[prost(string, tag = "1")]
    pub field: String,
    /// Why it is invalid.
    #[prost(string, tag = "2")]
    pub description: String,
}

/// `google.rpc.RequestInfo`: which request failed, for a bug report.
#[derive(Clone, PartialEq, Message)]
pub struct RequestInfo {
    /// An opaque request id.
    #[prost(string, tag = "1")]
    pub request_id: String,
    /// Data for the server's logs.
    #[prost(string, tag = "2")]
    pub serving_data: String,
}

/// `google.rpc.ResourceInfo`: which resource the error is about.
#[derive(Clone, PartialEq, Message)]
pub struct ResourceInfo {
    /// The resource type.
    #[prost(string, tag = "1")]
    pub resource_type: String,
    /// The resource name.
    #[prost(string, tag = "2")]
    pub resource_name: String,
    /// Its owner.
    #[prost(string, tag = "3")]
    pub owner: String,
    /// What went wrong.
    #[prost(string, tag = "4")]
    pub description: String,
}

/// `google.rpc.Help`: links to documentation.
#[derive(Clone, PartialEq, Message)]
pub struct Help {
    /// The links.
    #[prost(message, repeated, tag = "1")]
    pub links: Vec<HelpLink>,
}

/// One documentation link.
#[derive(Clone, PartialEq, Message)]
pub struct HelpLink {
    /// What the link is about.
    #[prost(string, tag = "1")]
    pub description: String,
    /// The URL.
    #[prost(string, tag = "2")]
    pub url: String,
}

/// `google.rpc.LocalizedMessage`: an error message for end users.
#[derive(Clone, PartialEq, Message)]
pub struct LocalizedMessage {
    /// A BCP-47 locale, e.g. "en-US".
    #[prost(string, tag = "1")]
    pub locale: String,
    /// The message.
    #[prost(string, tag = "2")]
    pub message: String,
}

macro_rules! detail_urls {
    ($($t:ident => $name:literal),* $(,)?) => {
        $(impl ErrorDetail for $t {
            const TYPE_URL: &'static str = concat!("type.googleapis.com/google.rpc.", $name);
        })*
    };
}

detail_urls! {
    RetryInfo => "RetryInfo",
    DebugInfo => "DebugInfo",
    QuotaFailure => "QuotaFailure",
    ErrorInfo => "ErrorInfo",
    PreconditionFailure => "PreconditionFailure",
    BadRequest => "BadRequest",
    RequestInfo => "RequestInfo",
    ResourceInfo => "ResourceInfo",
    Help => "Help",
    LocalizedMessage => "LocalizedMessage",
}
