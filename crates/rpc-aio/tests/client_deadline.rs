//! Deadlines (`grpc-timeout` sent, DEADLINE_EXCEEDED locally), cancel, and drop-cancels.

mod common;

use common::*;
use rpc_aio::{ChannelOptions, Metadata, Request, StatusCode, WriteRequests, insecure_channel};
use std::time::Duration;

#[tokio::test]
async fn deadline_exceeded_and_grpc_timeout_sent() {
    let server = start().await;
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let md = Metadata::new().with("x-sleep-ms", "5000").unwrap();
    let call = ch
        .unary_unary::<Msg, Msg>(UNARY)
        .call(Request::new(msg("x")).metadata(md).timeout(Duration::from_millis(200)));
    assert!(call.time_remaining().is_some_and(|t| t <= Duration::from_millis(200)));
    let err = guard(call).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::DeadlineExceeded, "{err}");
    let sent = server.seen.header("grpc-timeout").expect("grpc-timeout header sent");
    let parsed = rpc_core::timeout::parse_grpc_timeout(sent.as_bytes()).unwrap();
    assert!(parsed <= Duration::from_millis(200), "{sent}");
}

#[tokio::test]
async fn deadline_reported_to_every_accessor_of_a_stream() {
    let server = start().await;
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let mut call = ch
        .unary_stream::<Msg, Msg>(SERVER_STREAM)
        .call(Request::new(Msg { n: -1, ..msg("") }).timeout(Duration::from_millis(150)));
    let err = loop {
        match guard(call.read()).await {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("endless stream ended"),
            Err(e) => break e,
        }
    };
    assert_eq!(err.code(), StatusCode::DeadlineExceeded);
    assert_eq!(guard(call.code()).await, StatusCode::DeadlineExceeded);
    assert!(call.done() && !call.cancelled());
}

#[tokio::test]
async fn cancel_is_seen_by_the_server() {
    let server = start().await;
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let mut call = ch.unary_stream::<Msg, Msg>(SERVER_STREAM).call(Msg { n: -1, ..msg("") });
    assert!(guard(call.read()).await.unwrap().is_some());
    let notified = server.seen.cancel_notify.notified();
    assert!(call.cancel());
    assert!(!call.cancel(), "second cancel reports false");
    assert!(call.cancelled());
    assert_eq!(guard(call.code()).await, StatusCode::Cancelled);
    let err = guard(call.read()).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Cancelled);
    if server.seen.cancelled() == 0 {
        guard(notified).await;
    }
    assert_eq!(server.seen.cancelled(), 1);
}

#[tokio::test]
async fn dropping_an_unfinished_unary_call_cancels_it() {
    let server = start().await;
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let md = Metadata::new().with("x-sleep-ms", "10000").unwrap();
    let call = ch.unary_unary::<Msg, Msg>(UNARY).call(Request::new(msg("x")).metadata(md));
    // Wait until the server has the call, then drop it.
    for _ in 0..2000 {
        if server.seen.calls() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let notified = server.seen.cancel_notify.notified();
    drop(call);
    if server.seen.cancelled() == 0 {
        guard(notified).await;
    }
    assert_eq!(server.seen.cancelled(), 1);
}

#[tokio::test]
async fn dropping_a_writer_call_cancels_it() {
    let server = start().await;
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let mut call = ch.stream_unary::<Msg, Msg>(CLIENT_STREAM).call(WriteRequests);
    guard(call.write(msg("a"))).await.unwrap();
    for _ in 0..2000 {
        if server.seen.calls() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let notified = server.seen.cancel_notify.notified();
    drop(call);
    if server.seen.cancelled() == 0 {
        guard(notified).await;
    }
    assert_eq!(server.seen.cancelled(), 1);
}
