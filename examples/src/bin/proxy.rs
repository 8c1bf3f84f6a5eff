//! A transparent gRPC proxy (see `examples/src/proxy.rs`): every RPC on `--port` is
//! forwarded, whatever its method, to `--backend`, metadata and status included. `--sync`
//! serves it from a blocking server (a worker per RPC) instead of an async one.
//!
//! ```text
//! cargo run -p examples --bin route_guide_server_aio -- --port 50051 &
//! cargo run -p examples --bin proxy -- --port 50052 --backend 127.0.0.1:50051 &
//! cargo run -p examples --bin route_guide_client_aio -- --target 127.0.0.1:50052
//! ```

use examples::{args, proxy};

fn main() -> Result<(), rpc_core::RpcError> {
    args::init_logging();
    let backend = args::flag("--backend").unwrap_or_else(|| "127.0.0.1:50051".to_owned());
    let address = format!("127.0.0.1:{}", args::port(50052));
    proxy::run(&address, &backend, args::switch("--sync"), |port| println!("listening on {port}"))
}
