//! Routing for the blocking server: handlers from blocking functions (`handler.rs`) and
//! blocking interceptors (`interceptor.rs`), adapted onto rpc-aio's routing.

pub(crate) mod handler;
pub(crate) mod interceptor;
