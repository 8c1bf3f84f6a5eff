//! The interop test server on the blocking face: `interop_server_sync --port 8080 [--use_tls]`.
//! Prints `listening on PORT` once serving; serves until SIGINT or SIGTERM.

use clap::Parser;
use interop::args::ServerArgs;
use interop::pb::add_test_service_servicer_to_server;
use interop::server;
use interop::servicer_sync::BlockingTestService;
use rpc_core::ServerOptions;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = ServerArgs::parse();
    let server = match rpc_sync::server(ServerOptions::default()) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("cannot make the server: {e}");
            return ExitCode::FAILURE;
        }
    };
    add_test_service_servicer_to_server(BlockingTestService, &server);
    let port = match server::add_port(&args, |a| server.add_insecure_port(a), |a, c| server.add_secure_port(a, c)) {
        Ok(port) => port,
        Err(e) => {
            eprintln!("cannot listen on {}: {e}", server::address(&args));
            return ExitCode::FAILURE;
        }
    };
    let outcome = rpc_sync::Shutdown::new(Some(server::GRACE))
        .on_started(move || server::announce(port, &args))
        .serve(&server);
    match outcome {
        Ok(outcome) => outcome.exit_code(),
        Err(e) => {
            eprintln!("server failed: {e}");
            ExitCode::FAILURE
        }
    }
}
