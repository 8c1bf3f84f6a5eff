//! The interop harness shared by the pair and Python-peer tests: a server process that
//! announces its port (`listening on PORT`), a client process run to completion, both with
//! bounded waits, and servers killed when dropped.

#![allow(dead_code)] // each test file uses a part

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a server may take to announce its port.
pub const SERVER_START: Duration = Duration::from_secs(60);
/// How long one client run (every case) may take.
pub const CLIENT_RUN: Duration = Duration::from_secs(240);

/// The path of one of this crate's binaries.
pub fn bin(name: &str) -> PathBuf {
    let path = match name {
        "interop_server_sync" => env!("CARGO_BIN_EXE_interop_server_sync"),
        "interop_server_aio" => env!("CARGO_BIN_EXE_interop_server_aio"),
        "interop_client_sync" => env!("CARGO_BIN_EXE_interop_client_sync"),
        "interop_client_aio" => env!("CARGO_BIN_EXE_interop_client_aio"),
        "interop_proxy" => env!("CARGO_BIN_EXE_interop_proxy"),
        other => panic!("no binary {other}"),
    };
    PathBuf::from(path)
}

/// A running server; killed on drop.
pub struct Server {
    pub name: String,
    pub port: u16,
    child: Child,
}

impl Server {
    /// Starts `command` (whose stdout must announce `listening on PORT`) and waits for the port.
    pub fn start(name: &str, mut command: Command) -> Server {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            // Keeps draining stdout after the announcement, so the server never blocks on it.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if !sent && let Some(port) = parse_port(&line) {
                    let _ = tx.send(port);
                    sent = true;
                }
            }
        });
        let mut server = Server {
            name: name.to_owned(),
            port: 0,
            child,
        };
        match rx.recv_timeout(SERVER_START) {
            Ok(port) => server.port = port,
            Err(_) => {
                let status = server.child.try_wait().ok().flatten();
                panic!("{name} did not announce its port within {SERVER_START:?} (exit status: {status:?})");
            }
        }
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port in a `listening on PORT ...` line.
pub fn parse_port(line: &str) -> Option<u16> {
    line.trim().strip_prefix("listening on ")?.split_whitespace().next()?.parse().ok()
}

/// What a client run printed and how it ended.
#[derive(Debug)]
pub struct ClientRun {
    pub status: Option<ExitStatus>,
    pub stdout: String,
}

impl ClientRun {
    /// The closing `N passed, M failed` line, parsed.
    pub fn summary(&self) -> Option<(usize, usize)> {
        let last = self.stdout.lines().rev().find(|l| !l.trim().is_empty())?;
        let (passed, failed) = last.trim().split_once(", ")?;
        Some((
            passed.strip_suffix(" passed")?.parse().ok()?,
            failed.strip_suffix(" failed")?.parse().ok()?,
        ))
    }

    /// Panics unless the run exited 0 and passed exactly `cases` cases with none failed.
    pub fn assert_all_passed(&self, what: &str, cases: usize) {
        let ok = self.status.is_some_and(|s| s.success()) && self.summary() == Some((cases, 0));
        assert!(
            ok,
            "{what}: expected {cases} passed, 0 failed and exit 0; got {:?}, output:\n{}",
            self.status, self.stdout
        );
    }
}

/// Runs a client to completion (killed after [`CLIENT_RUN`]), echoing its output.
pub fn run_client(what: &str, mut command: Command) -> ClientRun {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + CLIENT_RUN;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let stdout = reader.join().unwrap_or_default();
    let summary = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("(no output)");
    println!("{what}: {summary}{}", if status.is_none() { " (killed: timed out)" } else { "" });
    for line in stdout.lines().filter(|l| l.starts_with("FAIL")) {
        println!("    {line}");
    }
    ClientRun { status, stdout }
}

/// The flags that select TLS with the interop test CA, or none.
pub fn tls_client_flags(tls: bool) -> &'static [&'static str] {
    if tls { &["--use_tls=true", "--use_test_ca=true"] } else { &[] }
}

/// Starts our `server` (plaintext) and a proxy of `proxy_face` ("aio" or "sync") in front
/// of it; the proxy's port is where clients go.
pub fn proxied(server: &str, proxy_face: &str) -> (Server, Server) {
    let mut command = Command::new(bin(server));
    command.arg("--port=0");
    let backend = Server::start(server, command);
    let mut command = Command::new(bin("interop_proxy"));
    command.arg("--port=0").arg(format!("--backend_port={}", backend.port));
    if proxy_face == "sync" {
        command.arg("--sync");
    }
    let proxy = Server::start(&format!("{proxy_face} proxy -> {server}"), command);
    (backend, proxy)
}
