//! An async greeter server that requires a bearer token:
//! `cargo run -p examples --bin auth_server_aio -- --port 50053 --token s3cret`.
//! Calls without `authorization: Bearer s3cret` get UNAUTHENTICATED.

use examples::{args, auth::RequireBearerToken, greeter::AsyncGreeter, pb::helloworld::add_greeter_servicer_to_server};
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), rpc_core::RpcError> {
    args::init_logging();
    let token = args::flag("--token").unwrap_or_else(|| "s3cret".to_owned());
    let server = rpc_aio::server(rpc_core::ServerOptions::default());
    server.add_interceptor(RequireBearerToken::new([token]));
    add_greeter_servicer_to_server(AsyncGreeter, &server);
    let port = server.add_insecure_port(&format!("127.0.0.1:{}", args::port(50053)))?;
    server.start().await?;
    println!("listening on {port}");
    let _ = tokio::signal::ctrl_c().await;
    server.stop(Some(Duration::from_secs(1))).await;
    Ok(())
}
