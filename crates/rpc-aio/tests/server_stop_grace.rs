//! The rpc-aio server's lifecycle: start (twice is an error, after stop too),
//! `wait_for_ready` across a late start, stop with a grace (in-flight RPCs finish, new
//! ones are refused, late ones cancelled with a status), `stop(None)`, a shorter second
//! stop, `wait_for_termination` and `StopHandle::is_done`, a blocking handler that never returns.

mod common;

use common::*;
use rpc_aio::{Request, RpcError, ServerOptions, ServicerContext, StatusCode, unary_unary_rpc_method_handler};
use std::time::Duration;
use tokio::sync::mpsc;

/// `/test.Svc/Unary` sleeps `n` ms then echoes (reporting `started` first); with `n < 0` it
/// waits (up to 60 s) for cancellation and reports it on `cancelled`.
fn sleepy(started: mpsc::UnboundedSender<()>, cancelled: mpsc::UnboundedSender<bool>) -> impl FnOnce(&rpc_aio::Server) {
    move |s| {
        s.add_method_handler(
            UNARY,
            unary_unary_rpc_method_handler(move |m: Msg, ctx: ServicerContext| {
                let (started, cancelled) = (started.clone(), cancelled.clone());
                async move {
                    let _ = started.send(());
                    if m.n < 0 {
                        let seen = tokio::time::timeout(Duration::from_secs(60), ctx.on_cancel()).await.is_ok();
                        let _ = cancelled.send(seen && !ctx.is_active());
                    } else {
                        tokio::time::sleep(Duration::from_millis(m.n as u64)).await;
                    }
                    Ok::<_, RpcError>(m)
                }
            }),
        );
    }
}

#[tokio::test]
async fn start_twice_is_an_error_and_so_is_start_after_stop() {
    let (server, _target) = serve_aio(ServerOptions::default(), |_| {}).await;
    let err = server.start().await.unwrap_err();
    assert_eq!(err.code(), StatusCode::FailedPrecondition);
    assert!(server.add_insecure_port("127.0.0.1:0").is_err(), "ports are added before start");
    server.stop(None).await;
    assert_eq!(server.start().await.unwrap_err().code(), StatusCode::FailedPrecondition);
}

#[tokio::test]
async fn stop_before_start_terminates_at_once() {
    let server = rpc_aio::server(ServerOptions::default());
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    assert!(!server.wait_for_termination(Some(Duration::from_millis(50))).await);
    let handle = server.stop(Some(Duration::from_secs(30)));
    assert!(handle.is_done());
    assert!(guard(server.wait_for_termination(Some(Duration::from_secs(20)))).await);
    assert_eq!(server.start().await.unwrap_err().code(), StatusCode::FailedPrecondition);
    // The port was released: nothing answers there.
    let ch = channel(&format!("127.0.0.1:{port}"));
    let err = guard(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
}

#[tokio::test]
async fn wait_for_ready_waits_for_a_server_that_starts_late() {
    // Nothing listens on the port at first (a bound port would accept connections into
    // its backlog), so the call sees refused connections until the server comes up.
    let port = free_port().await;
    let ch = channel(&format!("127.0.0.1:{port}"));
    let call = ch
        .unary_unary::<Msg, Msg>(UNARY)
        .call(Request::new(msg("late")).wait_for_ready(true).timeout(Duration::from_secs(20)));
    // Let the call try before there is a server.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!call.done());
    let server = rpc_aio::server(ServerOptions::default());
    server.add_method_handler(UNARY, echo_handler());
    assert_eq!(server.add_insecure_port(&format!("127.0.0.1:{port}")).unwrap(), port);
    server.start().await.unwrap();
    assert_eq!(guard(call).await.unwrap().text, "echo:late");
    server.stop(None).await;
}

#[tokio::test]
async fn in_flight_rpcs_finish_inside_the_grace_and_new_ones_are_refused() {
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let (cancelled_tx, _cancelled) = mpsc::unbounded_channel();
    let (server, target) = serve_aio(ServerOptions::default(), sleepy(started_tx, cancelled_tx)).await;
    let ch = channel(&target);
    let call = ch.unary_unary::<Msg, Msg>(UNARY).call(Msg { n: 500, ..msg("slow") });
    call.start(); // in flight before it is awaited
    guard(started.recv()).await.unwrap();
    assert!(!server.wait_for_termination(Some(Duration::from_millis(10))).await);
    let handle = server.stop(Some(Duration::from_secs(20)));
    assert!(!handle.is_done(), "an RPC is in flight");
    // A new RPC, on the same channel or a new one, is refused (not served, no hang).
    for ch in [ch.clone(), channel(&target)] {
        let err = guard(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("late"))).await.unwrap_err();
        assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
    }
    assert_eq!(guard(call).await.unwrap().text, "slow");
    guard(handle.clone()).await;
    assert!(handle.is_done());
    assert!(server.wait_for_termination(Some(Duration::from_secs(1))).await);
    assert_eq!(server.cancelled_rpcs(), 0);
}

