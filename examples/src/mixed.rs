//! One server, handlers of both kinds: a blocking greeter (for code that blocks: file I/O,
//! a synchronous database driver, CPU work) beside the async route guide and health. The
//! server runs each kind where it belongs: blocking handlers on its bounded worker pool,
//! async ones on the runtime, so a slow blocking handler never stalls the async ones.

use crate::pb::helloworld::{GreeterServicer, HelloReply, HelloRequest, add_greeter_servicer_to_server};
use crate::pb::routeguide::add_route_guide_servicer_to_server;
use crate::route_guide::AsyncRouteGuide;
use rpc_core::{RpcError, ServicerContext};
use rpc_health::{HealthServicer, add_health_servicer_to_server};

/// A blocking greeter that says which thread served it (a worker of the server's pool).
#[derive(Debug, Default)]
pub struct ThreadNamingGreeter;

impl GreeterServicer for ThreadNamingGreeter {
    fn say_hello(&self, request: HelloRequest, _context: &ServicerContext) -> Result<HelloReply, RpcError> {
        let thread = std::thread::current();
        Ok(HelloReply {
            message: format!(
                "Hello, {}! (from a blocking handler on thread {})",
                request.name,
                thread.name().unwrap_or("unnamed")
            ),
        })
    }
}

/// Registers the blocking greeter, the async route guide and the async health service on
/// `server` (either face's: registration is the same line on both).
pub fn add_mixed_services(server: &impl rpc_core::codegen::Server) -> HealthServicer {
    add_greeter_servicer_to_server(ThreadNamingGreeter, server);
    add_route_guide_servicer_to_server(AsyncRouteGuide::new(), server);
    let health = HealthServicer::new();
    add_health_servicer_to_server(health.clone(), server);
    health
}
