//! A mixed server (blocking and async handlers of every kind) under 200 concurrent calls.

use futures::StreamExt;
use rpc_aio::{ResponseIterator, ResponseStream, RpcError, ServerOptions, ServicerContext, unary_stream_rpc_method_handler};
use rpc_testkit::{Msg, aio_channel, blocking_unary, blocking_unary_stream, bounded, eventually, msg, serve_aio};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_calls_on_a_mixed_server() {
    // Enough workers and queue for the blocking half: this is about the server under
    // load, not about its pool limits (tested elsewhere).
    let options = ServerOptions::default().max_workers(16).max_queued_rpcs(200);
    let (server, target) = serve_aio(options, |s| {
        s.add_method_handler(
            "/test.Async/Unary",
            rpc_aio::unary_unary_rpc_method_handler(|m: Msg, _ctx: ServicerContext| async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                Ok::<_, RpcError>(msg(&format!("async:{}", m.text)))
            }),
        );
        s.add_method_handler(
            "/test.Blocking/Unary",
            blocking_unary(|m, _ctx| {
                std::thread::sleep(Duration::from_millis(5));
                Ok(msg(&format!("blocking:{}", m.text)))
            }),
        );
        s.add_method_handler(
            "/test.Async/Stream",
            unary_stream_rpc_method_handler(|m: Msg, _ctx: ServicerContext| async move {
                Ok::<_, RpcError>(ResponseStream::from_messages((0..m.n).map(|i| Msg { n: i, ..msg("") })))
            }),
        );
        s.add_method_handler(
            "/test.Blocking/Stream",
            blocking_unary_stream(|m, _ctx| Ok(ResponseIterator::from_messages((0..m.n).map(|i| Msg { n: i, ..msg("") })))),
        );
    })
    .await;
    let ch = aio_channel(&target);
    let calls = (0..200).map(|i| {
        let ch = ch.clone();
        async move {
            let text = i.to_string();
            match i % 4 {
                0 => assert_eq!(
                    ch.unary_unary::<Msg, Msg>("/test.Async/Unary").call(msg(&text)).await?.text,
                    format!("async:{i}")
                ),
                1 => assert_eq!(
                    ch.unary_unary::<Msg, Msg>("/test.Blocking/Unary").call(msg(&text)).await?.text,
                    format!("blocking:{i}")
                ),
                k => {
                    let path = if k == 2 { "/test.Async/Stream" } else { "/test.Blocking/Stream" };
                    let got: Vec<_> = ch.unary_stream::<Msg, Msg>(path).call(Msg { n: 5, ..msg("") }).collect().await;
                    let got = got.into_iter().map(|r| r.map(|m| m.n)).collect::<Result<Vec<_>, _>>()?;
                    assert_eq!(got, vec![0, 1, 2, 3, 4]);
                }
            }
            Ok::<_, RpcError>(())
        }
    });
    let results = tokio::time::timeout(Duration::from_secs(30), futures::future::join_all(calls))
        .await
        .expect("200 calls did not finish in 30 s");
    let failed: Vec<_> = results.into_iter().filter_map(Result::err).collect();
    assert!(failed.is_empty(), "{} calls failed, first: {:?}", failed.len(), failed.first());
    eventually("no RPC in flight", || server.active_rpcs() == 0).await;
    bounded(server.stop(Some(Duration::from_secs(5)))).await;
}
