//! A greeter served with the companion services: health (`grpc.health.v1`) reporting it
//! SERVING, channelz (`grpc.channelz.v1`: the process's channels, servers and sockets), and
//! reflection (`grpc.reflection.v1` and `v1alpha`) so that grpcurl can list
//! and describe everything. One function, usable on either face's server.

use crate::greeter::AsyncGreeter;
use crate::pb::helloworld::{GREETER_SERVICE_NAME, add_greeter_servicer_to_server};
use rpc_channelz::{ChannelzServicer, add_channelz_servicer_to_server};
use rpc_health::{HealthServicer, ServingStatus, add_health_servicer_to_server};
use rpc_reflection::{ServiceRegistry, enable_server_reflection};

/// Registers the greeter, health, channelz and reflection on `server` (an `rpc_aio::Server` or an
/// `rpc_sync::Server`) and returns the health servicer, to change statuses later (e.g.
/// `enter_graceful_shutdown` when stopping).
///
/// Reflection is enabled last, so it describes everything registered before it.
pub fn add_greeter_with_health_and_reflection(server: &impl ServiceRegistry) -> HealthServicer {
    add_greeter_servicer_to_server(AsyncGreeter, server);
    let health = HealthServicer::new();
    add_health_servicer_to_server(health.clone(), server);
    health.set(GREETER_SERVICE_NAME, ServingStatus::Serving);
    add_channelz_servicer_to_server(ChannelzServicer::new(), server);
    enable_server_reflection(server);
    health
}
