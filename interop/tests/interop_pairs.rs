//! Every client face against every server face, plaintext and TLS: the eight interop runs
//! of `cargo xtask interop`, each running every test case.

mod common;

use common::{Server, bin, run_client, tls_client_flags};
use std::process::Command;

fn pair(client: &str, server: &str, tls: bool) {
    let mut command = Command::new(bin(server));
    command.arg("--port=0");
    if tls {
        command.arg("--use_tls=true");
    }
    let server = Server::start(server, command);
    let mut command = Command::new(bin(client));
    command
        .arg(format!("--server_port={}", server.port))
        .arg("--test_case=all")
        .args(tls_client_flags(tls));
    let what = format!("{client} -> {} ({})", server.name, if tls { "tls" } else { "plaintext" });
    run_client(&what, command).assert_all_passed(&what, interop::cases::ALL.len());
}

#[test]
fn sync_client_sync_server_plaintext() {
    pair("interop_client_sync", "interop_server_sync", false);
}

#[test]
fn sync_client_sync_server_tls() {
    pair("interop_client_sync", "interop_server_sync", true);
}

#[test]
fn sync_client_aio_server_plaintext() {
    pair("interop_client_sync", "interop_server_aio", false);
}

#[test]
fn sync_client_aio_server_tls() {
    pair("interop_client_sync", "interop_server_aio", true);
}

#[test]
fn aio_client_sync_server_plaintext() {
    pair("interop_client_aio", "interop_server_sync", false);
}

#[test]
fn aio_client_sync_server_tls() {
    pair("interop_client_aio", "interop_server_sync", true);
}

#[test]
fn aio_client_aio_server_plaintext() {
    pair("interop_client_aio", "interop_server_aio", false);
}

#[test]
fn aio_client_aio_server_tls() {
    pair("interop_client_aio", "interop_server_aio", true);
}

/// A client that cannot verify the server's name must fail its cases (and say so),
/// so a passing TLS run above really verified the certificate.
#[test]
fn tls_with_a_wrong_name_fails() {
    let mut command = Command::new(bin("interop_server_aio"));
    command.args(["--port=0", "--use_tls=true"]);
    let server = Server::start("interop_server_aio", command);
    let mut command = Command::new(bin("interop_client_aio"));
    command
        .arg(format!("--server_port={}", server.port))
        .args(["--test_case=empty_unary", "--server_host_override=wrong.example.com"])
        .args(tls_client_flags(true));
    let run = run_client("interop_client_aio -> interop_server_aio (tls, wrong name)", command);
    assert_eq!(run.summary(), Some((0, 1)), "{}", run.stdout);
    assert!(run.status.is_some_and(|s| !s.success()), "a failed run must exit non-zero");
}
