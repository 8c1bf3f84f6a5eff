//! An async route guide server (all four kinds): `cargo run -p examples --bin route_guide_server_aio -- --port 50052`.

use examples::{args, pb::routeguide::add_route_guide_servicer_to_server, route_guide::AsyncRouteGuide};
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), rpc_core::RpcError> {
    args::init_logging();
    let server = rpc_aio::server(rpc_core::ServerOptions::default());
    add_route_guide_servicer_to_server(AsyncRouteGuide::new(), &server);
    let port = server.add_insecure_port(&format!("127.0.0.1:{}", args::port(50052)))?;
    server.start().await?;
    println!("listening on {port}");
    let _ = tokio::signal::ctrl_c().await;
    server.stop(Some(Duration::from_secs(1))).await;
    Ok(())
}
