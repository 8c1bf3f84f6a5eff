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
    // Both ways a unary call runs: inline in the task that awaits it, and on a task of its
    // own after `start()`.
    for started in [false, true] {
        let server = start().await;
        let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
        let md = Metadata::new().with("x-sleep-ms", "10000").unwrap();
        let mut call = ch.unary_unary::<Msg, Msg>(UNARY).call(Request::new(msg("x")).metadata(md));
        if started {
            call.start();
        }
        // Drive the call until the server has it, then drop it.
        let server_has_it = async {
            while server.seen.calls() != 1 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::select! {
            r = &mut call => panic!("the call ended early: {r:?}"),
            _ = guard(server_has_it) => {}
        }
        let notified = server.seen.cancel_notify.notified();
        drop(call);
        if server.seen.cancelled() == 0 {
            guard(notified).await;
        }
        assert_eq!(server.seen.cancelled(), 1, "started in the background: {started}");
    }
}

#[tokio::test]
async fn a_unary_call_runs_when_awaited_or_started() {
    let server = start().await;
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let idle = ch.unary_unary::<Msg, Msg>(UNARY).call(msg("idle"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.seen.calls(), 0, "a call that is not awaited sends nothing");
    assert!(!idle.done());
    // Dropping it sends nothing either, and a cancelled idle call reports CANCELLED.
    drop(idle);
    let cancelled = ch.unary_unary::<Msg, Msg>(UNARY).call(msg("never"));
    assert!(cancelled.cancel());
    assert!(cancelled.cancelled() && cancelled.done());
    assert_eq!(guard(cancelled).await.unwrap_err().code(), StatusCode::Cancelled);
    // `start()` runs it in the background: the server answers while nobody awaits it.
    let started = ch.unary_unary::<Msg, Msg>(UNARY).call(msg("bg"));
    started.start();
    guard(async {
        while !started.done() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert_eq!(server.seen.calls(), 1);
    assert_eq!(guard(started).await.unwrap().text, "echo:bg");
    // So do the async accessors: the initial metadata arrive without awaiting the call.
    let observed = ch.unary_unary::<Msg, Msg>(UNARY).call(msg("md"));
    guard(observed.initial_metadata()).await.unwrap();
    assert_eq!(guard(observed.code()).await, StatusCode::Ok);
    assert_eq!(guard(observed).await.unwrap().text, "echo:md");
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
