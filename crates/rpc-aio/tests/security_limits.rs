//! Limits and their defaults: the 4 MiB receive limit on both sides (RESOURCE_EXHAUSTED
//! naming both sizes), the header list limit, streams per connection, and
//! `maximum_concurrent_rpcs`.

use rpc_aio::{ChannelOptions, Metadata, Request, ServerCredentials, ServerOptions, ServicerContext, StatusCode};
use rpc_testkit::{Msg, Style, UNARY, aio_channel, assert_serving, bounded, msg, serve_service};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const MIB: usize = 1024 * 1024;

#[tokio::test]
async fn receive_limit_defaults_to_4_mib_on_server_and_client_and_names_both_sizes() {
    assert_eq!(ServerOptions::default().max_receive_message_length, 4 * MIB);
    assert_eq!(ChannelOptions::default().max_receive_message_length, 4 * MIB);
    let (server, port, counts) = serve_service(Style::Async, ServerOptions::default(), ServerCredentials::insecure()).await;
    let ch = aio_channel(&format!("127.0.0.1:{port}"));
    let unary = ch.unary_unary::<Msg, Msg>(UNARY);

    // Client to server: a request just over 4 MiB never reaches the handler.
    let big = Msg {
        payload: vec![0u8; 4 * MIB],
        ..msg("big")
    };
    let size = prost::Message::encoded_len(&big);
    let err = bounded(unary.call(big)).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::ResourceExhausted, "{err}");
    assert!(err.details().contains(&(4 * MIB).to_string()), "names the limit: {err}");
    assert!(err.details().contains(&size.to_string()), "names the size: {err}");
    assert_eq!(counts.calls(), 0);

    // Server to client: a reply of 5 MiB is refused by the client's default limit.
    let err = bounded(unary.call(Msg {
        n: (5 * MIB) as i32,
        ..msg("reply")
    }))
    .await
    .unwrap_err();
    assert_eq!(err.code(), StatusCode::ResourceExhausted, "{err}");
    assert!(err.details().contains(&(4 * MIB).to_string()), "names the limit: {err}");
    let reply_size = prost::Message::encoded_len(&Msg {
        text: "echo:reply".into(),
        payload: vec![7; 5 * MIB],
        n: (5 * MIB) as i32,
    });
    assert!(err.details().contains(&reply_size.to_string()), "names the size: {err}");

    // Both limits are configurable.
    let roomy = rpc_aio::insecure_channel(
        &format!("127.0.0.1:{port}"),
        ChannelOptions::default().max_receive_message_length(8 * MIB),
    )
    .unwrap();
    let reply = bounded(roomy.unary_unary::<Msg, Msg>(UNARY).call(Msg {
        n: (5 * MIB) as i32,
        ..msg("reply")
    }))
    .await
    .unwrap();
    assert_eq!(reply.payload.len(), 5 * MIB);
    server.stop(None).await;

    let (server, port, _) = serve_service(
        Style::Async,
        ServerOptions::default().max_receive_message_length(16),
        ServerCredentials::insecure(),
    )
    .await;
    let err = bounded(
        aio_channel(&format!("127.0.0.1:{port}"))
            .unary_unary::<Msg, Msg>(UNARY)
            .call(msg("seventeen bytes!!")),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), StatusCode::ResourceExhausted, "{err}");
    assert!(err.details().contains("(19 vs. 16 bytes)"), "{err}");
    server.stop(None).await;
}

fn big_metadata(bytes: usize) -> Metadata {
    let mut md = Metadata::new();
    for i in 0..bytes / 1000 {
        md.add(&format!("x-pad-{i}"), "v".repeat(1000)).unwrap();
    }
    md
}

#[tokio::test]
async fn header_list_limit_refuses_oversized_metadata_and_is_configurable() {
    let (server, port, counts) = serve_service(Style::Async, ServerOptions::default(), ServerCredentials::insecure()).await;
    let request = Request::new(msg("fat")).metadata(big_metadata(32 * 1024));
    let err = bounded(
        aio_channel(&format!("127.0.0.1:{port}"))
            .unary_unary::<Msg, Msg>(UNARY)
            .call(request),
    )
    .await
    .unwrap_err();
    assert_ne!(err.code(), StatusCode::Ok);
    assert_eq!(counts.calls(), 0, "the oversized request reached no handler");
    assert_serving(port).await;
    server.stop(None).await;

    let roomy = ServerOptions::default().max_header_list_size(64 * 1024);
    let (server, port, counts) = serve_service(Style::Async, roomy, ServerCredentials::insecure()).await;
    let ch = rpc_aio::insecure_channel(
        &format!("127.0.0.1:{port}"),
        ChannelOptions::default().max_header_list_size(64 * 1024),
    )
    .unwrap();
    let request = Request::new(msg("fat")).metadata(big_metadata(32 * 1024));
    bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(request)).await.unwrap();
    assert_eq!(counts.calls(), 1);
    server.stop(None).await;
}

/// A server whose handler sleeps 150 ms and records the peak of RPCs running at once.
async fn slow_server(options: ServerOptions) -> (rpc_aio::Server, u16, Arc<AtomicUsize>) {
    let server = rpc_aio::server(options);
    let (running, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let p = peak.clone();
    server.add_method_handler(
        UNARY,
        rpc_aio::unary_unary_rpc_method_handler(move |m: Msg, _ctx: ServicerContext| {
            let (running, peak) = (running.clone(), p.clone());
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(150)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(Msg {
                    text: format!("echo:{}", m.text),
                    ..m
                })
            }
        }),
    );
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().await.unwrap();
    (server, port, peak)
}

#[tokio::test]
async fn max_concurrent_streams_bounds_the_streams_of_one_connection() {
    for (limit, expected_peak) in [(Some(2), 2), (None, 6)] {
        let options = match limit {
            Some(n) => ServerOptions::default().max_concurrent_streams(n),
            None => ServerOptions::default(),
        };
        let (server, port, peak) = slow_server(options).await;
        let ch = aio_channel(&format!("127.0.0.1:{port}"));
        // Once the server's SETTINGS have arrived the client keeps to the limit; streams
        // opened before that are refused (REFUSED_STREAM: UNAVAILABLE, see docs/security.md).
        bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("warm-up"))).await.unwrap();
        peak.store(0, Ordering::SeqCst);
        let calls: Vec<_> = (0..6)
            .map(|i| ch.unary_unary::<Msg, Msg>(UNARY).call(msg(&i.to_string())))
            .collect();
        for r in bounded(futures::future::join_all(calls)).await {
            r.unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), expected_peak, "limit {limit:?}");
        server.stop(None).await;
    }
}

#[tokio::test]
async fn maximum_concurrent_rpcs_refuses_the_excess_at_once_with_resource_exhausted() {
    let (server, port, _) = slow_server(ServerOptions::default().maximum_concurrent_rpcs(2)).await;
    let channels: Vec<_> = (0..5).map(|_| aio_channel(&format!("127.0.0.1:{port}"))).collect();
    let calls: Vec<_> = channels.iter().map(|ch| ch.unary_unary::<Msg, Msg>(UNARY).call(msg("c"))).collect();
    let results = bounded(futures::future::join_all(calls)).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let refused: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(ok, 2, "{results:?}");
    for err in refused {
        assert_eq!(err.code(), StatusCode::ResourceExhausted, "{err}");
        assert!(err.details().contains("maximum_concurrent_rpcs"), "{err}");
    }
    assert_eq!(server.active_rpcs(), 0);
    assert_serving(port).await;
    server.stop(None).await;
}
