//! A server process killed and restarted on the same port: the channel reconnects; a call
//! without wait_for_ready fails UNAVAILABLE within its deadline while the server is down,
//! one with wait_for_ready waits and succeeds once the server is back.
#![cfg(unix)]

mod hardening;

use hardening::child::spawn;
use hardening::*;
use rpc_aio::{ChannelOptions, Request, StatusCode};
use std::time::{Duration, Instant};

#[test]
#[ignore = "not a test: the entry point of the child processes (see hardening/child.rs)"]
fn child_process_entry() {
    hardening::child::run_role();
}

fn reserve_port() -> u16 {
    // Bound and released at once; std sets SO_REUSEADDR, so the child can bind it again.
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_reconnects_after_the_server_restarts() {
    let port = reserve_port();
    let mut server = spawn(&format!("server {port}"));
    assert_eq!(tokio::task::block_in_place(|| server.wait_line("listening on")), port.to_string());
    let options = ChannelOptions::default()
        .initial_reconnect_backoff(Duration::from_millis(100))
        .max_reconnect_backoff(Duration::from_millis(300));
    let ch = rpc_aio::insecure_channel(&format!("127.0.0.1:{port}"), options).unwrap();
    let unary = ch.unary_unary::<Msg, Msg>(UNARY);
    assert_eq!(bounded(unary.call(msg("before"))).await.unwrap().text, "echo:before");

    server.kill();
    for attempt in 0..3 {
        let started = Instant::now();
        let request = Request::new(msg("down")).timeout(Duration::from_secs(2));
        let err = bounded(unary.call(request)).await.unwrap_err();
        assert_eq!(err.code(), StatusCode::Unavailable, "attempt {attempt}: {err}");
        assert!(
            started.elapsed() < Duration::from_millis(2500),
            "attempt {attempt}: took {:?}",
            started.elapsed()
        );
    }

    // wait_for_ready rides through the outage: started while the server is down.
    let waiting = unary.call(Request::new(msg("waited")).wait_for_ready(true).timeout(Duration::from_secs(20)));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let server = spawn(&format!("server {port}"));
    assert_eq!(tokio::task::block_in_place(|| server.wait_line("listening on")), port.to_string());
    assert_eq!(bounded(waiting).await.unwrap().text, "echo:waited");
    assert_eq!(bounded(unary.call(msg("after"))).await.unwrap().text, "echo:after");

    // A wait_for_ready call whose deadline passes while the server is down ends at its deadline.
    drop(server);
    // Until the client has seen the socket close, a call may still be written to the dead
    // connection and fail UNAVAILABLE (no transparent retry: a known gap, docs/reliability.md).
    let lost = ch.wait_for_state_change(rpc_aio::ChannelConnectivity::Ready);
    assert_ne!(bounded(lost).await, rpc_aio::ChannelConnectivity::Ready);
    let started = Instant::now();
    let request = Request::new(msg("late")).wait_for_ready(true).timeout(Duration::from_millis(800));
    let err = bounded(unary.call(request)).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::DeadlineExceeded, "{err}");
    assert!(started.elapsed() < Duration::from_millis(1500), "took {:?}", started.elapsed());
}
