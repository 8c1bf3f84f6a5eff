//! The client: channels, multi-callables and call objects.
//!
//! A call takes one path, described file by file in [`pipeline`]; the files are:
//!
//! - `channel.rs`: the public [`Channel`] and its builder; `connectivity.rs`: its state;
//! - `resolver/`: targets as URIs and the resolvers that turn them into addresses (dns,
//!   ipv4/ipv6/unix, manual, custom); `lb/`: load-balancing policies (pick_first,
//!   round_robin, custom) and subchannel handles; `control.rs`: the channel's task that runs
//!   both; `service_config.rs`: the parsed service config;
//! - `tls.rs`: rustls client settings; `roots.rs`: the default TLS roots
//!   (`GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`, the system store, bundled);
//! - `connect.rs`: one transport (socket, TLS, HTTP/2, keepalive); `subchannel.rs`: the
//!   connection to one address with its state; `backoff.rs`: its reconnect backoff; `health.rs`: client-side health
//!   checks; `pick.rs`: choosing a READY connection through the picker;
//! - `multicallable.rs`: calling a method by path (and what generated stubs call);
//! - `pipeline.rs`: the start of every call; `interceptor.rs`: client interceptors;
//! - `prepare.rs`: what a call's attempts share; `attempt.rs`: one attempt (one HTTP/2
//!   stream, up to the response headers); `retry.rs`: retries and hedging; `throttle.rs`:
//!   retry throttling; `replay.rs`: the retry buffer of streamed requests; `errors.rs`: what a failed stream reports; `body.rs`: request and
//!   response bodies;
//! - `call/`: the call object, how it runs (inline or on a task) and its shared state.

mod attempt;
mod backoff;
mod body;
pub(crate) mod call;
mod channel;
mod connect;
mod connectivity;
mod control;
mod driver;
mod errors;
mod health;
mod interceptor;
pub mod lb;
mod multicallable;
mod pick;
mod pipe;
pub(crate) mod pipeline;
mod prepare;
mod replay;
pub mod resolver;
mod retry;
mod roots;
mod service_config;
mod signal;
mod stream;
mod subchannel;
mod throttle;
mod tls;

pub use call::{
    Call, CallOutcome, RequestSender, StreamStreamCall, StreamUnaryCall, StreamUnaryWithCall, UnaryCall, UnaryStreamCall, UnaryWithCall,
    WithCall, kind,
};
pub use channel::{Channel, ChannelBuilder, insecure_channel, intercept_channel, secure_channel};
pub use interceptor::{AnyMessage, ClientCallDetails, ClientInterceptor, Next, Responses};
pub use multicallable::{
    MultiCallable, StreamStreamMultiCallable, StreamUnaryMultiCallable, UnaryStreamMultiCallable, UnaryUnaryMultiCallable,
};
