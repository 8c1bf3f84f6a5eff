//! Streamed requests kept for replay: sent side by side to hedged attempts (the loser
//! cancelled; through both faces), and replayed to a retry whose server answers with
//! headers before it has read them all. On an rpc-aio server that counts attempts.

use futures::StreamExt;
use rpc_aio::{
    ChannelOptions, Metadata, Request, RequestStream, ServerOptions, ServicerContext, StatusCode, WriteRequests, insecure_channel,
};
use rpc_testkit::{Msg, bounded, eventually, msg, serve_aio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const COLLECT: &str = "/test.Replay/Collect";

/// What the server counted.
#[derive(Clone, Default)]
struct Counts {
    attempts: Arc<AtomicUsize>,
    cancelled: Arc<AtomicUsize>,
}

/// How the first attempt of a `Collect` call ends.
#[derive(Clone, Copy)]
enum First {
    /// It reads every request, then waits until it is cancelled (or 30 s).
    Hangs,
    /// It reads every request, then fails UNAVAILABLE (trailers-only).
    Fails,
}

/// A server whose `Collect` joins the texts of the requests it read (and counts the
/// attempts cut off while reading or waiting); after a failed first attempt, the later ones
/// send their response headers first, before reading anything.
async fn server(first: First) -> (rpc_aio::Server, String, Counts) {
    let counts = Counts::default();
    let c = counts.clone();
    let (server, target) = serve_aio(ServerOptions::default(), move |s| {
        s.add_method_handler(
            COLLECT,
            rpc_aio::stream_unary_rpc_method_handler(move |mut requests: RequestStream<Msg>, ctx: ServicerContext| {
                let attempt = c.attempts.fetch_add(1, Ordering::SeqCst);
                let cancelled = c.cancelled.clone();
                async move {
                    if attempt > 0 && matches!(first, First::Fails) {
                        ctx.send_initial_metadata(Metadata::new().with("x-attempt", attempt.to_string())?)?;
                    }
                    let mut texts = Vec::new();
                    while let Some(m) = requests.next().await {
                        match m {
                            Ok(m) => texts.push(m.text),
                            Err(e) => {
                                cancelled.fetch_add(1, Ordering::SeqCst);
                                return Err(e);
                            }
                        }
                    }
                    let previous = ctx
                        .invocation_metadata()
                        .get_str("grpc-previous-rpc-attempts")
                        .unwrap_or("0")
                        .to_owned();
                    match (attempt, first) {
                        (0, First::Fails) => return Err(ctx.abort(StatusCode::Unavailable, "the first attempt fails")),
                        (0, First::Hangs) => tokio::select! {
                            () = ctx.on_cancel() => {
                                cancelled.fetch_add(1, Ordering::SeqCst);
                                return Err(ctx.abort(StatusCode::Cancelled, "cancelled"));
                            }
                            () = tokio::time::sleep(Duration::from_secs(30)) => {}
                        },
                        _ => {}
                    }
                    let sizes: usize = texts.iter().map(String::len).sum();
                    let shown: Vec<&str> = texts.iter().map(|t| if t.len() > 8 { &t[..1] } else { t }).collect();
                    Ok(msg(&format!("{} ({sizes} bytes, previous {previous})", shown.join(","))))
                }
            }),
        );
    })
    .await;
    (server, target, counts)
}

fn policy(json: &str) -> ChannelOptions {
    ChannelOptions::default().service_config(format!(
        r#"{{"methodConfig": [{{"name": [{{"service": "test.Replay"}}], {json}}}]}}"#
    ))
}

const HEDGING: &str = r#""hedgingPolicy": {"maxAttempts": 2, "hedgingDelay": "0.2s", "nonFatalStatusCodes": ["UNAVAILABLE"]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_streaming_call_is_hedged_side_by_side_and_the_loser_cancelled() {
    let (_server, target, counts) = server(First::Hangs).await;
    let ch = insecure_channel(&target, policy(HEDGING)).unwrap();
    let mut call = ch
        .stream_unary::<Msg, Msg>(COLLECT)
        .call(Request::new(WriteRequests).timeout(Duration::from_secs(20)));
    call.start();
    bounded(call.write(msg("a"))).await.unwrap();
    // Both attempts run (the hedge replayed "a") before the rest is written: the next
    // requests go to both as they come.
    eventually("the hedged attempt started", || counts.attempts.load(Ordering::SeqCst) == 2).await;
    bounded(call.write(msg("b"))).await.unwrap();
    bounded(call.write(msg("c"))).await.unwrap();
    bounded(call.done_writing()).await.unwrap();
    let reply = bounded(call).await.unwrap();
    assert_eq!(reply.text, "a,b,c (3 bytes, previous 1)", "the hedge got every request");
    eventually("the losing attempt was cancelled", || counts.cancelled.load(Ordering::SeqCst) == 1).await;
    assert_eq!(counts.attempts.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_blocking_face_hedges_a_client_streaming_call_the_same_way() {
    let (_server, target, counts) = server(First::Hangs).await;
    let seen = counts.clone();
    // The blocking client runs on a thread of its own, off the server's runtime.
    let client = std::thread::spawn(move || {
        let ch = rpc_sync::insecure_channel(&target, policy(HEDGING)).unwrap();
        let mut call = ch
            .stream_unary::<Msg, Msg>(COLLECT)
            .future(rpc_sync::Request::new(WriteRequests).timeout(Duration::from_secs(20)));
        call.write(msg("a")).unwrap();
        eventually("the hedged attempt started", || seen.attempts.load(Ordering::SeqCst) == 2).wait();
        call.write(msg("b")).unwrap();
        call.write(msg("c")).unwrap();
        call.done_writing().unwrap();
        call.result(Some(Duration::from_secs(30)))
    });
    let reply = bounded(tokio::task::spawn_blocking(move || client.join())).await.unwrap().unwrap();
    assert_eq!(reply.unwrap().text, "a,b,c (3 bytes, previous 1)", "the hedge got every request");
    eventually("the losing attempt was cancelled", || counts.cancelled.load(Ordering::SeqCst) == 1).await;
    assert_eq!(counts.attempts.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hedged_client_streaming_call_commits_to_one_attempt_past_the_buffer_limit() {
    let (_server, target, counts) = server(First::Hangs).await;
    let hedging = r#""hedgingPolicy": {"maxAttempts": 2, "hedgingDelay": "0.1s", "nonFatalStatusCodes": ["UNAVAILABLE"]}"#;
    let ch = insecure_channel(&target, policy(hedging).per_rpc_retry_buffer_size(64)).unwrap();
    let mut call = ch
        .stream_unary::<Msg, Msg>(COLLECT)
        .call(Request::new(WriteRequests).timeout(Duration::from_secs(3)));
    call.start();
    bounded(call.write(msg("a"))).await.unwrap();
    eventually("the hedged attempt started", || counts.attempts.load(Ordering::SeqCst) == 2).await;
    // Past the 64-byte buffer, the call commits to the attempt that read the request (the
    // first, which hangs, or the hedge); the other one is cut off. Neither gets half the
    // requests.
    bounded(call.write(msg(&"x".repeat(100)))).await.unwrap();
    bounded(call.done_writing()).await.unwrap();
    // Either way, both attempts end: the one cut off at the commit, and the first one (cut
    // off, or cancelled at the deadline).
    let cut = match bounded(call).await {
        Ok(reply) => {
            assert_eq!(reply.text, "a,x (101 bytes, previous 1)");
            1
        }
        // Committed to the first attempt, which hangs: the call ends at its deadline.
        Err(e) => {
            assert_eq!(e.code(), StatusCode::DeadlineExceeded, "{e}");
            2
        }
    };
    eventually("the other attempts were cut off", || counts.cancelled.load(Ordering::SeqCst) == cut).await;
    assert_eq!(counts.attempts.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_answered_with_headers_before_its_replayed_requests_were_sent_gets_them_all() {
    let (_server, target, counts) = server(First::Fails).await;
    let retry = r#""retryPolicy": {"maxAttempts": 3, "initialBackoff": "0.01s", "maxBackoff": "0.01s", "backoffMultiplier": 1, "retryableStatusCodes": ["UNAVAILABLE"]}"#;
    // 3 requests of 1.5 MB, more than an HTTP/2 stream window: the retry's headers come
    // back while most of its replayed requests still wait for flow control.
    let options = policy(retry).per_rpc_retry_buffer_size(8 << 20);
    let ch = insecure_channel(&target, options).unwrap();
    let big = |c: &str| msg(&c.repeat(1_500_000));
    let requests = vec![big("a"), big("b"), big("c")];
    let reply = bounded(
        ch.stream_unary::<Msg, Msg>(COLLECT)
            .call(Request::new(requests).timeout(Duration::from_secs(20))),
    )
    .await
    .unwrap();
    assert_eq!(reply.text, "a,b,c (4500000 bytes, previous 1)");
    assert_eq!(counts.attempts.load(Ordering::SeqCst), 2);
}
