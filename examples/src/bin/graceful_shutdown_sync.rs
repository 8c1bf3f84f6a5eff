//! A blocking server that shuts down gracefully on SIGINT/SIGTERM: greeter + health, lame-duck
//! drain, grace, shielded start-up and finalizers.
//!
//! `cargo run -p examples --bin graceful_shutdown_sync -- --port 0 --grace 5 --drain-delay 1`
//! (also `--startup-delay SECONDS`, `--workers N`, and `--stuck` to make every handler hang
//! forever). Exits 0 when the shutdown was clean.

use examples::{args, pb::helloworld::add_greeter_servicer_to_server, slow_greeter::BlockingSlowGreeter};
use rpc_health::{HealthServicer, ServingStatus, add_health_servicer_to_server};
use std::io::Write;
use std::process::ExitCode;

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn main() -> ExitCode {
    args::init_logging();
    let workers = args::flag("--workers").and_then(|w| w.parse().ok()).unwrap_or(64);
    let options = rpc_core::ServerOptions::default().max_workers(workers).max_queued_rpcs(workers * 4);
    let server = match rpc_sync::server(options) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("cannot create the server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let health = HealthServicer::new();
    add_greeter_servicer_to_server(
        BlockingSlowGreeter {
            stuck: args::switch("--stuck"),
        },
        &server,
    );
    add_health_servicer_to_server(health.clone(), &server);
    health.set("helloworld.Greeter", ServingStatus::Serving);
    let port = match server.add_insecure_port(&format!("127.0.0.1:{}", args::port(0))) {
        Ok(port) => port,
        Err(e) => {
            eprintln!("cannot bind: {e}");
            return ExitCode::FAILURE;
        }
    };
    let startup_delay = args::seconds("--startup-delay", 0.0);
    let outcome = rpc_sync::Shutdown::new(Some(args::seconds("--grace", 5.0)))
        .drain_delay(args::seconds("--drain-delay", 0.0))
        .startup_blocking("warm caches", move || {
            say("startup: begin");
            std::thread::sleep(startup_delay);
            say("startup: done");
            Ok(())
        })
        .on_started(move || say(&format!("listening on {port}")))
        .on_signal(move || health.enter_graceful_shutdown())
        .finalizer_blocking("close database", || {
            say("finalizer: close database");
            Ok(())
        })
        .finalizer_blocking("flush logs", || {
            say("finalizer: flush logs");
            Ok(())
        })
        .serve(&server);
    match outcome {
        Ok(outcome) => {
            say(&format!(
                "shutdown: clean={} grace_cut_short={}",
                outcome.is_clean(),
                outcome.grace_cut_short
            ));
            // Stuck handler threads may still be alive; exit without waiting for them.
            std::process::exit(if outcome.is_clean() { 0 } else { 1 });
        }
        Err(e) => {
            eprintln!("server failed: {e}");
            ExitCode::FAILURE
        }
    }
}
