//! The examples' transparent proxy (`examples/src/proxy.rs`) with the interop harness's
//! flags: `interop_proxy --port 0 --backend_port N [--sync]` forwards every RPC to
//! `127.0.0.1:N` over plaintext and prints `listening on PORT` once serving, so the interop
//! cases can run through it (`tests/interop_proxy.rs`).

use clap::Parser;
use std::process::ExitCode;

/// The proxy's flags.
#[derive(Debug, Parser)]
#[command(about = "a transparent proxy for the interop cases")]
struct Args {
    /// The port to listen on (on 127.0.0.1); 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The backend's port on 127.0.0.1.
    #[arg(long = "backend_port")]
    backend_port: u16,
    /// Serve from a blocking rpc-sync server instead of an rpc-aio one.
    #[arg(long)]
    sync: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let address = format!("127.0.0.1:{}", args.port);
    let backend = format!("127.0.0.1:{}", args.backend_port);
    let face = if args.sync { "sync" } else { "aio" };
    match examples::proxy::run(&address, &backend, args.sync, |port| {
        println!("listening on {port} (plaintext, {face} proxy)")
    }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("proxy failed: {e}");
            ExitCode::FAILURE
        }
    }
}
