//! Child processes for the fault tests: the test binary runs itself again (its ignored
//! `child_process_entry` test) with a role in `RPC_FAULT_CHILD`; children are killed when
//! the `Killed` guard drops, so a failing test leaves none behind.

use super::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

const ROLE: &str = "RPC_FAULT_CHILD";

/// A child process, killed on drop; its stdout lines arrive on `lines`.
pub struct Killed {
    pub child: Child,
    pub lines: mpsc::Receiver<String>,
}

impl Killed {
    /// Waits (bounded) for a line containing `prefix`; returns what follows it.
    pub fn wait_line(&self, prefix: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    // libtest may print "test child_process_entry ... " before it.
                    if let Some(at) = line.find(prefix) {
                        return line[at + prefix.len()..].trim().to_owned();
                    }
                }
                Err(e) => panic!("no {prefix:?} line from the child: {e}"),
            }
        }
    }

    /// SIGKILL, and reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Killed {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts this test binary again as a child in `role` (space-separated words).
pub fn spawn(role: &str) -> Killed {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["child_process_entry", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Killed { child, lines }
}

/// Runs the role given in the environment, if any (the body of `child_process_entry`).
pub fn run_role() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let words: Vec<String> = role.split(' ').map(str::to_owned).collect();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let port: u16 = words[1].parse().unwrap();
        match words[0].as_str() {
            "server" => {
                let server = rpc_aio::server(ServerOptions::default());
                add_test_service(&server, Arc::default());
                let port = server.add_insecure_port(&format!("127.0.0.1:{port}")).unwrap();
                server.start().await.unwrap();
                println!("listening on {port}");
                std::future::pending::<()>().await;
            }
            "stream-client" => {
                use futures::StreamExt;
                let ch = channel(port);
                let mut call = ch.unary_stream::<Msg, Msg>(SERVER_STREAM).call(Msg { n: i32::MAX, ..msg("") });
                let first = call.next().await.expect("a first message").expect("a first message");
                println!("streaming {}", first.n);
                std::future::pending::<()>().await;
            }
            "load-client" => {
                let calls: usize = words[2].parse().unwrap();
                let ch = channel(port);
                ch.channel_ready().await.unwrap();
                let slow = ch.unary_unary::<Msg, Msg>(SLOW);
                let all =
                    (0..calls).map(|i| slow.call(rpc_aio::Request::new(Msg { n: i as i32, ..msg("") }).timeout(Duration::from_secs(30))));
                let results = futures::future::join_all(all).await;
                let ok = results.iter().filter(|r| r.is_ok()).count();
                let mut codes: Vec<String> = results
                    .iter()
                    .filter_map(|r| r.as_ref().err())
                    .map(|e| format!("{:?}", e.code()))
                    .collect();
                codes.sort();
                codes.dedup();
                println!("result ok={ok} failed={} codes={}", calls - ok, codes.join(","));
            }
            other => panic!("unknown child role {other}"),
        }
    });
}

/// The method the load clients call (registered by the stop-under-load test).
pub const SLOW: &str = "/test.Svc/Slow";
