//! Connectivity states, wait-for-ready across a late server (a call polled inline while the
//! server is down), fail-fast UNAVAILABLE, close.

use rpc_aio::{
    ChannelConnectivity as C, ChannelCredentials, ChannelOptions, Metadata, Request, ServerCredentials, ServerOptions, StatusCode,
    insecure_channel, secure_channel,
};
use rpc_testkit::pki::{Ca, Validity};
use rpc_testkit::{Msg, Style, TonicPeer, UNARY, bounded, eventually, free_port, msg, serve_service};
use std::time::Duration;

fn fast_backoff() -> ChannelOptions {
    ChannelOptions::default()
        .initial_reconnect_backoff(Duration::from_millis(50))
        .max_reconnect_backoff(Duration::from_millis(200))
}

#[tokio::test]
async fn idle_connecting_ready_then_shutdown() {
    let server = TonicPeer::start();
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let mut rx_states = Vec::new();
    assert_eq!(ch.get_state(false), C::Idle);
    assert_eq!(ch.get_state(true), C::Idle);
    let mut last = C::Idle;
    while last != C::Ready {
        last = bounded(ch.wait_for_state_change(last)).await;
        rx_states.push(last);
    }
    assert!(rx_states == [C::Connecting, C::Ready] || rx_states == [C::Ready], "{rx_states:?}");
    bounded(ch.channel_ready()).await.unwrap();
    bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap();
    assert_eq!(server.probe().calls(), 1);
    bounded(ch.close(None)).await;
    assert_eq!(ch.get_state(false), C::Shutdown);
    assert!(bounded(ch.channel_ready()).await.is_err());
    let err = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Cancelled);
    assert!(err.details().contains("closed"), "{err}");
}

#[tokio::test]
async fn refused_port_is_transient_failure_and_unavailable() {
    let port = free_port();
    let target = format!("127.0.0.1:{port}");
    let ch = insecure_channel(&target, fast_backoff()).unwrap();
    let err = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
    assert!(err.details().contains(&target), "{err}");
    assert_eq!(ch.get_state(false), C::TransientFailure);
}

#[tokio::test]
async fn wait_for_ready_survives_a_late_server() {
    // Nothing listens on the port at first (a bound port would accept connections into
    // its backlog), so the call sees refused connections until the server comes up.
    let port = free_port();
    let target = format!("127.0.0.1:{port}");
    let ch = insecure_channel(&target, fast_backoff()).unwrap();
    let mut waiting = ch
        .unary_unary::<Msg, Msg>(UNARY)
        .call(Request::new(msg("late")).wait_for_ready(true).timeout(Duration::from_secs(15)));
    // Polled (driven inline) while the server is down: the call is what tries to connect,
    // and it does not fail while it waits for the server.
    tokio::select! {
        r = &mut waiting => panic!("the wait_for_ready call ended while the server was down: {r:?}"),
        _ = eventually("the call to try the port", || ch.get_state(false) == C::TransientFailure) => {}
    }
    let fail_fast = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("now"))).await.unwrap_err();
    assert_eq!(fail_fast.code(), StatusCode::Unavailable);
    let server = TonicPeer::start_on(port);
    let resp = bounded(waiting).await.unwrap();
    assert_eq!(resp.text, "echo:late");
    assert_eq!(server.probe().calls(), 1);
    assert_eq!(ch.get_state(false), C::Ready);
}

#[tokio::test]
async fn wait_for_ready_ends_at_the_deadline() {
    let port = free_port();
    let ch = insecure_channel(&format!("127.0.0.1:{port}"), fast_backoff()).unwrap();
    let err = bounded(
        ch.unary_unary::<Msg, Msg>(UNARY)
            .call(Request::new(msg("x")).wait_for_ready(true).timeout(Duration::from_millis(300))),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), StatusCode::DeadlineExceeded);
}

#[tokio::test]
async fn connection_drop_goes_back_to_idle() {
    // An HTTP/2 peer that completes the handshake (the channel is READY), takes the first
    // stream and then closes the connection: the call fails UNAVAILABLE and the channel
    // goes back to IDLE (not TRANSIENT_FAILURE), ready to reconnect on the next call.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut conn) = h2::server::handshake(sock).await else { return };
                let _first = conn.accept().await;
                // Dropping the connection closes the socket.
            });
        }
    });
    let ch = insecure_channel(&format!("127.0.0.1:{port}"), fast_backoff()).unwrap();
    let err = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
    eventually("the channel to go back to IDLE", || ch.get_state(false) == C::Idle).await;
    acceptor.abort();
}

