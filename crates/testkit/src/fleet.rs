//! Backends for the fleet tests: each one a separate process (the test binary run again
//! through its ignored `child_process_entry` test, which calls [`run_role`]; a
//! [`Child`], killed when dropped) serving `fleet.Svc` and `grpc.health.v1.Health` on its own
//! loopback port, so that a backend can be killed, drained or restarted like a real one.
//!
//! `fleet.Svc` is stateless per call, so a test can say in the request what a call's
//! attempts get, whichever backend each attempt reaches:
//! - `Who`: the backend's name; prints `got <n>` (the request's `n`) on stdout first;
//! - `Flaky`: `text` = `fail K CODE [pushback MS] [after MS]`: the attempts before the
//!   K-th (by `grpc-previous-rpc-attempts`) fail with CODE (with that pushback, after that
//!   wait); later ones answer `<name> prev=<previous attempts>`;
//! - `Hang`: the first attempt waits (until cancelled, or 30 s), later ones answer;
//! - `Stream`: one message, then UNAVAILABLE;
//! - `Stats`: `n` = the attempts of Flaky/Hang/Stream this backend saw, `text` = how many of
//!   them were cancelled;
//! - `SetHealth`: `text` = `SERVING` or `NOT_SERVING` for the service `fleet.Svc`;
//! - `Drain`: stops the server with a grace period (GOAWAY), then the process exits.

use crate::process::Child;
use crate::{Msg, msg};
use rpc_aio::{RpcError, ServerOptions, ServicerContext, StatusCode, unary_stream_rpc_method_handler, unary_unary_rpc_method_handler};
use rpc_health::{HealthServicer, ServingStatus, add_health_servicer_to_server};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The variable that gives a child its role.
pub const ROLE: &str = "RPC_FLEET_CHILD";

/// The backend's name, and the request's `n` back.
pub const WHO: &str = "/fleet.Svc/Who";
/// Fails the attempts the request's text asks for.
pub const FLAKY: &str = "/fleet.Svc/Flaky";
/// The first attempt waits for cancellation.
pub const HANG: &str = "/fleet.Svc/Hang";
/// One message, then UNAVAILABLE.
pub const STREAM: &str = "/fleet.Svc/Stream";
/// What the backend counted.
pub const STATS: &str = "/fleet.Svc/Stats";
/// Sets the health of [`SERVICE`].
pub const SET_HEALTH: &str = "/fleet.Svc/SetHealth";
/// Stops the backend gracefully.
pub const DRAIN: &str = "/fleet.Svc/Drain";
/// The service name the health service reports on.
pub const SERVICE: &str = "fleet.Svc";

/// A reserved loopback port (bound and released: the child binds it again).
pub fn reserve_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A backend process.
#[derive(Debug)]
pub struct Backend {
    /// Its name (what `Who` answers).
    pub name: String,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The process.
    pub process: Child,
}

