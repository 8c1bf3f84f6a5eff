//! Connectivity states, wait-for-ready across a late server, fail-fast UNAVAILABLE, close.

mod common;

use common::*;
use rpc_aio::{ChannelConnectivity as C, ChannelOptions, Metadata, Request, StatusCode, insecure_channel};
use std::time::Duration;

fn fast_backoff() -> ChannelOptions {
    ChannelOptions::default()
        .initial_reconnect_backoff(Duration::from_millis(50))
        .max_reconnect_backoff(Duration::from_millis(200))
}

#[tokio::test]
async fn idle_connecting_ready_then_shutdown() {
    let server = start().await;
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let mut rx_states = Vec::new();
    assert_eq!(ch.get_state(false), C::Idle);
    assert_eq!(ch.get_state(true), C::Idle);
    let mut last = C::Idle;
    while last != C::Ready {
        last = guard(ch.wait_for_state_change(last)).await;
        rx_states.push(last);
    }
    assert!(rx_states == [C::Connecting, C::Ready] || rx_states == [C::Ready], "{rx_states:?}");
    guard(ch.channel_ready()).await.unwrap();
    guard(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap();
    assert_eq!(server.seen.calls(), 1);
    guard(ch.close(None)).await;
    assert_eq!(ch.get_state(false), C::Shutdown);
    assert!(guard(ch.channel_ready()).await.is_err());
    let err = guard(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Cancelled);
    assert!(err.details().contains("closed"), "{err}");
}

#[tokio::test]
async fn refused_port_is_transient_failure_and_unavailable() {
    let port = free_port().await;
    let target = format!("127.0.0.1:{port}");
    let ch = insecure_channel(&target, fast_backoff()).unwrap();
    let err = guard(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
    assert!(err.details().contains(&target), "{err}");
    assert_eq!(ch.get_state(false), C::TransientFailure);
}

#[tokio::test]
async fn wait_for_ready_survives_a_late_server() {
    let port = free_port().await;
    let target = format!("127.0.0.1:{port}");
    let ch = insecure_channel(&target, fast_backoff()).unwrap();
    let waiting = ch
        .unary_unary::<Msg, Msg>(UNARY)
        .call(Request::new(msg("late")).wait_for_ready(true).timeout(Duration::from_secs(15)));
    let fail_fast = guard(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("now"))).await.unwrap_err();
    assert_eq!(fail_fast.code(), StatusCode::Unavailable);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let server = serve_on(listener);
    let resp = guard(waiting).await.unwrap();
    assert_eq!(resp.text, "echo:late");
    assert_eq!(server.seen.calls(), 1);
    assert_eq!(ch.get_state(false), C::Ready);
}

#[tokio::test]
async fn wait_for_ready_ends_at_the_deadline() {
    let port = free_port().await;
    let ch = insecure_channel(&format!("127.0.0.1:{port}"), fast_backoff()).unwrap();
    let err = guard(
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
    let err = guard(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
    let state = eventually_state(&ch, C::Idle).await;
    assert_eq!(state, C::Idle);
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
    let err = guard(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
    assert!(err.details().contains("settings"), "{err}");
    assert_eq!(eventually_state(&ch, C::TransientFailure).await, C::TransientFailure);
    let seen = guard(watcher).await.unwrap();
    assert!(!seen.contains(&C::Ready), "{seen:?}");
    acceptor.abort();
}

/// Waits (bounded) until the channel is in `want`; the state it ended in.
async fn eventually_state(ch: &rpc_aio::Channel, want: C) -> C {
    let mut state = ch.get_state(false);
    for _ in 0..1000 {
        if state == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        state = ch.get_state(false);
    }
    state
}

#[tokio::test]
async fn close_with_grace_lets_a_call_finish() {
    let server = start().await;
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let md = Metadata::new().with("x-sleep-ms", "200").unwrap();
    let call = ch.unary_unary::<Msg, Msg>(UNARY).call(Request::new(msg("slow")).metadata(md));
    call.start(); // run it before it is awaited, so it is in flight when close begins
    for _ in 0..2000 {
        if server.seen.calls() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    guard(ch.close(Some(Duration::from_secs(10)))).await;
    assert_eq!(guard(call).await.unwrap().text, "echo:slow");
    let err = guard(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("late"))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Cancelled);
}

#[tokio::test]
async fn close_with_short_grace_cancels_a_hanging_call() {
    let server = start().await;
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let md = Metadata::new().with("x-sleep-ms", "60000").unwrap();
    let call = ch.unary_unary::<Msg, Msg>(UNARY).call(Request::new(msg("hang")).metadata(md));
    call.start(); // run it before it is awaited, so it is in flight when close begins
    for _ in 0..2000 {
        if server.seen.calls() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    guard(ch.close(Some(Duration::from_millis(100)))).await;
    assert_eq!(guard(call).await.unwrap_err().code(), StatusCode::Cancelled);
}

#[tokio::test]
async fn dropping_the_last_channel_cancels_active_calls() {
    let server = start().await;
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let md = Metadata::new().with("x-sleep-ms", "60000").unwrap();
    let call = ch.unary_unary::<Msg, Msg>(UNARY).call(Request::new(msg("hang")).metadata(md));
    call.start(); // run it before it is awaited, so it is in flight when close begins
    drop(ch);
    assert_eq!(guard(call).await.unwrap_err().code(), StatusCode::Cancelled);
}
