//! The four kinds of call against a plain tonic server: messages, metadata both ways, status.

mod common;

use common::*;
use futures::StreamExt;
use rpc_aio::{ChannelOptions, Metadata, MetadataValue, Request, StatusCode, WriteRequests, insecure_channel};

#[tokio::test]
async fn unary_round_trip_with_metadata_both_ways() {
    let server = start().await;
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let md = Metadata::new()
        .with("x-user", "ada")
        .unwrap()
        .with("x-data-bin", vec![0u8, 1, 254])
        .unwrap();
    let call = ch.unary_unary::<Msg, Msg>(UNARY).call(Request::new(msg("hi")).metadata(md));
    let initial = guard(call.initial_metadata()).await.unwrap();
    assert_eq!(initial.get_str("x-echo"), Some("ada"));
    assert_eq!(initial.get("x-echo-bin"), Some(&MetadataValue::Binary(vec![0u8, 1, 254].into())));
    let code = guard(call.code()).await;
    assert_eq!(code, StatusCode::Ok);
    assert!(call.done());
    let resp = guard(call).await.unwrap();
    assert_eq!(resp.text, "echo:hi");
    assert_eq!(server.seen.header("x-user").as_deref(), Some("ada"));
}

#[tokio::test]
async fn unary_error_carries_code_details_and_trailers() {
    let server = start().await;
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let md = Metadata::new().with("x-fail", "5").unwrap();
    let call = ch.unary_unary::<Msg, Msg>(UNARY).call(Request::new(msg("x")).metadata(md));
    assert_eq!(guard(call.code()).await, StatusCode::NotFound);
    assert_eq!(guard(call.details()).await, "failed on request");
    let trailing = guard(call.trailing_metadata()).await;
    assert_eq!(trailing.get_str("x-why"), Some("because"));
    assert_eq!(trailing.get("x-why-bin"), Some(&MetadataValue::Binary(vec![0u8, 1, 2, 255].into())));
    let err = guard(call).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::NotFound);
    assert_eq!(err.trailing_metadata().get_str("x-why"), Some("because"));
}

#[tokio::test]
async fn with_call_gives_response_and_details() {
    let server = start().await;
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let md = Metadata::new().with("x-user", "bob").unwrap();
    let (resp, details) = guard(ch.unary_unary::<Msg, Msg>(UNARY).with_call(Request::new(msg("a")).metadata(md)))
        .await
        .unwrap();
    assert_eq!(resp.text, "echo:a");
    assert_eq!(details.code(), StatusCode::Ok);
    assert_eq!(details.initial_metadata().get_str("x-echo"), Some("bob"));
}

#[tokio::test]
async fn unary_stream_as_stream_and_with_read() {
    let server = start().await;
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let mc = ch.unary_stream::<Msg, Msg>(SERVER_STREAM);
    let call = mc.call(Msg { n: 3, ..msg("") });
    let got: Vec<_> = guard(call.map(|r| r.unwrap().n).collect::<Vec<_>>()).await;
    assert_eq!(got, vec![0, 1, 2]);

    let mut call = mc.call(Msg { n: 2, ..msg("") });
    assert_eq!(guard(call.read()).await.unwrap().unwrap().n, 0);
    assert_eq!(guard(call.read()).await.unwrap().unwrap().n, 1);
    assert!(guard(call.read()).await.unwrap().is_none());
    assert_eq!(guard(call.code()).await, StatusCode::Ok);
}

#[tokio::test]
async fn unary_stream_error_after_messages() {
    let server = start().await;
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let md = Metadata::new().with("x-fail-after", "1").unwrap();
    let mut call = ch
        .unary_stream::<Msg, Msg>(SERVER_STREAM)
        .call(Request::new(Msg { n: 1, ..msg("") }).metadata(md));
    assert!(guard(call.read()).await.unwrap().is_some());
    let err = guard(call.read()).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Aborted);
    assert_eq!(guard(call.code()).await, StatusCode::Aborted);
}

#[tokio::test]
async fn stream_unary_with_iterator_stream_and_writer() {
    let server = start().await;
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let mc = ch.stream_unary::<Msg, Msg>(CLIENT_STREAM);
    let resp = guard(mc.call(vec![msg("a"), msg("b"), msg("c")])).await.unwrap();
    assert_eq!((resp.text.as_str(), resp.n), ("a,b,c", 3));

    let s = futures::stream::iter(vec![msg("x"), msg("y")]);
    let resp = guard(mc.call(rpc_aio::stream(s))).await.unwrap();
    assert_eq!(resp.text, "x,y");

    let mut call = mc.call(WriteRequests);
    guard(call.write(msg("1"))).await.unwrap();
    guard(call.write(msg("2"))).await.unwrap();
    guard(call.done_writing()).await.unwrap();
    assert!(call.write(msg("3")).await.is_err(), "write after done_writing is an error");
    let resp = guard(call).await.unwrap();
    assert_eq!(resp.text, "1,2");

    let mut with_source = mc.call(vec![msg("z")]);
    let err = with_source.write(msg("no")).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::FailedPrecondition);
    let (resp, details) = guard(mc.with_call(vec![msg("q")])).await.unwrap();
    assert_eq!((resp.text.as_str(), details.code()), ("q", StatusCode::Ok));
    assert_eq!(guard(with_source).await.unwrap().text, "z");
}

#[tokio::test]
async fn stream_stream_writer_and_reader() {
    let server = start().await;
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let mut call = ch.stream_stream::<Msg, Msg>(BIDI).call(WriteRequests);
    for i in 0..3 {
        guard(call.write(msg(&i.to_string()))).await.unwrap();
        let r = guard(call.read()).await.unwrap().unwrap();
        assert_eq!(r.text, format!("echo:{i}"));
    }
    guard(call.done_writing()).await.unwrap();
    assert!(guard(call.read()).await.unwrap().is_none());

    let call = ch.stream_stream::<Msg, Msg>(BIDI).call(vec![msg("a"), msg("b")]);
    let got: Vec<String> = guard(call.map(|r| r.unwrap().text).collect()).await;
    assert_eq!(got, vec!["echo:a", "echo:b"]);
}

#[tokio::test]
async fn unknown_method_is_unimplemented() {
    let server = start().await;
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let err = guard(ch.unary_unary::<Msg, Msg>("/test.Svc/Nope").call(msg("x")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), StatusCode::Unimplemented);
}

#[tokio::test]
async fn done_callback_runs() {
    let server = start().await;
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let call = ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"));
    let (tx, rx) = tokio::sync::oneshot::channel();
    call.add_done_callback(move |d| {
        let _ = tx.send(d.code());
    });
    guard(call).await.unwrap();
    assert_eq!(guard(rx).await.unwrap(), StatusCode::Ok);
}

#[tokio::test]
async fn a_blocking_iterator_does_not_block_the_runtime() {
    // On this current-thread runtime, pulling the iterator on the runtime thread would
    // deadlock: its items come from a task on the same runtime.
    let server = start().await;
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Msg>();
    let call = ch.stream_unary::<Msg, Msg>(CLIENT_STREAM).call(rx.into_iter());
    tokio::spawn(async move {
        for i in 0..3 {
            tx.send(msg(&i.to_string())).unwrap();
            tokio::task::yield_now().await;
        }
    });
    assert_eq!(guard(call).await.unwrap().text, "0,1,2");
}
