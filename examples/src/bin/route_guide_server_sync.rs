//! A blocking route guide server (all four kinds): `cargo run -p examples --bin route_guide_server_sync -- --port 50052`.

use examples::{args, pb::routeguide::add_route_guide_servicer_to_server, route_guide::BlockingRouteGuide};

fn main() -> Result<(), rpc_core::RpcError> {
    args::init_logging();
    let server = rpc_sync::server(rpc_core::ServerOptions::default())?;
    add_route_guide_servicer_to_server(BlockingRouteGuide::new(), &server);
    let port = server.add_insecure_port(&format!("127.0.0.1:{}", args::port(50052)))?;
    server.start()?;
    println!("listening on {port}");
    server.wait_for_termination(None)?;
    Ok(())
}
