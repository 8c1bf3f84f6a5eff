//! The third-party peer: gRPC Python's client (`interop/python/interop_client.py`) against
//! our two servers, and our two clients against gRPC Python's server, plaintext and TLS.
//!
//! The Python side runs in a venv under the target directory, created with `python3 -m venv`
//! and `pip install grpcio grpcio-tools grpcio-reflection` when missing. Where this machine cannot make venvs
//! (no `python3`, or no `venv` module) the tests print a note and pass, unless
//! `RPC_TEST_REQUIRE_PEERS` is set, as in CI; a venv that cannot be made for another reason
//! (no PyPI) fails them with a message that says so.

mod common;

use common::{Server, bin, python, python_dir, run_client, tls_client_flags};
use std::path::Path;
use std::process::Command;

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
