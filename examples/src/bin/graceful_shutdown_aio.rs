//! An async server that shuts down gracefully on SIGINT/SIGTERM: greeter + health, lame-duck
//! drain, grace, shielded start-up and finalizers.
//!
//! `cargo run -p examples --bin graceful_shutdown_aio -- --port 0 --grace 5 --drain-delay 1`
//! (also `--startup-delay SECONDS` for a slow start-up hook). Exits 0 when the shutdown was clean.

use examples::{args, pb::helloworld::add_greeter_servicer_to_server, slow_greeter::AsyncSlowGreeter};
use rpc_health::{HealthServicer, ServingStatus, add_health_servicer_to_server};
use std::io::Write;
use std::process::ExitCode;

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[tokio::main]
async fn main() -> ExitCode {
    args::init_logging();
    let server = rpc_aio::server(rpc_core::ServerOptions::default());
    let health = HealthServicer::new();
    add_greeter_servicer_to_server(AsyncSlowGreeter, &server);
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
    let outcome = rpc_aio::Shutdown::new(Some(args::seconds("--grace", 5.0)))
        .drain_delay(args::seconds("--drain-delay", 0.0))
        .startup("warm caches", move || async move {
            say("startup: begin");
            tokio::time::sleep(startup_delay).await;
            say("startup: done");
            Ok(())
        })
        .on_started(move || say(&format!("listening on {port}")))
        .on_signal(move || health.enter_graceful_shutdown())
        .finalizer("close database", || async {
            say("finalizer: close database");
            Ok(())
        })
        .finalizer_blocking("flush logs", || {
            say("finalizer: flush logs");
            Ok(())
        })
        .serve(&server)
        .await;
    match outcome {
        Ok(outcome) => {
            say(&format!(
                "shutdown: clean={} grace_cut_short={}",
                outcome.is_clean(),
                outcome.grace_cut_short
            ));
            outcome.exit_code()
        }
        Err(e) => {
            eprintln!("server failed: {e}");
            ExitCode::FAILURE
        }
    }
}
