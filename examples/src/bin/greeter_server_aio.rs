//! An async greeter server: `cargo run -p examples --bin greeter_server_aio -- --port 50051`.

use examples::{args, greeter::AsyncGreeter, pb::helloworld::add_greeter_servicer_to_server};
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), rpc_core::RpcError> {
    args::init_logging();
    let server = rpc_aio::server(rpc_core::ServerOptions::default());
    add_greeter_servicer_to_server(AsyncGreeter, &server);
    let port = server.add_insecure_port(&format!("127.0.0.1:{}", args::port(50051)))?;
    server.start().await?;
    println!("listening on {port}");
    let _ = tokio::signal::ctrl_c().await;
    server.stop(Some(Duration::from_secs(1))).await;
    Ok(())
}
