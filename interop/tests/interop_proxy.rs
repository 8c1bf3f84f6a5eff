//! The interop cases through the transparent raw-bytes proxy (`examples/src/proxy.rs`, as
//! the `interop_proxy` binary): our clients -> a proxy of each face -> our servers, every
//! case, plaintext. The proxy knows no message type: metadata echoes, statuses and their
//! messages, deadlines, cancellation and per-message compression all pass through it.
//! (gRPC Python's client through the proxy is in `interop_python.rs`.)

mod common;

use common::{bin, proxied, run_client};
use std::process::Command;

fn through_proxy(client: &str, proxy_face: &str, server: &str) {
    let (_backend, proxy) = proxied(server, proxy_face);
    let mut command = Command::new(bin(client));
    command.arg(format!("--server_port={}", proxy.port)).arg("--test_case=all");
    let what = format!("{client} -> {}", proxy.name);
    run_client(&what, command).assert_all_passed(&what, interop::cases::ALL.len());
}

#[test]
fn aio_client_through_an_aio_proxy_to_the_sync_server() {
    through_proxy("interop_client_aio", "aio", "interop_server_sync");
}

#[test]
fn sync_client_through_a_sync_proxy_to_the_aio_server() {
    through_proxy("interop_client_sync", "sync", "interop_server_aio");
}
