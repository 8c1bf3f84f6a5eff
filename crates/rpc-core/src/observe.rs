//! The hook through which an observer sees every call of a channel and every RPC of a
//! server: when each starts (with its `tracing` span, and the request metadata a client may
//! add to), each client attempt, and how each ended (status, message bytes). The `rpc-otel`
//! crate implements it for OpenTelemetry metrics (gRFC A66) and W3C trace context; the
//! engine calls it only when one is set (`ChannelOptions::observer`,
//! `ServerOptions::observer`), so calls without one pay nothing for it.
//!
//! An observer is called on the runtime's threads, inside the call's own work: it must not
//! block.

use crate::metadata::Metadata;
use crate::status::StatusCode;
use std::fmt;

/// Sees the calls of a channel or the RPCs of a server (both faces: the blocking face runs
/// the same engine). Set on [`crate::ChannelOptions::observer`] /
/// [`crate::ServerOptions::observer`]; one observer per channel or server (an observer may
/// fan out to others).
pub trait Observer: Send + Sync + fmt::Debug + 'static {
    /// A client call starts (after the client interceptors, before its first attempt):
    /// `metadata` is the request metadata every attempt sends, to which the observer may
    /// add (trace context). `None`: the call is not observed further.
    fn client_call(&self, call: &ClientCall<'_>, metadata: &mut Metadata) -> Option<Box<dyn ClientCallObserver>>;

    /// An RPC arrived at a server (its headers were read, before routing). `None`: the RPC
    /// is not observed further.
    fn server_call(&self, call: &ServerCall<'_>) -> Option<Box<dyn ServerCallObserver>>;
}

/// What an observer is told of a starting client call.
#[derive(Debug)]
#[non_exhaustive]
pub struct ClientCall<'a> {
    /// The full method path, `/package.Service/Method`.
    pub method: &'a str,
    /// The channel's target, as given when the channel was made.
    pub target: &'a str,
    /// The call's span (`rpc_aio::client`, disabled when no subscriber wants it).
    pub span: &'a tracing::Span,
}

impl<'a> ClientCall<'a> {
    #[doc(hidden)]
    /// For the engine.
    pub fn new(method: &'a str, target: &'a str, span: &'a tracing::Span) -> ClientCall<'a> {
        ClientCall { method, target, span }
    }
}

/// One observed client call.
pub trait ClientCallObserver: Send + Sync {
    /// An attempt starts (the first, a retry, a hedge or a transparent retry).
    fn attempt_started(&self) -> Box<dyn AttemptObserver>;
    /// The call ended with `code` (after its last attempt ended).
    fn call_ended(&self, code: StatusCode);
}

/// One observed attempt of a client call.
pub trait AttemptObserver: Send + Sync {
    /// The attempt ended: its status (CANCELLED for an attempt abandoned for another, as a
    /// losing hedge) and the message bytes it carried.
    fn attempt_ended(self: Box<Self>, end: &CallEnd);
}

/// What an observer is told of an RPC that arrived at a server.
#[derive(Debug)]
#[non_exhaustive]
pub struct ServerCall<'a> {
    /// The method path the client asked for, `/package.Service/Method`.
    pub method: &'a str,
    /// Whether the server has a handler registered for exactly this method (generic
    /// handlers and unknown methods: `false`; gRFC A66 reports those as "other").
    pub registered: bool,
    /// The request metadata (trace context comes in it).
    pub metadata: &'a Metadata,
    /// The client's address (`ipv4:127.0.0.1:5000`, `ipv6:[::1]:5000`, `unix:...`).
    pub peer: &'a str,
    /// The RPC's span (`rpc_aio::server`, disabled when no subscriber wants it): the handler
    /// runs inside it.
    pub span: &'a tracing::Span,
}

impl<'a> ServerCall<'a> {
    #[doc(hidden)]
    /// For the engine.
    pub fn new(method: &'a str, registered: bool, metadata: &'a Metadata, peer: &'a str, span: &'a tracing::Span) -> ServerCall<'a> {
        ServerCall {
            method,
            registered,
            metadata,
            peer,
            span,
        }
    }
}

/// One observed server RPC.
pub trait ServerCallObserver: Send + Sync {
    /// The RPC ended: the status the server sent (CANCELLED when the stream was reset or
    /// the connection lost before it), and the message bytes it carried.
    fn call_ended(self: Box<Self>, end: &CallEnd);
}

/// How an attempt or a server RPC ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallEnd {
    /// The status code.
    pub code: StatusCode,
    /// The bytes of the messages sent, as on the wire (compressed if they were), without
    /// the five-byte gRPC frame prefixes, headers or trailers.
    pub sent_message_bytes: u64,
    /// The bytes of the messages received, counted the same way.
    pub received_message_bytes: u64,
}

impl CallEnd {
    /// An end with `code` and the message byte counts.
    pub fn new(code: StatusCode, sent_message_bytes: u64, received_message_bytes: u64) -> CallEnd {
        CallEnd {
            code,
            sent_message_bytes,
            received_message_bytes,
        }
    }
}
