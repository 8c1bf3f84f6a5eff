//! Deadlines and cancellation on the rpc-aio server, beyond what both faces share (that is
//! in `crates/testkit/tests/call_deadline.rs` and `call_cancel.rs`): a deadline only the
//! server enforces (a plain tonic client times only the response headers), and
//! `add_callback` at termination.

use rpc_aio::{
    ResponseIterator, ResponseStream, RpcError, ServerOptions, ServicerContext, unary_stream_rpc_method_handler,
    unary_unary_rpc_method_handler,
};
use rpc_testkit::{Msg, UNARY, aio_channel, blocking_unary, blocking_unary_stream, bounded, msg, serve_aio};
use std::time::Duration;
use tokio::sync::mpsc;

/// What a handler saw of its own end.
#[derive(Debug)]
struct Ended {
    cancelled: bool,
    active: bool,
}

#[tokio::test]
async fn a_deadline_only_the_server_sees_ends_the_rpc_with_deadline_exceeded() {
    // A plain tonic client times only the response headers; these handlers send headers
    // and then no message, so the server must end the RPC at the deadline by itself.
    let (seen_tx, mut seen) = mpsc::unbounded_channel::<Ended>();
    let seen2 = seen_tx.clone();
    let (server, target) = serve_aio(ServerOptions::default(), |s| {
        s.add_method_handler(
            "/test.Async/Stream",
            unary_stream_rpc_method_handler(move |_m: Msg, ctx: ServicerContext| {
                let seen = seen_tx.clone();
                async move {
                    tokio::spawn(async move {
                        let cancelled = tokio::time::timeout(Duration::from_secs(20), ctx.on_cancel()).await.is_ok();
                        let _ = seen.send(Ended {
                            cancelled,
                            active: ctx.is_active(),
                        });
                    });
                    Ok::<_, RpcError>(ResponseStream::<Msg>::new(futures::stream::pending()))
                }
            }),
        );
        s.add_method_handler(
            "/test.Blocking/Stream",
            blocking_unary_stream(move |_m, ctx| {
                let (seen, ctx) = (seen2.clone(), ctx.clone());
                let mut once = Some(());
                Ok(ResponseIterator::new(std::iter::from_fn(move || {
                    once.take()?;
                    let cancelled = ctx.wait_cancelled(Duration::from_secs(20));
                    let _ = seen.send(Ended {
                        cancelled,
                        active: ctx.is_active(),
                    });
                    None
                })))
            }),
        );
    })
    .await;
    let mut client = tonic_client(&target).await;
    for path in ["/test.Async/Stream", "/test.Blocking/Stream"] {
        let mut req = tonic::Request::new(msg("x"));
        req.metadata_mut().insert("grpc-timeout", "300m".parse().unwrap());
        client.ready().await.unwrap();
        let codec = tonic_prost::ProstCodec::<Msg, Msg>::default();
        let mut stream = bounded(client.server_streaming(req, http::uri::PathAndQuery::from_static(path), codec))
            .await
            .unwrap()
            .into_inner();
        let status = bounded(stream.message()).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::DeadlineExceeded, "{path}: {status:?}");
        let s = bounded(seen.recv()).await.unwrap();
        assert!(s.cancelled && !s.active, "{path}: {s:?}");
    }
    server.stop(None).await;
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
async fn add_callback_runs_when_the_rpc_ends() {
    let (done_tx, mut done) = mpsc::unbounded_channel::<&'static str>();
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let (server, target) = serve_aio(ServerOptions::default(), |s| {
        let (d1, d2) = (done_tx.clone(), done_tx.clone());
        s.add_method_handler(
            UNARY,
            unary_unary_rpc_method_handler(move |m: Msg, ctx: ServicerContext| {
                let (done, started) = (d1.clone(), started_tx.clone());
                async move {
                    assert!(ctx.add_callback(move || {
                        let _ = done.send("async");
                    }));
                    if m.n == 1 {
                        let _ = started.send(());
                        tokio::time::sleep(Duration::from_secs(20)).await;
                    }
                    Ok::<_, RpcError>(m)
                }
            }),
        );
        s.add_method_handler(
            "/test.Blocking/Unary",
            blocking_unary(move |m, ctx| {
                let done = d2.clone();
                assert!(ctx.add_done_callback(move || {
                    let _ = done.send("blocking");
                }));
                Ok(m)
            }),
        );
    })
    .await;
    let ch = aio_channel(&target);
    bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap();
    assert_eq!(bounded(done.recv()).await, Some("async"));
    bounded(ch.unary_unary::<Msg, Msg>("/test.Blocking/Unary").call(msg("x")))
        .await
        .unwrap();
    assert_eq!(bounded(done.recv()).await, Some("blocking"));
    // And when the client cancels.
    let call = ch.unary_unary::<Msg, Msg>(UNARY).call(Msg { n: 1, ..msg("x") });
    call.start();
    bounded(started.recv()).await.unwrap();
    assert!(done.try_recv().is_err(), "the callback ran before the RPC ended");
    call.cancel();
    assert_eq!(bounded(done.recv()).await, Some("async"));
    server.stop(None).await;
}
