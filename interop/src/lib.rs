//! gRPC's interop tests for `rpc`: the `grpc.testing.TestService` server and the test-case
//! client, each in both faces (blocking `rpc-sync`, async `rpc-aio`), with the official
//! command-line flags, so that any gRPC implementation's interop binaries can test them
//! and be tested by them.
//!
//! The messages and stubs are the ones the `examples` crate generates from
//! `proto/grpc/testing/*.proto` ([`pb`]). The server's behaviour is written once
//! ([`service`]) and wrapped by a blocking and an async servicer; the client's cases are
//! described once ([`cases`]) and run through each face.

pub mod args;
pub mod cases;
pub mod client_aio;
pub mod client_sync;
pub mod server;
pub mod service;
pub mod servicer_aio;
pub mod servicer_sync;
pub mod tls;

/// The generated `grpc.testing` messages, stubs and servicer traits.
pub use examples::pb::grpc::testing as pb;
