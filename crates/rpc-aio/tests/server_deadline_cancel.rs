//! Deadlines and cancellation on the rpc-aio server: DEADLINE_EXCEEDED for the client and
//! cancellation for the handler, deadline inheritance by calls a handler makes, client
//! cancels seen by async (`on_cancel`) and blocking (`wait_cancelled`) handlers, and
//! `add_callback` at termination.

mod common;

use common::*;
use rpc_aio::{
    Request, ResponseIterator, ResponseStream, RpcError, ServerOptions, ServicerContext, StatusCode, unary_stream_rpc_method_handler,
    unary_unary_rpc_method_handler,
};
use std::time::Duration;
use tokio::sync::mpsc;

/// What a handler saw of its own end.
#[derive(Debug)]
struct Seen {
    cancelled: bool,
    active: bool,
}

/// Async and blocking handlers that wait (up to 20 s) for their RPC to be cancelled and
/// report what they saw; they report `started` first.
fn waiting_server(started: mpsc::UnboundedSender<()>, seen: mpsc::UnboundedSender<Seen>) -> impl FnOnce(&rpc_aio::Server) {
    move |s| {
        let (started2, seen2) = (started.clone(), seen.clone());
        s.add_method_handler(
            "/test.Async/Wait",
            unary_unary_rpc_method_handler(move |m: Msg, ctx: ServicerContext| {
                let (started, seen) = (started.clone(), seen.clone());
                async move {
                    let _ = started.send(());
                    let cancelled = tokio::time::timeout(Duration::from_secs(20), ctx.on_cancel()).await.is_ok();
                    let _ = seen.send(Seen {
                        cancelled,
                        active: ctx.is_active(),
                    });
                    Ok::<_, RpcError>(m)
                }
            }),
        );
        s.add_method_handler(
            "/test.Blocking/Wait",
            blocking_unary(move |m, ctx| {
                let _ = started2.send(());
                let cancelled = ctx.wait_cancelled(Duration::from_secs(20));
                let _ = seen2.send(Seen {
                    cancelled,
                    active: ctx.is_active(),
                });
                Ok(m)
            }),
        );
    }
}

#[tokio::test]
async fn deadline_exceeded_for_the_client_and_cancellation_for_the_handler() {
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let (server, target) = serve_aio(ServerOptions::default(), waiting_server(started_tx, seen_tx)).await;
    let ch = channel(&target);
    for path in ["/test.Async/Wait", "/test.Blocking/Wait"] {
        let call = ch
            .unary_unary::<Msg, Msg>(path)
            .call(Request::new(msg("x")).timeout(Duration::from_millis(300)));
        let err = guard(call).await.unwrap_err();
        assert_eq!(err.code(), StatusCode::DeadlineExceeded, "{path}: {err}");
        guard(started.recv()).await.unwrap();
        let s = guard(seen.recv()).await.unwrap();
        assert!(s.cancelled && !s.active, "{path}: {s:?}");
    }
    server.stop(None).await;
}

