//! The gRPC health checking service (`grpc.health.v1.Health`: Check and Watch) for both
//! faces of rpc, like gRPC Python's `grpc_health.v1.health.HealthServicer`.
//!
//! [`HealthServicer`] is an async servicer, so it runs on an rpc-aio server and, unchanged,
//! on an rpc-sync server (whose runtime runs async servicers): register it with
//! [`add_health_servicer_to_server`]. Clients use [`HealthStub`] with either face's channel.
//!
//! ```no_run
//! # async fn demo() -> Result<(), rpc_core::RpcError> {
//! use rpc_health::{HealthServicer, ServingStatus, add_health_servicer_to_server};
//! let server = rpc_aio::server(rpc_core::ServerOptions::default());
//! let health = HealthServicer::new();
//! add_health_servicer_to_server(health.clone(), &server);
//! health.set("helloworld.Greeter", ServingStatus::Serving);
//! // ... on shutdown: every service reports NOT_SERVING at once.
//! health.enter_graceful_shutdown();
//! # Ok(()) }
//! ```
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]

mod servicer;

/// The generated `grpc.health.v1` code: messages, [`HealthStub`], servicer traits.
#[allow(missing_docs, missing_debug_implementations)]
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/grpc.health.v1.rs"));
}

pub use pb::health_check_response::ServingStatus;
pub use pb::{
    AsyncHealthServicer, HEALTH_SERVICE, HEALTH_SERVICE_NAME, HealthCheckRequest, HealthCheckResponse,
    HealthServicer as BlockingHealthServicer, HealthStub, add_health_servicer_to_server,
};
pub use servicer::HealthServicer;
