//! The native async face of `rpc`, a gRPC library for Rust: channels, the unified `Call`,
//! and the async server, mirroring gRPC Python's `grpc.aio`.
//!
//! # Layout
//!
//! - [`client`](crate#client): channels, multi-callables, call objects, interceptors
//!   (`src/client/`; the path of a call is described in `client/pipeline.rs`);
//! - [`server`](crate#server): the server, handlers, interceptors, the servicer context
//!   (`src/server/`; the path of a request is described in `server/mod.rs`);
//! - `src/wire/`: the gRPC wire format both sides share (frames, compression, status and
//!   metadata in headers);
//! - [`Shutdown`]: serving until a signal; [`testing`]: in-process servers for tests;
//!   [`channelz`]: snapshots of the process's channels, servers and sockets (gRFC A14).
//!
//! Shared types (status codes, errors, metadata, credentials, options, codecs) are
//! `rpc-core`'s, re-exported here.
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![warn(unreachable_pub)]

pub mod channelz;
mod deadline;
mod handoff;
mod outcome;
pub use outcome::RpcOutcome;

#[doc(no_inline)]
pub use rpc_core::shared::*;

// client
mod client;
pub use client::{
    AnyMessage, Call, CallOutcome, Channel, ChannelBuilder, ClientCallDetails, ClientInterceptor, MultiCallable, Next, RequestSender,
    Responses, StreamStreamCall, StreamStreamMultiCallable, StreamUnaryCall, StreamUnaryMultiCallable, StreamUnaryWithCall, UnaryCall,
    UnaryStreamCall, UnaryStreamMultiCallable, UnaryUnaryMultiCallable, UnaryWithCall, WithCall, insecure_channel, intercept_channel, kind,
    lb, resolver, secure_channel,
};

// the wire format, shared
mod wire;

// spans and the observer hook, shared
mod observe;

// server
mod server;
mod shutdown;
mod unpark;
pub use server::{
    Continuation, GenericRpcHandler, HandlerCallDetails, RpcMethodHandler, Server, ServerInterceptor, StopHandle,
    method_handlers_generic_handler, raw_generic_rpc_handler, server, stream_stream_rpc_method_handler, stream_unary_rpc_method_handler,
    unary_stream_rpc_method_handler, unary_unary_rpc_method_handler,
};
pub use shutdown::{Shutdown, ShutdownOutcome, ShutdownReason, ShutdownTrigger};

// testing helpers for users
pub mod testing;

#[doc(hidden)]
pub mod __engine {
    //! Hooks for rpc-sync, the blocking face: not part of the API.

    /// Runs `wait`, a blocking wait on the network, on this thread. On a worker of a
    /// server's blocking pool the worker does not count against `max_workers` meanwhile
    /// (within `max_parked_workers`), so a handler waiting for a call it made does not hold
    /// up the next RPC.
    pub fn park_worker_while<T>(wait: impl FnOnce() -> T) -> T {
        crate::server::park_while(wait)
    }

    /// Unparks `thread` (a blocking caller's), at the end of the connection poll running
    /// on this thread if there is one, so that it wakes once with all that poll read.
    pub fn unpark(thread: &std::thread::Thread) {
        crate::unpark::unpark(thread)
    }
}

#[doc(hidden)]
pub mod __fuzz {
    //! Internals exposed for the cargo-fuzz targets in `fuzz/` and their regression tests
    //! only: not part of the API, no stability promised.

    /// Feeds `chunks` in order to the gRPC frame decoder both sides use (the one that
    /// enforces the receive limit); returns the announced length of the first message over
    /// `limit`.
    pub fn scan_frames<'a>(chunks: impl IntoIterator<Item = &'a [u8]>, limit: usize) -> Result<(), u64> {
        crate::wire::frame::scan(chunks.into_iter().map(bytes::Bytes::copy_from_slice), limit)
    }

    /// The status the client reads from response headers or trailers: `None` without a
    /// `grpc-status`; never a panic.
    pub fn read_status(headers: &http::HeaderMap) -> Option<Result<crate::Metadata, crate::RpcError>> {
        crate::wire::status::read(headers)
    }

    /// The headers the engine writes for `metadata`.
    pub fn metadata_headers(metadata: &crate::Metadata) -> http::HeaderMap {
        let mut out = http::HeaderMap::new();
        crate::wire::headers::write_metadata(metadata, &mut out);
        out
    }

    /// The trailers a server writes for `error` (status, message, details, metadata).
    pub fn status_headers(error: &crate::RpcError) -> http::HeaderMap {
        let mut out = http::HeaderMap::new();
        crate::wire::status::write_error(error, &mut out);
        out
    }

    /// Metadata as the engine reads it from headers, and writes it back.
    pub fn metadata_round_trip(headers: &http::HeaderMap) -> (crate::Metadata, http::HeaderMap) {
        let md = crate::wire::headers::read_metadata(headers);
        let mut out = http::HeaderMap::new();
        crate::wire::headers::write_metadata(&md, &mut out);
        (md, out)
    }
}
