//! The code `rpc-build` generates for helloworld, route_guide and `keywords.proto`, compiled
//! against `rpc-core` alone, with a fake channel and a fake server to test what each
//! generated item does through the codegen contract (`rpc_core::codegen`).
//!
//! Nothing here talks to a network: [`mock_channel::MockChannel`] records which method a
//! stub called, with which kind of multi-callable and which requests, and answers with
//! canned responses; [`mock_server::MockServer`] records what registration functions add.

/// The generated code, one module per proto package (`helloworld`, `routeguide`, `kw::r#type::v1`).
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/_includes.rs"));
}

pub mod mock_channel;
pub mod mock_server;
