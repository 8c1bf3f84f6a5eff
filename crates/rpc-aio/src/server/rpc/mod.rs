//! One RPC on the server, from the moment it is admitted and routed: its context and
//! status (`context.rs`), its deadline and cancellation (`guard.rs`), its requests
//! (`requests.rs`), the handler (`invoke.rs`) and its response (`responses.rs`).

pub(crate) mod context;
pub(crate) mod guard;
pub(crate) mod invoke;
pub(crate) mod requests;
pub(crate) mod responses;