#[tokio::test]
async fn rpcs_that_outlive_the_grace_are_cancelled_with_a_status() {
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let (cancelled_tx, mut cancelled) = mpsc::unbounded_channel();
    let (server, target) = serve_aio(ServerOptions::default(), sleepy(started_tx, cancelled_tx)).await;
    let ch = channel(&target);
    let call = ch.unary_unary::<Msg, Msg>(UNARY).call(Msg { n: -1, ..msg("forever") });
    call.start(); // in flight before it is awaited
    guard(started.recv()).await.unwrap();
    let handle = server.stop(Some(Duration::from_millis(300)));
    let err = guard(call).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
    assert!(guard(cancelled.recv()).await.unwrap(), "the handler saw its cancellation");
    guard(handle).await;
    assert_eq!(server.cancelled_rpcs(), 1);
}

#[tokio::test]
async fn stop_none_cancels_at_once() {
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let (cancelled_tx, mut cancelled) = mpsc::unbounded_channel();
    let (server, target) = serve_aio(ServerOptions::default(), sleepy(started_tx, cancelled_tx)).await;
    let ch = channel(&target);
    let calls: Vec<_> = (0..3)
        .map(|_| {
            let call = ch.unary_unary::<Msg, Msg>(UNARY).call(Msg { n: -1, ..msg("forever") });
            call.start(); // in flight before it is awaited
            call
        })
        .collect();
    for _ in 0..3 {
        guard(started.recv()).await.unwrap();
    }
    guard(server.stop(None)).await;
    for call in calls {
        let err = guard(call).await.unwrap_err();
        assert_ne!(err.code(), StatusCode::Ok);
    }
    for _ in 0..3 {
        assert!(guard(cancelled.recv()).await.unwrap());
    }
    assert!(server.is_terminated());
}

#[tokio::test]
async fn a_second_stop_with_a_shorter_grace_shortens_it() {
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let (cancelled_tx, mut cancelled) = mpsc::unbounded_channel();
    let (server, target) = serve_aio(ServerOptions::default(), sleepy(started_tx, cancelled_tx)).await;
    let ch = channel(&target);
    let call = ch.unary_unary::<Msg, Msg>(UNARY).call(Msg { n: -1, ..msg("forever") });
    call.start(); // in flight before it is awaited
    guard(started.recv()).await.unwrap();
    let first = server.stop(Some(Duration::from_secs(3600)));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!first.is_done());
    let second = server.stop(Some(Duration::from_millis(100)));
    // Both handles see the end, long before the first grace.
    guard(second).await;
    assert!(first.is_done());
    assert_ne!(guard(call).await.unwrap_err().code(), StatusCode::Ok);
    assert!(guard(cancelled.recv()).await.unwrap());
    // On a stopped server, stop completes at once.
    assert!(server.stop(Some(Duration::from_secs(3600))).is_done());
}

#[tokio::test]
async fn stop_does_not_wait_for_a_blocking_handler_that_never_returns() {
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = std::sync::Mutex::new(release_rx);
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let (server, target) = serve_aio(ServerOptions::default().max_workers(1).max_queued_rpcs(0), |s| {
        s.add_method_handler(
            UNARY,
            blocking_unary(move |m, _ctx| {
                let _ = started_tx.send(());
                // Ignores cancellation: returns only when the test ends.
                let _ = release_rx.lock().unwrap().recv_timeout(Duration::from_secs(60));
                Ok(m)
            }),
        );
    })
    .await;
    let ch = channel(&target);
    let stuck = ch.unary_unary::<Msg, Msg>(UNARY).call(msg("stuck"));
    stuck.start(); // in flight before it is awaited
    guard(started.recv()).await.unwrap();
    // The only worker is busy and nothing may queue: RESOURCE_EXHAUSTED at once.
    let err = guard(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("more"))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::ResourceExhausted, "{err}");
    let handle = server.stop(Some(Duration::from_millis(200)));
    assert_ne!(guard(stuck).await.unwrap_err().code(), StatusCode::Ok);
    guard(handle).await;
    assert!(server.is_terminated());
    drop(release_tx);
}
