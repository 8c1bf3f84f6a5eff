//! The rpc-aio server's lifecycle beyond what both faces share (stopping with a grace is in
//! `crates/testkit/tests/server_stop_grace.rs`): starting twice, or after a stop, is an
//! error; a stop before the start terminates at once and releases the port.

use rpc_aio::{ServerOptions, StatusCode};
use rpc_testkit::{Msg, UNARY, aio_channel, bounded, msg, serve_aio};
use std::time::Duration;

#[tokio::test]
async fn start_twice_is_an_error_and_so_is_start_after_stop() {
    let (server, _target) = serve_aio(ServerOptions::default(), |_| {}).await;
    let err = server.start().await.unwrap_err();
    assert_eq!(err.code(), StatusCode::FailedPrecondition);
    assert!(server.add_insecure_port("127.0.0.1:0").is_err(), "ports are added before start");
    server.stop(None).await;
    assert_eq!(server.start().await.unwrap_err().code(), StatusCode::FailedPrecondition);
}

#[tokio::test]
async fn stop_before_start_terminates_at_once() {
    let server = rpc_aio::server(ServerOptions::default());
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    assert!(!server.wait_for_termination(Some(Duration::from_millis(50))).await);
    let handle = server.stop(Some(Duration::from_secs(30)));
    assert!(handle.is_done());
    assert!(bounded(server.wait_for_termination(Some(Duration::from_secs(20)))).await);
    assert_eq!(server.start().await.unwrap_err().code(), StatusCode::FailedPrecondition);
    // The port was released: nothing answers there.
    let ch = aio_channel(&format!("127.0.0.1:{port}"));
    let err = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
}
