//! A greeter server with health checking, channelz and server reflection:
//! `cargo run -p examples --bin health_reflection_server -- --port 50055`, then
//! `grpcurl -plaintext 127.0.0.1:50055 list`,
//! `grpcurl -plaintext -d '{"service":"helloworld.Greeter"}' 127.0.0.1:50055 grpc.health.v1.Health/Check` and
//! `rpc call --plaintext 127.0.0.1:50055 grpc.channelz.v1.Channelz.GetServers` (docs/channelz.md).

use examples::{args, companions::add_greeter_with_health_and_reflection};
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), rpc_core::RpcError> {
    args::init_logging();
    let server = rpc_aio::server(rpc_core::ServerOptions::default());
    let health = add_greeter_with_health_and_reflection(&server);
    let port = server.add_insecure_port(&format!("127.0.0.1:{}", args::port(50055)))?;
    server.start().await?;
    println!("listening on {port}");
    for service in server.services() {
        println!("  serving {}", service.name);
    }
    println!("try: grpcurl -plaintext 127.0.0.1:{port} describe helloworld.Greeter");
    let _ = tokio::signal::ctrl_c().await;
    // Load balancers watching health drain the server during the grace.
    health.enter_graceful_shutdown();
    server.stop(Some(Duration::from_secs(1))).await;
    Ok(())
}
