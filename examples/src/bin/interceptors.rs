//! Interceptors, server and client side, in one process:
//! `cargo run -p examples --bin interceptors -- --port 50057 --token s3cret [--serve]`.
//!
//! The server refuses calls without `authorization: Bearer <token>` (UNAUTHENTICATED);
//! the client logs each call. Two calls are made, without and with the token; then the
//! program exits, or with `--serve` serves until Ctrl+C.

use examples::args;
use examples::interceptors::{LoggingInterceptor, run, start_server};
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), rpc_core::RpcError> {
    args::init_logging();
    let token = args::flag("--token").unwrap_or_else(|| "s3cret".to_owned());
    let (server, port) = start_server(args::port(50057), &token).await?;
    println!("listening on {port}");

    let log = LoggingInterceptor::new();
    let (refused, reply) = run(&format!("127.0.0.1:{port}"), &token, &log).await?;
    println!("without a token: {refused}");
    println!("with the token: {reply}");

    if args::switch("--serve") {
        let _ = tokio::signal::ctrl_c().await;
    }
    server.stop(Some(Duration::from_secs(1))).await;
    Ok(())
}
