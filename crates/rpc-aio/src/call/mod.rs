//! The unified call objects and the state they share with the task that runs the RPC.
//!
//! # Design
//!
//! A unary-unary call ([`UnaryCall`]) is one boxed future that runs the whole RPC and
//! records what happens (initial metadata, the final status) in a shared [`CallShared`]
//! (one lock and one `Notify`). Awaiting the call polls that future inline, as tonic's own
//! calls are polled: no task, no channel, no extra wake-up. When something must make
//! progress without the call being awaited (an accessor such as `initial_metadata()`, a
//! done callback, [`UnaryCall::start`], or a blocking caller of rpc-sync's `future()`), the
//! future moves onto a task of the channel's runtime and the call awaits the task's
//! `JoinHandle` instead.
//!
//! Calls with a request or response stream run as a spawned tokio task ([`driver`]) from
//! the start: it owns the tonic stream and passes response messages through a bounded
//! `mpsc`, so reads, writes and the accessors proceed independently. Dropping a call
//! object that has not finished drops its future or aborts its task: tonic resets the
//! HTTP/2 stream and the server sees the RPC cancelled.

pub(crate) mod body;
pub(crate) mod driver;
mod start;
mod state;
mod status;
mod streaming;
mod unary;

pub use state::CallDetails;
pub use streaming::{StreamStreamCall, StreamUnaryCall, StreamUnaryWithCall, UnaryStreamCall};
pub use unary::{UnaryCall, UnaryWithCall};
