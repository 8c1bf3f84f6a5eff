//! The client: channels, multi-callables and call objects.
//!
//! A call takes one path, described file by file in [`pipeline`]; the files are:
//!
//! - `channel.rs`: the public [`Channel`] and its builder; `connectivity.rs`: its state;
//! - `target.rs`: parsing targets; `tls.rs`: rustls client settings; `roots.rs`: the
//!   default TLS roots (`GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`, the system store, bundled);
//! - `connect.rs`: one transport (socket, TLS, HTTP/2); `subchannel.rs`: the connection to
//!   one address with its state and backoff; `pick.rs`: choosing a READY connection;
//! - `multicallable.rs`: calling a method by path (and what generated stubs call);
//! - `pipeline.rs`: the start of every call; `interceptor.rs`: client interceptors;
//! - `attempt.rs`: one HTTP/2 stream up to the response headers; `errors.rs`: what a failed
//!   stream reports; `body.rs`: request and response bodies;
//! - `call/`: the call object, how it runs (inline or on a task) and its shared state.

mod attempt;
mod body;
pub(crate) mod call;
mod channel;
mod connect;
mod connectivity;
mod errors;
mod interceptor;
mod multicallable;
mod pick;
pub(crate) mod pipeline;
mod roots;
mod subchannel;
mod target;
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
