//! A server with blocking and async handlers side by side (blocking greeter, async route
//! guide and health): `cargo run -p examples --bin mixed_server -- --port 50058 [--sync]`.
//!
//! By default the async server (rpc-aio) runs it; with `--sync` the blocking server
//! (rpc-sync) runs the very same registration. Try it with the greeter and route guide
//! clients (`--target 127.0.0.1:50058`).

use examples::{args, mixed::add_mixed_services};
use std::time::Duration;

fn main() -> Result<(), rpc_core::RpcError> {
    args::init_logging();
    let address = format!("127.0.0.1:{}", args::port(50058));
    if args::switch("--sync") {
        let server = rpc_sync::server(rpc_core::ServerOptions::default())?;
        add_mixed_services(&server);
        let port = server.add_insecure_port(&address)?;
        server.start()?;
        println!("listening on {port} (blocking server)");
        server.wait_for_termination(None)?;
        return Ok(());
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| rpc_core::RpcError::internal(format!("no runtime: {e}")))?;
    runtime.block_on(async {
        let server = rpc_aio::server(rpc_core::ServerOptions::default());
        add_mixed_services(&server);
        let port = server.add_insecure_port(&address)?;
        server.start().await?;
        println!("listening on {port} (async server)");
        let _ = tokio::signal::ctrl_c().await;
        server.stop(Some(Duration::from_secs(1))).await;
        Ok(())
    })
}
