//! Channel and call options: compression, size limits, call credentials on an insecure
//! channel, Unix sockets, bad targets, and use outside a runtime.

use rpc_aio::{CallCredentials, ChannelOptions, Compression, Request, StatusCode, insecure_channel};
use rpc_testkit::{CLIENT_STREAM, Msg, TonicPeer, UNARY, bounded, msg};

#[tokio::test]
async fn gzip_round_trip() {
    let server = TonicPeer::start();
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let req = Request::new(Msg {
        text: "z".repeat(1000),
        n: 5000,
        ..Default::default()
    })
    .compression(Compression::Gzip);
    let resp = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(req)).await.unwrap();
    assert_eq!(resp.payload.len(), 5000);
    assert_eq!(server.probe().header("grpc-encoding").as_deref(), Some("gzip"));
    let ch2 = insecure_channel(&server.target(), ChannelOptions::default().default_compression(Compression::Gzip)).unwrap();
    bounded(ch2.unary_unary::<Msg, Msg>(UNARY).call(msg("d"))).await.unwrap();
    assert_eq!(server.probe().header("grpc-encoding").as_deref(), Some("gzip"));
}

#[tokio::test]
async fn receive_limit_is_resource_exhausted() {
    let server = TonicPeer::start();
    let ch = insecure_channel(&server.target(), ChannelOptions::default().max_receive_message_length(1024)).unwrap();
    let err = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(Msg { n: 4096, ..msg("") }))
        .await
        .unwrap_err();
    assert_eq!(err.code(), StatusCode::ResourceExhausted, "{err}");
    assert!(err.details().contains("1024"), "{err}");
}

#[tokio::test]
async fn send_limit_is_resource_exhausted() {
    let server = TonicPeer::start();
    let ch = insecure_channel(&server.target(), ChannelOptions::default().max_send_message_length(100)).unwrap();
    let err = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg(&"x".repeat(500))))
        .await
        .unwrap_err();
    assert_eq!(err.code(), StatusCode::ResourceExhausted, "{err}");
    assert!(err.details().contains("100"), "{err}");
    let err = bounded(
        ch.stream_unary::<Msg, Msg>(CLIENT_STREAM)
            .call(vec![msg("small"), msg(&"x".repeat(500))]),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), StatusCode::ResourceExhausted, "{err}");
}

#[tokio::test]
async fn call_credentials_refused_on_insecure_channel_and_nothing_sent() {
    let server = TonicPeer::start();
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let req = Request::new(msg("x")).credentials(CallCredentials::access_token("secret"));
    let err = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(req)).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Unauthenticated);
    assert!(err.details().contains("secure channel"), "{err}");
    bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("ok"))).await.unwrap();
    assert_eq!(server.probe().calls(), 1, "only the call without credentials reached the server");
    assert!(server.probe().header("authorization").is_none());
}

#[tokio::test]
async fn call_credentials_sent_on_local_channel() {
    let server = TonicPeer::start();
    let ch = rpc_aio::secure_channel(&server.target(), rpc_aio::ChannelCredentials::local(), ChannelOptions::default()).unwrap();
    let req = Request::new(msg("x")).credentials(CallCredentials::access_token("tok"));
    bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(req)).await.unwrap();
    assert_eq!(server.probe().header("authorization").as_deref(), Some("Bearer tok"));
}

#[tokio::test]
async fn unix_socket_target() {
    let dir = std::env::temp_dir().join(format!("rpc-aio-client-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("uds.sock");
    let server = TonicPeer::start_unix(&path);
    for target in [format!("unix:{}", path.display()), format!("unix://{}", path.display())] {
        let ch = insecure_channel(&target, ChannelOptions::default()).unwrap();
        assert_eq!(
            bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("uds"))).await.unwrap().text,
            "echo:uds"
        );
    }
    assert_eq!(server.probe().calls(), 2);
    drop(server);
}

#[tokio::test]
async fn bad_targets_are_clear_errors() {
    for bad in ["", "no-port", "host:99999", "ipv6:[zz]:1", "http://x:1"] {
        let err = insecure_channel(bad, ChannelOptions::default()).unwrap_err();
        assert_eq!(err.code(), StatusCode::InvalidArgument, "{bad}: {err}");
        assert!(err.details().contains("target"), "{err}");
    }
}

#[test]
fn outside_a_runtime_is_an_error_not_a_panic() {
    let err = insecure_channel("127.0.0.1:1", ChannelOptions::default()).unwrap_err();
    assert_eq!(err.code(), StatusCode::FailedPrecondition);
    assert!(err.details().contains("tokio runtime"), "{err}");
}
