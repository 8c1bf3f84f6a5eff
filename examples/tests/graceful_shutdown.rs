//! Graceful shutdown with real processes and real signals: the `graceful_shutdown_aio` and
//! `graceful_shutdown_sync` examples run as children and are sent SIGTERM/SIGINT.
#![cfg(unix)]

use examples::pb::helloworld::{GreeterStub, HelloRequest};
use rpc_core::{ChannelOptions, Request, RpcError, StatusCode};
use rpc_health::{HealthCheckRequest, HealthStub, ServingStatus};
use rpc_testkit::process::Child;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

const FACES: [&str; 2] = [
    env!("CARGO_BIN_EXE_graceful_shutdown_aio"),
    env!("CARGO_BIN_EXE_graceful_shutdown_sync"),
];
const GUARD: Duration = Duration::from_secs(60);

struct Server {
    child: Child,
    port: u16,
}

fn spawn(bin: &str, args: &[&str]) -> Child {
    Child::spawn(Command::new(bin).args(args).stderr(Stdio::null())).with_limit(GUARD)
}

impl Server {
    fn start(bin: &str, args: &[&str]) -> Server {
        let mut child = spawn(bin, &[&["--port", "0"], args].concat());
        let port = child.wait_line("listening on ").parse().unwrap();
        Server { child, port }
    }

    /// Waits (with a hang guard) for the next line starting with `prefix`.
    fn wait_for(&mut self, prefix: &str) {
        self.child.wait_line(prefix);
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit (hang guard), collecting the rest of its output.
    fn exit(&mut self) -> ExitStatus {
        let status = self.child.wait_exit();
        status.unwrap_or_else(|| panic!("server did not exit; saw {:?}", self.child.seen()))
    }

    fn seen(&self) -> &[String] {
        self.child.seen()
    }

    fn position(&self, prefix: &str) -> usize {
        self.seen()
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line {prefix:?} in {:?}", self.seen()))
    }

    fn channel(&self) -> rpc_sync::Channel {
        rpc_sync::insecure_channel(&format!("127.0.0.1:{}", self.port), ChannelOptions::default()).unwrap()
    }
}

fn greet(channel: &rpc_sync::Channel, name: &str) -> std::thread::JoinHandle<Result<String, RpcError>> {
    let stub = GreeterStub::new(channel.clone());
    let request = Request::new(HelloRequest { name: name.to_owned() }).timeout(Duration::from_secs(120));
    std::thread::spawn(move || stub.say_hello(request).map(|r| r.message))
}

fn assert_finalizers_in_reverse_order(server: &Server) {
    assert!(
        server.position("finalizer: flush logs") < server.position("finalizer: close database"),
        "{:?}",
        server.seen()
    );
}

#[test]
fn sigterm_while_idle_exits_zero_after_finalizers() {
    for bin in FACES {
        let mut server = Server::start(bin, &["--grace", "2"]);
        server.signal("TERM");
        assert!(server.exit().success(), "{bin}: {:?}", server.seen());
        assert_finalizers_in_reverse_order(&server);
        server.wait_for("shutdown: clean=true");
    }
}

#[test]
fn sigterm_with_fifty_slow_calls_in_flight() {
    for bin in FACES {
        let mut server = Server::start(bin, &["--grace", "1"]);
        let channel = server.channel();
        greet(&channel, "warm-up").join().unwrap().unwrap();
        let short: Vec<_> = (0..25).map(|_| greet(&channel, "slow:300")).collect();
        let long: Vec<_> = (0..25).map(|_| greet(&channel, "slow:600000")).collect();
        std::thread::sleep(Duration::from_millis(500)); // let the calls reach their handlers
        server.signal("TERM");
        let status = server.exit();
        let short: Vec<_> = short.into_iter().map(|c| c.join().unwrap()).collect();
        let long: Vec<_> = long.into_iter().map(|c| c.join().unwrap()).collect();
        assert!(
            short.iter().filter(|r| r.is_ok()).count() > 0,
            "{bin}: no call finished within the grace: {short:?}"
        );
        for r in &short {
            if let Err(e) = r {
                assert_eq!(
                    e.code(),
                    StatusCode::Unavailable,
                    "{bin}: a call that fits in the grace failed: {e}"
                );
            }
        }
        for r in &long {
            assert!(r.is_err(), "{bin}: a 10-minute call cannot have finished");
        }
        assert!(!status.success(), "{bin}: cancelled calls make the shutdown unclean");
        assert_finalizers_in_reverse_order(&server);
    }
}

#[test]
fn second_sigint_cuts_the_grace_short() {
    for bin in FACES {
        let mut server = Server::start(bin, &["--grace", "600"]);
        let channel = server.channel();
        let call = greet(&channel, "slow:600000");
        std::thread::sleep(Duration::from_millis(300));
        server.signal("INT");
        std::thread::sleep(Duration::from_millis(300));
        server.signal("INT");
        let status = server.exit();
        assert!(!status.success(), "{bin}");
        server.wait_for("shutdown: clean=false grace_cut_short=true");
        assert!(call.join().unwrap().is_err());
        assert_finalizers_in_reverse_order(&server);
    }
}

#[test]
fn sigterm_during_slow_startup_is_held_until_startup_is_done() {
    for bin in FACES {
        let mut server = Server {
            child: spawn(bin, &["--port", "0", "--startup-delay", "1.5", "--grace", "1"]),
            port: 0,
        };
        server.wait_for("startup: begin");
        server.signal("TERM");
        assert!(server.exit().success(), "{bin}: {:?}", server.seen());
        let done = server.position("startup: done");
        let listening = server.position("listening on");
        assert!(
            done < listening && listening < server.position("finalizer: flush logs"),
            "{bin}: {:?}",
            server.seen()
        );
        assert_finalizers_in_reverse_order(&server);
    }
}

#[test]
fn finalizers_run_when_every_worker_is_stuck() {
    let bin = env!("CARGO_BIN_EXE_graceful_shutdown_sync");
    let mut server = Server::start(bin, &["--stuck", "--workers", "2", "--grace", "0.5"]);
    let channel = server.channel();
    let calls: Vec<_> = (0..2).map(|i| greet(&channel, &format!("stuck {i}"))).collect();
    std::thread::sleep(Duration::from_millis(300));
    server.signal("TERM");
    server.exit();
    assert_finalizers_in_reverse_order(&server);
    for c in calls {
        assert!(c.join().unwrap().is_err());
    }
}

#[test]
fn health_watch_streams_not_serving_as_soon_as_the_signal_lands() {
    for bin in FACES {
        let mut server = Server::start(bin, &["--drain-delay", "2", "--grace", "1"]);
        let stub = HealthStub::new(server.channel());
        let request = Request::new(HealthCheckRequest {
            service: "helloworld.Greeter".into(),
        })
        .timeout(Duration::from_secs(60));
        let mut watch = stub.watch(request);
        assert_eq!(watch.next().unwrap().unwrap().status(), ServingStatus::Serving);
        server.signal("TERM");
        assert_eq!(watch.next().unwrap().unwrap().status(), ServingStatus::NotServing, "{bin}");
        // Still serving during the drain delay.
        let check = Request::new(HealthCheckRequest { service: String::new() }).timeout(Duration::from_secs(10));
        assert_eq!(stub.check(check).unwrap().status(), ServingStatus::NotServing);
        drop(watch);
        server.exit();
    }
}
