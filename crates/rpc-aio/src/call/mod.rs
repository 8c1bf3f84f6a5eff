//! The unified call objects and the state they share with the task that runs the RPC.
//!
//! # Design
//!
//! Every call runs as a spawned tokio task ([`driver`]) that owns the tonic stream and
//! publishes what happens (initial metadata, messages, the final status) through a shared
//! [`CallShared`] (two `watch` channels) and a bounded `mpsc` of responses. So the metadata
//! accessors work while the response is awaited, a `*_future` call runs in the background,
//! and deadlines and `close` are enforced even when nobody polls. The price is one task
//! spawn, one `mpsc` and one `Arc` per call. Dropping a call object that has not finished
//! aborts its task: tonic drops the HTTP/2 stream and the server sees the RPC cancelled.

pub(crate) mod body;
pub(crate) mod driver;
mod start;
mod state;
mod streaming;
mod unary;

pub use state::CallDetails;
pub use streaming::{StreamStreamCall, StreamUnaryCall, StreamUnaryWithCall, UnaryStreamCall};
pub use unary::{UnaryCall, UnaryWithCall};
