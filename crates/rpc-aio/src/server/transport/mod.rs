//! The server's transport: ports and accept loops (`listen.rs`), one HTTP/2 connection
//! per client (`connection.rs`, its writes coalesced by `coalesce.rs`), TLS (`tls.rs`)
//! and keepalive enforcement (`keepalive.rs`).

mod coalesce;
pub(crate) mod connection;
pub(crate) mod keepalive;
pub(crate) mod listen;
pub(crate) mod tls;