#[tokio::test]
async fn a_deadline_only_the_server_sees_ends_the_rpc_with_deadline_exceeded() {
    // A plain tonic client times only the response headers; these handlers send headers
    // and then no message, so the server must end the RPC at the deadline by itself.
    let (seen_tx, mut seen) = mpsc::unbounded_channel::<Seen>();
    let seen2 = seen_tx.clone();
    let (server, target) = serve_aio(ServerOptions::default(), |s| {
        s.add_method_handler(
            "/test.Async/Stream",
            unary_stream_rpc_method_handler(move |_m: Msg, ctx: ServicerContext| {
                let seen = seen_tx.clone();
                async move {
                    tokio::spawn(async move {
                        let cancelled = tokio::time::timeout(Duration::from_secs(20), ctx.on_cancel()).await.is_ok();
                        let _ = seen.send(Seen {
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
                    let _ = seen.send(Seen {
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
        let mut stream = guard(client.server_streaming(req, http::uri::PathAndQuery::from_static(path), codec))
            .await
            .unwrap()
            .into_inner();
        let status = guard(stream.message()).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::DeadlineExceeded, "{path}: {status:?}");
        let s = guard(seen.recv()).await.unwrap();
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
async fn client_cancel_is_seen_by_async_and_blocking_handlers() {
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let (server, target) = serve_aio(ServerOptions::default(), waiting_server(started_tx, seen_tx)).await;
    let ch = channel(&target);
    for path in ["/test.Async/Wait", "/test.Blocking/Wait"] {
        // call.cancel() (of a call started in the background: it runs before it is awaited)
        let call = ch.unary_unary::<Msg, Msg>(path).call(msg("x"));
        call.start();
        guard(started.recv()).await.unwrap();
        assert!(call.cancel());
        assert_eq!(guard(call.code()).await, StatusCode::Cancelled);
        let s = guard(seen.recv()).await.unwrap();
        assert!(s.cancelled && !s.active, "cancel, {path}: {s:?}");

        // dropping the call while it is being awaited
        let mut call = ch.unary_unary::<Msg, Msg>(path).call(msg("x"));
        tokio::select! {
            r = &mut call => panic!("the call ended early: {r:?}"),
            r = guard(started.recv()) => r.unwrap(),
        }
        drop(call);
        let s = guard(seen.recv()).await.unwrap();
        assert!(s.cancelled && !s.active, "drop, {path}: {s:?}");
    }
    eventually("no RPC in flight", || server.active_rpcs() == 0).await;
    server.stop(None).await;
}

#[tokio::test]
async fn a_call_made_by_a_handler_inherits_its_deadline() {
    let (seen_tx, mut seen) = mpsc::unbounded_channel::<Option<Duration>>();
    let (server, target) = serve_aio(ServerOptions::default(), |s| {
        s.add_method_handler(
            "/test.Svc/Inner",
            unary_unary_rpc_method_handler(move |m: Msg, ctx: ServicerContext| {
                let seen = seen_tx.clone();
                async move {
                    let _ = seen.send(ctx.time_remaining());
                    Ok::<_, RpcError>(m)
                }
            }),
        );
    })
    .await;
    let inner = channel(&target);
    let inner2 = inner.clone();
    server.add_method_handler(
        "/test.Svc/Outer",
        unary_unary_rpc_method_handler(move |m: Msg, _ctx: ServicerContext| {
            let inner = inner.clone();
            async move { inner.unary_unary::<Msg, Msg>("/test.Svc/Inner").call(m).await }
        }),
    );
    let rt = tokio::runtime::Handle::current();
    server.add_method_handler(
        "/test.Blocking/Outer",
        blocking_unary(move |m, _ctx| rt.block_on(async { inner2.unary_unary::<Msg, Msg>("/test.Svc/Inner").call(m).await })),
    );
    let ch = channel(&target);
    for outer in ["/test.Svc/Outer", "/test.Blocking/Outer"] {
        let call = ch
            .unary_unary::<Msg, Msg>(outer)
            .call(Request::new(msg("x")).timeout(Duration::from_secs(10)));
        guard(call).await.unwrap();
        let remaining = guard(seen.recv())
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{outer}: the inner call had no deadline"));
        assert!(remaining <= Duration::from_secs(10), "{outer}: {remaining:?}");
    }
    // Without a deadline on the outer call, none is passed on.
    guard(ch.unary_unary::<Msg, Msg>("/test.Svc/Outer").call(msg("x"))).await.unwrap();
    assert_eq!(guard(seen.recv()).await.unwrap(), None);
    server.stop(None).await;
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
    let ch = channel(&target);
    guard(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap();
    assert_eq!(guard(done.recv()).await, Some("async"));
    guard(ch.unary_unary::<Msg, Msg>("/test.Blocking/Unary").call(msg("x")))
        .await
        .unwrap();
    assert_eq!(guard(done.recv()).await, Some("blocking"));
    // And when the client cancels.
    let call = ch.unary_unary::<Msg, Msg>(UNARY).call(Msg { n: 1, ..msg("x") });
    call.start();
    guard(started.recv()).await.unwrap();
    assert!(done.try_recv().is_err(), "the callback ran before the RPC ended");
    call.cancel();
    assert_eq!(guard(done.recv()).await, Some("async"));
    server.stop(None).await;
}
