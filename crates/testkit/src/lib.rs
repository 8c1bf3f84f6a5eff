//! The workspace's test kit (not published): what the test suites of rpc-core, rpc-aio,
//! rpc-sync, the examples and the interop tests share.
//!
//! - the test service (`proto/testkit.proto`: one message, [`Msg`], and a method of each
//!   kind) with servicers in both styles ([`Blocking`], [`Async`]) that do what the request's
//!   metadata asks (see [`plan`]) and record into a [`Probe`] of their server's own;
//! - [`TonicPeer`]: the same service on plain tonic, a peer this workspace did not write;
//! - [`Face`], with [`AioFace`] and [`SyncFace`]: one behaviour test for both faces, made
//!   into two `#[test]`s by [`both_faces!`];
//! - the two waits: [`eventually`] and [`bounded`], bounded by [`LIMIT`];
//! - [`pki`]: certificates made at test time; [`process`]: child processes with their
//!   output read line by line; [`default_roots`]: the default-TLS-roots scenarios both
//!   faces run; `handlers`: hand-registered handlers for rpc-aio server tests.

pub mod default_roots;
mod face;
mod handlers;
pub mod pki;
pub mod plan;
mod probe;
pub mod process;
pub mod python;
mod servicer;
mod tonic_peer;
mod wait;

/// The code generated from `proto/testkit.proto` (package `test`).
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/test.rs"));
}

pub use face::{
    AioCall, AioEngine, AioFace, AioServer, Engine, Face, FaceServer, Finished, LiveCall, Peer, Served, Stopping, SyncCall, SyncFace,
    SyncServer,
};
pub use handlers::{
    Raw, aio_channel, assert_serving, blocking_stream_stream, blocking_stream_unary, blocking_unary, blocking_unary_stream, echo_handler,
    free_port, serve_aio, serve_service, sync_channel,
};
pub use pb::{Msg, SvcStub};
pub use probe::Probe;
pub use servicer::{Async, Blocking, Style};
pub use tonic_peer::TonicPeer;
pub use wait::{Awaited, Closure, Eventually, Guarded, HangGuard, LIMIT, Polling, bounded, eventually};

/// The path of Unary.
pub const UNARY: &str = "/test.Svc/Unary";
/// The path of ServerStream.
pub const SERVER_STREAM: &str = "/test.Svc/ServerStream";
/// The path of ClientStream.
pub const CLIENT_STREAM: &str = "/test.Svc/ClientStream";
/// The path of Bidi.
pub const BIDI: &str = "/test.Svc/Bidi";

/// A message with `text` (the other fields zero).
pub fn msg(text: &str) -> Msg {
    Msg {
        text: text.to_owned(),
        ..Msg::default()
    }
}

/// Request metadata from text pairs.
///
/// # Panics
/// On a key or value metadata refuses.
pub fn md(pairs: &[(&str, &str)]) -> rpc_core::Metadata {
    rpc_core::Metadata::from_pairs(pairs.iter().copied()).expect("valid test metadata")
}

/// Turns generic behaviour tests `fn name<F: Face>()` into one `#[test]` per face:
/// `name::aio` and `name::sync`. Attributes before a name (`#[ignore = "..."]`) apply to
/// both; `name { aio: #[..], sync: #[..] }` gives each face its own.
///
/// ```no_run
/// use rpc_testkit::{Face, both_faces};
///
/// fn four_kinds<F: Face>() {
///     let _face = F::new();
/// }
///
/// both_faces!(four_kinds);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! both_faces {
    ($($(#[$both:meta])* $name:ident $({ aio: $(#[$aio:meta])*, sync: $(#[$sync:meta])* })?),+ $(,)?) => {$(
        mod $name {
            #[test]
            $(#[$both])*
            $($(#[$aio])*)?
            fn aio() {
                super::$name::<$crate::AioFace>();
            }
            #[test]
            $(#[$both])*
            $($(#[$sync])*)?
            fn sync() {
                super::$name::<$crate::SyncFace>();
            }
        }
    )+};
}
