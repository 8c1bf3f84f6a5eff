//! One RPC on the server, from the moment it is admitted and routed: its context and
//! status (`context.rs`), its deadline and cancellation (`guard.rs`), its requests
//! (`requests.rs`), the handler (`invoke.rs`), its response (`responses.rs`), and a blocking handler's
//! response iterator pulled as the stream takes responses (`pull.rs`).

pub(crate) mod context;
pub(crate) mod guard;
pub(crate) mod invoke;
pub(crate) mod observed;
pub(crate) mod pull;
pub(crate) mod requests;
pub(crate) mod responses;
