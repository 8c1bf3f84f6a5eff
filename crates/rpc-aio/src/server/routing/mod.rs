//! Routing: which handler serves an RPC. `registry.rs` holds the server's tables,
//! `handler.rs` the handler types, `interceptor.rs` the interceptor chain that may choose
//! or refuse a handler.

pub(crate) mod handler;
pub(crate) mod interceptor;
pub(crate) mod registry;