#[tokio::test]
async fn a_peer_that_closes_before_its_http2_settings_never_makes_the_channel_ready() {
    // READY means the transport can carry a call: a TCP connect alone is not enough.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            drop(sock);
        }
    });
    let ch = insecure_channel(&format!("127.0.0.1:{port}"), fast_backoff()).unwrap();
    let watcher = {
        let ch = ch.clone();
        tokio::spawn(async move {
            let mut seen = vec![];
            let mut last = C::Idle;
            while last != C::TransientFailure && seen.len() < 4 {
                last = ch.wait_for_state_change(last).await;
                seen.push(last);
            }
            seen
        })
    };
    let err = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
    assert!(err.details().contains("settings"), "{err}");
    eventually("the channel to be in TRANSIENT_FAILURE", || {
        ch.get_state(false) == C::TransientFailure
    })
    .await;
    let seen = bounded(watcher).await.unwrap();
    assert!(!seen.contains(&C::Ready), "{seen:?}");
    acceptor.abort();
}

#[tokio::test]
async fn close_with_grace_lets_a_call_finish() {
    let server = TonicPeer::start();
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let md = Metadata::new().with("x-sleep-ms", "200").unwrap();
    let call = ch.unary_unary::<Msg, Msg>(UNARY).call(Request::new(msg("slow")).metadata(md));
    call.start(); // run it before it is awaited, so it is in flight when close begins
    eventually("the server to have the call", || server.probe().calls() == 1).await;
    bounded(ch.close(Some(Duration::from_secs(10)))).await;
    assert_eq!(bounded(call).await.unwrap().text, "echo:slow");
    let err = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("late"))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Cancelled);
}

#[tokio::test]
async fn close_with_short_grace_cancels_a_hanging_call() {
    let server = TonicPeer::start();
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let md = Metadata::new().with("x-sleep-ms", "60000").unwrap();
    let call = ch.unary_unary::<Msg, Msg>(UNARY).call(Request::new(msg("hang")).metadata(md));
    call.start(); // run it before it is awaited, so it is in flight when close begins
    eventually("the server to have the call", || server.probe().calls() == 1).await;
    bounded(ch.close(Some(Duration::from_millis(100)))).await;
    assert_eq!(bounded(call).await.unwrap_err().code(), StatusCode::Cancelled);
}

#[tokio::test]
async fn dropping_the_last_channel_cancels_active_calls() {
    let server = TonicPeer::start();
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let md = Metadata::new().with("x-sleep-ms", "60000").unwrap();
    let call = ch.unary_unary::<Msg, Msg>(UNARY).call(Request::new(msg("hang")).metadata(md));
    call.start(); // run it before it is awaited, so it is in flight when close begins
    drop(ch);
    assert_eq!(bounded(call).await.unwrap_err().code(), StatusCode::Cancelled);
}

#[tokio::test]
async fn a_failing_tls_handshake_never_makes_the_channel_ready() {
    // READY means the transport can carry a call: a TCP connect to a TLS server whose
    // certificate the channel does not trust is not READY, and a wait-for-ready call
    // keeps waiting (to its deadline) instead of failing UNAVAILABLE.
    let server_ca = Ca::new("server's ca");
    let leaf = server_ca.leaf("server", &["localhost"], Validity::Now);
    let creds = ServerCredentials::ssl(&[(leaf.key.as_bytes(), leaf.cert.as_bytes())], None, false).unwrap();
    let (server, port, probe) = serve_service(Style::Async, ServerOptions::default(), creds).await;
    let other_ca = Ca::new("another ca");
    let channel_creds = ChannelCredentials::ssl(Some(other_ca.pem.as_bytes()), None, None).unwrap();
    let options = fast_backoff().ssl_target_name_override("localhost".to_owned());
    let ch = secure_channel(&format!("127.0.0.1:{port}"), channel_creds, options).unwrap();
    let watcher = {
        let ch = ch.clone();
        tokio::spawn(async move {
            let mut seen = vec![];
            let mut last = ch.get_state(true);
            while last != C::Shutdown {
                last = ch.wait_for_state_change(last).await;
                seen.push(last);
            }
            seen
        })
    };
    let err = bounded(
        ch.unary_unary::<Msg, Msg>(UNARY)
            .call(Request::new(msg("x")).wait_for_ready(true).timeout(Duration::from_millis(800))),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), StatusCode::DeadlineExceeded, "{err}");
    let fail_fast = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("y"))).await.unwrap_err();
    assert_eq!(fail_fast.code(), StatusCode::Unavailable, "{fail_fast}");
    assert!(fail_fast.details().contains("certificate"), "{fail_fast}");
    bounded(ch.close(None)).await;
    let seen = bounded(watcher).await.unwrap();
    assert!(!seen.contains(&C::Ready), "{seen:?}");
    assert!(seen.contains(&C::TransientFailure), "{seen:?}");
    assert_eq!(probe.calls(), 0);
    server.stop(None).await;
}
