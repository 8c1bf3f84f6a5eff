//! The interop harness shared by the pair and Python-peer tests: a server process that
//! announces its port (`listening on PORT`), a client process run to completion, both
//! the kit's child processes (bounded waits, killed when dropped).

#![allow(dead_code)] // each test file uses a part

use rpc_testkit::process::Child;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

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
    _child: Child,
}

impl Server {
    /// Starts `command` (whose stdout must announce `listening on PORT`) and waits for the port.
    pub fn start(name: &str, mut command: Command) -> Server {
        let mut child = Child::spawn(command.stderr(Stdio::inherit())).with_limit(SERVER_START);
        let line = child.wait_line("listening on ");
        let port = line
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{name} announced no port: {line:?}"));
        Server {
            name: name.to_owned(),
            port,
            _child: child,
        }
    }
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
    let mut child = Child::spawn(command.stderr(Stdio::inherit())).with_limit(CLIENT_RUN);
    let status = child.wait_exit();
    let stdout = child.seen().join("\n");
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

/// The gRPC Python peers' directory (`interop/python`).
pub fn python_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python")
}

/// The venv's python with grpcio, grpcio-tools and grpcio-reflection, made ready once per
/// test binary; `None` when this machine cannot make venvs (see `rpc_testkit::python`).
pub fn python() -> Option<PathBuf> {
    static READY: OnceLock<Option<PathBuf>> = OnceLock::new();
    READY
        .get_or_init(|| {
            let ready = |venv: &rpc_testkit::python::Venv| venv.imports("grpc, grpc_tools, grpc_reflection");
            rpc_testkit::python::venv(
                env!("CARGO_TARGET_TMPDIR"),
                "interop-venv",
                &["grpcio", "grpcio-tools", "grpcio-reflection"],
                ready,
                "the gRPC Python interop runs",
            )
            .map(|venv| venv.python())
        })
        .clone()
}
