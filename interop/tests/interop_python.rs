//! The third-party peer: gRPC Python's client (`interop/python/interop_client.py`) against
//! our two servers, and our two clients against gRPC Python's server, plaintext and TLS.
//!
//! The Python side runs in a venv under the target directory, created with `python3 -m venv`
//! and `pip install grpcio grpcio-tools` when missing. Without `python3` on the machine the
//! tests print a note and pass; with it, a venv that cannot be made (no PyPI, no `venv`
//! module) fails them with a message that says so.

mod common;

use common::{Server, bin, run_client, tls_client_flags};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long creating the venv and installing grpcio may take.
const VENV_SETUP: Duration = Duration::from_secs(900);

fn python_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python")
}

fn venv_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("interop-venv")
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// Runs `command` to completion within `limit`; its status and combined output.
fn run_bounded(mut command: Command, limit: Duration) -> Result<(bool, String), String> {
    let output_file = tempfile_path("interop-python-setup");
    let out = std::fs::File::create(&output_file).map_err(|e| format!("cannot create {}: {e}", output_file.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let output = std::fs::read_to_string(&output_file).unwrap_or_default();
    let _ = std::fs::remove_file(&output_file);
    match status {
        Some(status) => Ok((status.success(), output)),
        None => Err(format!("{command:?} did not finish within {limit:?}; output:\n{}", tail(&output))),
    }
}

fn tempfile_path(prefix: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{prefix}-{}-{:?}.log", std::process::id(), std::thread::current().id()))
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Whether `python` can import grpc and grpc_tools.
fn has_grpc(python: &Path) -> bool {
    let mut command = Command::new(python);
    command.args(["-c", "import grpc, grpc_tools"]);
    matches!(run_bounded(command, Duration::from_secs(60)), Ok((true, _)))
}

/// The venv's python, made ready once per test binary: `None` when the machine has no
/// `python3` (the tests then skip); panics with the reason when the venv cannot be made.
fn python() -> Option<PathBuf> {
    static READY: OnceLock<Result<Option<PathBuf>, String>> = OnceLock::new();
    match READY.get_or_init(prepare_venv) {
        Ok(python) => python.clone(),
        Err(why) => panic!("{why}"),
    }
}

fn prepare_venv() -> Result<Option<PathBuf>, String> {
    if Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        println!("note: python3 is not installed here; skipping the gRPC Python interop runs");
        return Ok(None);
    }
    let venv = venv_dir();
    let python = venv_python(&venv);
    if python.exists() && has_grpc(&python) {
        return Ok(Some(python));
    }
    println!(
        "creating the gRPC Python venv in {} (python3 -m venv; pip install grpcio grpcio-tools)",
        venv.display()
    );
    if !python.exists() {
        let mut command = Command::new("python3");
        command.args(["-m", "venv"]).arg(&venv);
        match run_bounded(command, VENV_SETUP)? {
            (true, _) => {}
            (false, output) => {
                return Err(format!(
                    "python3 -m venv {} failed (on Debian/Ubuntu: apt-get install python3-venv):\n{}",
                    venv.display(),
                    tail(&output)
                ));
            }
        }
    }
    let mut command = Command::new(&python);
    command.args(["-m", "pip", "install", "--disable-pip-version-check", "grpcio", "grpcio-tools"]);
    match run_bounded(command, VENV_SETUP)? {
        (true, _) if has_grpc(&python) => Ok(Some(python)),
        (_, output) => Err(format!(
            "could not install grpcio and grpcio-tools into {} (is PyPI reachable?); pip said:\n{}",
            venv.display(),
            tail(&output)
        )),
    }
}

fn python_server(python: &Path, tls: bool) -> Server {
    let mut command = Command::new(python);
    command.arg(python_dir().join("interop_server.py")).arg("--port=0");
    if tls {
        command.arg("--use_tls=true");
    }
    Server::start("python interop_server.py", command)
}

fn our_server(name: &str, tls: bool) -> Server {
    let mut command = Command::new(bin(name));
    command.arg("--port=0");
    if tls {
        command.arg("--use_tls=true");
    }
    Server::start(name, command)
}

fn security(tls: bool) -> &'static str {
    if tls { "tls" } else { "plaintext" }
}

#[test]
fn python_client_against_our_servers() {
    let Some(python) = python() else { return };
    for server in ["interop_server_sync", "interop_server_aio"] {
        for tls in [false, true] {
            let server = our_server(server, tls);
            let mut command = Command::new(&python);
            command
                .arg(python_dir().join("interop_client.py"))
                .arg(format!("--server_port={}", server.port))
                .arg("--test_case=all")
                .args(tls_client_flags(tls));
            let what = format!("python interop_client.py -> {} ({})", server.name, security(tls));
            run_client(&what, command).assert_all_passed(&what, interop::cases::ALL.len());
        }
    }
}

#[test]
fn our_clients_against_the_python_server() {
    let Some(python) = python() else { return };
    // All the cases, the client-compressed ones too: the Python server checks each request
    // message's compressed flag as gRPC's official interop servers do (interop_server.py).
    let cases: Vec<&str> = interop::cases::ALL.to_vec();
    for tls in [false, true] {
        let server = python_server(&python, tls);
        for client in ["interop_client_sync", "interop_client_aio"] {
            let mut command = Command::new(bin(client));
            command
                .arg(format!("--server_port={}", server.port))
                .arg(format!("--test_case={}", cases.join(",")))
                .args(tls_client_flags(tls));
            let what = format!("{client} -> {} ({})", server.name, security(tls));
            run_client(&what, command).assert_all_passed(&what, cases.len());
        }
    }
}

/// gRPC Python's client -> the raw-bytes proxy of each face -> our async server: every
/// case passes through a proxy that knows no message type.
#[test]
fn python_client_through_the_proxy() {
    let Some(python) = python() else { return };
    for proxy_face in ["aio", "sync"] {
        let (_backend, proxy) = common::proxied("interop_server_aio", proxy_face);
        let mut command = Command::new(&python);
        command
            .arg(python_dir().join("interop_client.py"))
            .arg(format!("--server_port={}", proxy.port))
            .arg("--test_case=all");
        let what = format!("python interop_client.py -> {}", proxy.name);
        run_client(&what, command).assert_all_passed(&what, interop::cases::ALL.len());
    }
}