impl Backend {
    /// Starts backend `name` on `port` (0: a fresh one) and waits until it listens.
    pub fn start(name: &str, port: u16) -> Backend {
        let port = if port == 0 { reserve_port() } else { port };
        let mut process = Child::spawn(
            Command::new(std::env::current_exe().unwrap())
                .args(["child_process_entry", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
                .env(ROLE, format!("{port} {name}"))
                .stderr(Stdio::null()),
        );
        let bound = process.wait_line("listening on");
        assert_eq!(bound, port.to_string());
        Backend {
            name: name.to_owned(),
            port,
            process,
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the backend (SIGKILL) and returns the `n` of every `got <n>` line it printed
    /// (the Who calls its handler saw), read to the end of its output.
    pub fn kill(&mut self) -> Vec<i32> {
        self.process.kill();
        self.process.wait_exit();
        self.process
            .seen()
            .iter()
            .filter_map(|line| line.find("got ").map(|at| line[at + 4..].trim().parse().unwrap()))
            .collect()
    }

    /// Waits for a line with `prefix` from the backend.
    pub fn wait_line(&mut self, prefix: &str) -> String {
        self.process.wait_line(prefix)
    }
}

/// A `ipv4:` target naming every backend.
pub fn target(backends: &[&Backend]) -> String {
    let list: Vec<String> = backends.iter().map(|b| b.addr()).collect();
    format!("ipv4:{}", list.join(","))
}

/// In a child started by [`Backend::start`]: runs the backend (never returns until it
/// is drained); elsewhere does nothing. The body of every fleet test binary's
/// `child_process_entry`.
pub fn run_role() {
    if let Ok(role) = std::env::var(ROLE)
        && let Some((port, name)) = role.split_once(' ')
        && let Ok(port) = port.parse()
    {
        run_backend(port, name);
    }
}

fn run_backend(port: u16, name: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let server = rpc_aio::server(ServerOptions::default());
        let health = HealthServicer::new();
        health.set(SERVICE, ServingStatus::Serving);
        add_health_servicer_to_server(health.clone(), &server);
        let attempts = Arc::new(AtomicUsize::new(0));
        let cancelled = Arc::new(AtomicUsize::new(0));
        let previous = |ctx: &ServicerContext| -> u32 {
            ctx.invocation_metadata()
                .get_str("grpc-previous-rpc-attempts")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        let me = name.to_owned();
        server.add_method_handler(
            WHO,
            unary_unary_rpc_method_handler(move |m: Msg, _ctx: ServicerContext| {
                println!("got {}", m.n);
                let me = me.clone();
                async move { Ok(Msg { n: m.n, ..msg(&me) }) }
            }),
        );
        let (me, seen) = (name.to_owned(), attempts.clone());
        server.add_method_handler(
            FLAKY,
            unary_unary_rpc_method_handler(move |m: Msg, ctx: ServicerContext| {
                seen.fetch_add(1, Ordering::SeqCst);
                let prev = previous(&ctx);
                let me = me.clone();
                async move {
                    let words: Vec<&str> = m.text.split(' ').collect();
                    let failing: u32 = words.get(1).and_then(|w| w.parse().ok()).unwrap_or(0);
                    let option = |key: &str| words.iter().position(|w| *w == key).and_then(|i| words.get(i + 1)).copied();
                    if prev < failing {
                        let code = words
                            .get(2)
                            .and_then(|c| StatusCode::from_name(c))
                            .unwrap_or(StatusCode::Unavailable);
                        if let Some(ms) = option("pushback") {
                            ctx.add_trailing_metadata("grpc-retry-pushback-ms", ms)?;
                        }
                        if let Some(ms) = option("after").and_then(|ms| ms.parse().ok()) {
                            tokio::time::sleep(Duration::from_millis(ms)).await;
                        }
                        return Err(ctx.abort(code, format!("{me} fails attempt {prev}")));
                    }
                    Ok(msg(&format!("{me} prev={prev}")))
                }
            }),
        );
        let (me, seen, gone) = (name.to_owned(), attempts.clone(), cancelled.clone());
        server.add_method_handler(
            HANG,
            unary_unary_rpc_method_handler(move |_m: Msg, ctx: ServicerContext| {
                seen.fetch_add(1, Ordering::SeqCst);
                let prev = previous(&ctx);
                let (gone, me) = (gone.clone(), me.clone());
                async move {
                    if prev == 0 {
                        // Until the client cancels (nothing else ends this RPC), or 30 s.
                        tokio::select! {
                            () = ctx.on_cancel() => {
                                gone.fetch_add(1, Ordering::SeqCst);
                                return Err(RpcError::cancelled("cancelled by the client"));
                            }
                            () = tokio::time::sleep(Duration::from_secs(30)) => {}
                        }
                    }
                    Ok(msg(&format!("{me} prev={prev}")))
                }
            }),
        );
        let seen = attempts.clone();
        server.add_method_handler(
            STREAM,
            unary_stream_rpc_method_handler(move |_m: Msg, _ctx: ServicerContext| {
                seen.fetch_add(1, Ordering::SeqCst);
                async move {
                    let items = vec![Ok(msg("first")), Err(RpcError::unavailable("the stream breaks after one message"))];
                    Ok(rpc_aio::ResponseStream::new(futures::stream::iter(items)))
                }
            }),
        );
        let (seen, gone) = (attempts.clone(), cancelled.clone());
        server.add_method_handler(
            STATS,
            unary_unary_rpc_method_handler(move |_m: Msg, _ctx: ServicerContext| {
                let n = seen.load(Ordering::SeqCst) as i32;
                let c = gone.load(Ordering::SeqCst);
                async move { Ok(Msg { n, ..msg(&c.to_string()) }) }
            }),
        );
        let checker = health.clone();
        server.add_method_handler(
            SET_HEALTH,
            unary_unary_rpc_method_handler(move |m: Msg, _ctx: ServicerContext| {
                let status = if m.text == "SERVING" {
                    ServingStatus::Serving
                } else {
                    ServingStatus::NotServing
                };
                checker.set(SERVICE, status);
                async move { Ok(msg("set")) }
            }),
        );
        let (stop_tx, mut stop_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        server.add_method_handler(
            DRAIN,
            unary_unary_rpc_method_handler(move |_m: Msg, _ctx: ServicerContext| {
                let _ = stop_tx.send(());
                async move { Ok(msg("draining")) }
            }),
        );
        let port = server.add_insecure_port(&format!("127.0.0.1:{port}")).unwrap();
        server.start().await.unwrap();
        println!("listening on {port}");
        let _ = stop_rx.recv().await;
        // The grace period lets the calls in flight (the Drain call among them) finish.
        server.stop(Some(Duration::from_secs(10))).await;
        println!("stopped");
    });
}
