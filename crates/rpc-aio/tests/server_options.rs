//! Server options: compression both ways (gzip from the client, the server's default
//! compression), message size limits (receive and send), `maximum_concurrent_rpcs`.

use rpc_aio::{Compression, Request, RpcError, ServerOptions, ServicerContext, StatusCode, unary_unary_rpc_method_handler};
use rpc_testkit::{Msg, UNARY, aio_channel, bounded, msg, serve_aio};
use std::time::Duration;
use tonic::codec::CompressionEncoding;

/// Echoes the request's size back as a payload of `n` bytes, and reports the request's
/// `grpc-encoding` (as the server's handler saw the headers, if it sees them) in `text`.
fn sized_echo() -> rpc_aio::RpcMethodHandler {
    unary_unary_rpc_method_handler(|m: Msg, _ctx: ServicerContext| async move {
        Ok::<_, RpcError>(Msg {
            text: format!("got {}", m.payload.len()),
            payload: vec![b'z'; m.n.max(0) as usize],
            n: m.n,
        })
    })
}

async fn tonic_client(target: &str) -> tonic::client::Grpc<tonic::transport::Channel> {
    let ch = tonic::transport::Endpoint::from_shared(format!("http://{target}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    tonic::client::Grpc::new(ch)
}

#[tokio::test]
async fn the_server_accepts_gzip_requests() {
    let (server, target) = serve_aio(ServerOptions::default(), |s| s.add_method_handler(UNARY, sized_echo())).await;
    let ch = aio_channel(&target);
    let req = Request::new(Msg {
        payload: vec![b'a'; 100_000],
        n: 10,
        ..msg("")
    })
    .compression(Compression::Gzip);
    let resp = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(req)).await.unwrap();
    assert_eq!((resp.text.as_str(), resp.payload.len()), ("got 100000", 10));

    // The same from a plain tonic client, which fails if the server does not accept gzip.
    let mut client = tonic_client(&target).await.send_compressed(CompressionEncoding::Gzip);
    client.ready().await.unwrap();
    let codec = tonic_prost::ProstCodec::<Msg, Msg>::default();
    let req = tonic::Request::new(Msg {
        payload: vec![b'a'; 100_000],
        ..msg("")
    });
    let resp = bounded(client.unary(req, http::uri::PathAndQuery::from_static(UNARY), codec))
        .await
        .unwrap();
    assert_eq!(resp.get_ref().text, "got 100000");
    server.stop(None).await;
}

#[tokio::test]
async fn the_server_default_compression_is_used_and_decodes() {
    let options = ServerOptions::default().compression(Compression::Gzip);
    let (server, target) = serve_aio(options, |s| s.add_method_handler(UNARY, sized_echo())).await;
    // A client that accepts gzip gets gzip.
    let mut client = tonic_client(&target).await.accept_compressed(CompressionEncoding::Gzip);
    client.ready().await.unwrap();
    let codec = tonic_prost::ProstCodec::<Msg, Msg>::default();
    let resp = bounded(client.unary(
        tonic::Request::new(Msg { n: 50_000, ..msg("") }),
        http::uri::PathAndQuery::from_static(UNARY),
        codec,
    ))
    .await
    .unwrap();
    assert_eq!(resp.metadata().get("grpc-encoding").and_then(|v| v.to_str().ok()), Some("gzip"));
    assert_eq!(resp.get_ref().payload.len(), 50_000);
    // The rpc-aio client decodes it.
    let resp = bounded(
        aio_channel(&target)
            .unary_unary::<Msg, Msg>(UNARY)
            .call(Msg { n: 50_000, ..msg("") }),
    )
    .await
    .unwrap();
    assert_eq!(resp.payload, vec![b'z'; 50_000]);
    server.stop(None).await;
}

#[tokio::test]
async fn a_request_over_the_receive_limit_is_resource_exhausted_naming_both_sizes() {
    let options = ServerOptions::default().max_receive_message_length(1024);
    let (server, target) = serve_aio(options, |s| s.add_method_handler(UNARY, sized_echo())).await;
    let ch = aio_channel(&target);
    let big = Msg {
        payload: vec![1; 4096],
        ..msg("")
    };
    let size = prost::Message::encoded_len(&big);
    let err = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(big)).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::ResourceExhausted, "{err}");
    assert!(err.details().contains(&size.to_string()) && err.details().contains("1024"), "{err}");
    // Under the limit is fine.
    let ok = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(Msg {
        payload: vec![1; 1000],
        ..msg("")
    }))
    .await
    .unwrap();
    assert_eq!(ok.text, "got 1000");
    server.stop(None).await;
}

#[tokio::test]
async fn a_response_over_the_send_limit_is_resource_exhausted() {
    let options = ServerOptions::default().max_send_message_length(1000);
    let (server, target) = serve_aio(options, |s| s.add_method_handler(UNARY, sized_echo())).await;
    let ch = aio_channel(&target);
    let err = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(Msg { n: 5000, ..msg("") }))
        .await
        .unwrap_err();
    assert_eq!(err.code(), StatusCode::ResourceExhausted, "{err}");
    assert!(err.details().contains("1000"), "{err}");
    let ok = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(Msg { n: 500, ..msg("") }))
        .await
        .unwrap();
    assert_eq!(ok.payload.len(), 500);
    server.stop(None).await;
}

#[tokio::test]
async fn maximum_concurrent_rpcs_refuses_the_next_at_once() {
    let (started_tx, mut started) = tokio::sync::mpsc::unbounded_channel();
    let release = std::sync::Arc::new(tokio::sync::Notify::new());
    let r = release.clone();
    let options = ServerOptions::default().maximum_concurrent_rpcs(2);
    let (server, target) = serve_aio(options, |s| {
        s.add_method_handler(
            UNARY,
            unary_unary_rpc_method_handler(move |m: Msg, _ctx: ServicerContext| {
                let (started, release) = (started_tx.clone(), r.clone());
                async move {
                    let _ = started.send(());
                    let _ = tokio::time::timeout(Duration::from_secs(20), release.notified()).await;
                    Ok::<_, RpcError>(m)
                }
            }),
        );
    })
    .await;
    let ch = aio_channel(&target);
    let busy: Vec<_> = (0..2)
        .map(|_| {
            let call = ch.unary_unary::<Msg, Msg>(UNARY).call(msg("busy"));
            call.start(); // in flight before it is awaited
            call
        })
        .collect();
    for _ in 0..2 {
        bounded(started.recv()).await.unwrap();
    }
    let err = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("third"))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::ResourceExhausted, "{err}");
    release.notify_waiters();
    for call in busy {
        bounded(call).await.unwrap();
    }
    // Room again.
    release.notify_one();
    bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("later"))).await.unwrap();
    server.stop(None).await;
}
