//! Interceptors that do middleware's job, on the public API: metrics on both sides for all
//! four kinds (a failing and a cancelled call included), a retrying and a re-authenticating
//! client interceptor that run the continuation again, a client interceptor that sees the
//! request stream and the response headers and trailers, and server interceptors that see a
//! handler's final status and trailers and map a response message. Server-side tests run
//! against blocking and async handlers.

use futures::StreamExt;
use futures::future::BoxFuture;
use rpc_aio::{
    Channel, ClientCallDetails, Continuation, HandlerCallDetails, Next, Request, RequestSource, Responses, RpcError, RpcMethodHandler,
    RpcOutcome, ServerInterceptor, ServerOptions, StatusCode,
};
use rpc_testkit::plan::WHY;
use rpc_testkit::{BIDI, CLIENT_STREAM, Msg, Probe, SERVER_STREAM, Style, UNARY, bounded, eventually, md, msg};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Calls counted by method and final status code.
type Counts = Arc<Mutex<BTreeMap<(String, StatusCode), usize>>>;

fn count(counts: &Counts, method: &str, code: StatusCode) {
    *counts.lock().unwrap().entry((method.to_owned(), code)).or_default() += 1;
}

fn counted(counts: &Counts, method: &str, code: StatusCode) -> usize {
    counts.lock().unwrap().get(&(method.to_owned(), code)).copied().unwrap_or(0)
}

/// A client metrics interceptor: every call counted once, by method and final code.
fn client_metrics(counts: Counts) -> impl rpc_aio::ClientInterceptor {
    move |details: ClientCallDetails, next: Next| {
        let counts = counts.clone();
        async move {
            let method = details.method.clone();
            match next.run(details).await {
                Ok(responses) => Ok(responses.on_status(move |o: &RpcOutcome| count(&counts, &method, o.code()))),
                Err(e) => {
                    count(&counts, &method, e.code());
                    Err(e)
                }
            }
        }
    }
}

/// A server metrics interceptor: every RPC counted once, by method and final code.
struct ServerMetrics(Counts);

impl ServerInterceptor for ServerMetrics {
    fn intercept_service(&self, next: Continuation, details: HandlerCallDetails) -> BoxFuture<'static, Option<RpcMethodHandler>> {
        let counts = self.0.clone();
        Box::pin(async move {
            let method = details.method.clone();
            let handler = next.run(details).await?;
            Some(handler.on_status(move |o| count(&counts, &method, o.code())))
        })
    }
}

async fn serve(style: Style, interceptor: impl ServerInterceptor) -> (rpc_aio::Server, String, Arc<Probe>) {
    let server = rpc_aio::server(ServerOptions::default());
    let probe = Probe::new();
    style.register(&server, &probe);
    server.add_interceptor(interceptor);
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().await.unwrap();
    (server, format!("127.0.0.1:{port}"), probe)
}

fn with_md<T>(message: T, pairs: &[(&str, &str)]) -> Request<T> {
    Request::new(message).metadata(md(pairs))
}

#[tokio::test]
async fn metrics_on_both_sides_count_every_kind_failures_and_cancellations() {
    for style in Style::ALL {
        let server_counts = Counts::default();
        let (_server, target, probe) = serve(style, ServerMetrics(server_counts.clone())).await;
        let client_counts = Counts::default();
        let ch = Channel::builder(&target)
            .interceptor(client_metrics(client_counts.clone()))
            .build()
            .unwrap();

        assert_eq!(
            bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("a"))).await.unwrap().text,
            "echo:a"
        );
        let n = bounded(ch.unary_stream::<Msg, Msg>(SERVER_STREAM).call(Msg { n: 3, ..msg("") }).count()).await;
        assert_eq!(n, 3);
        let joined = bounded(
            ch.stream_unary::<Msg, Msg>(CLIENT_STREAM)
                .call(RequestSource::iter(vec![msg("x"), msg("y")])),
        )
        .await
        .unwrap();
        assert_eq!(joined.text, "x,y");
        let echoed: Vec<_> = bounded(
            ch.stream_stream::<Msg, Msg>(BIDI)
                .call(RequestSource::iter(vec![msg("p"), msg("q")]))
                .collect::<Vec<_>>(),
        )
        .await;
        assert_eq!(echoed.len(), 2);
        // A failing call, of each of two kinds.
        let failed = ch.unary_unary::<Msg, Msg>(UNARY).call(with_md(msg("f"), &[("x-fail", "5")]));
        assert_eq!(bounded(failed).await.unwrap_err().code(), StatusCode::NotFound);
        let failed = ch.stream_unary::<Msg, Msg>(CLIENT_STREAM);
        let source = RequestSource::iter(vec![msg("z")]);
        assert_eq!(
            bounded(failed.call(with_md(source, &[("x-fail", "10")]))).await.unwrap_err().code(),
            StatusCode::Aborted
        );
        // A cancelled call: the handler holds after sending its headers.
        let held = ch.unary_unary::<Msg, Msg>(UNARY).call(with_md(msg("h"), &[("x-hold", "1")]));
        bounded(held.initial_metadata()).await.unwrap();
        assert!(held.cancel());
        eventually("the server saw the cancellation", || probe.cancelled() == 1).await;
        drop(held);

        for counts in [&client_counts, &server_counts] {
            let side = if std::ptr::eq(counts, &client_counts) { "client" } else { "server" };
            eventually(format!("the {side} counted the cancelled call ({style:?})"), || {
                counted(counts, UNARY, StatusCode::Cancelled) == 1
            })
            .await;
            assert_eq!(counted(counts, UNARY, StatusCode::Ok), 1, "{side} {style:?}");
            assert_eq!(counted(counts, SERVER_STREAM, StatusCode::Ok), 1, "{side} {style:?}");
            assert_eq!(counted(counts, CLIENT_STREAM, StatusCode::Ok), 1, "{side} {style:?}");
            assert_eq!(counted(counts, BIDI, StatusCode::Ok), 1, "{side} {style:?}");
            assert_eq!(counted(counts, UNARY, StatusCode::NotFound), 1, "{side} {style:?}");
            assert_eq!(counted(counts, CLIENT_STREAM, StatusCode::Aborted), 1, "{side} {style:?}");
            assert_eq!(
                counts.lock().unwrap().values().sum::<usize>(),
                7,
                "{side} {style:?}: {:?}",
                counts.lock().unwrap()
            );
        }
    }
}

#[tokio::test]
async fn a_retrying_interceptor_runs_the_continuation_again_on_unavailable() {
    let (_server, target, probe) = serve(Style::Async, ServerMetrics(Counts::default())).await;
    let attempts = Arc::new(AtomicUsize::new(0));
    let seen = attempts.clone();
    let retry = |details: ClientCallDetails, next: Next| async move {
        let again = details.again();
        match next.run(details).await {
            Err(e) if e.code() == StatusCode::Unavailable => next.run(again).await,
            other => other,
        }
    };
    // Further in: the first attempt asks the server to fail it UNAVAILABLE.
    let flaky = move |mut details: ClientCallDetails, next: Next| {
        let first = seen.fetch_add(1, Ordering::SeqCst) == 0;
        async move {
            if first {
                details.metadata.add("x-fail", "14").unwrap();
            }
            next.run(details).await
        }
    };
    let ch = Channel::builder(&target).interceptor(retry).interceptor(flaky).build().unwrap();
    let reply = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("again"))).await.unwrap();
    assert_eq!(reply.text, "echo:again");
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    assert_eq!(probe.calls(), 2, "the server saw both attempts");
}

#[tokio::test]
async fn a_reauthenticating_interceptor_refreshes_its_token_and_runs_again() {
    struct RequireFresh;
    impl ServerInterceptor for RequireFresh {
        fn intercept_service(&self, next: Continuation, details: HandlerCallDetails) -> BoxFuture<'static, Option<RpcMethodHandler>> {
            Box::pin(async move {
                if details.invocation_metadata.get_str("authorization") != Some("Bearer fresh") {
                    return Some(RpcMethodHandler::abort(StatusCode::Unauthenticated, "token expired"));
                }
                next.run(details).await
            })
        }
    }
    let (_server, target, _probe) = serve(Style::Blocking, RequireFresh).await;
    let token = Arc::new(Mutex::new("stale".to_owned()));
    let refreshes = Arc::new(AtomicUsize::new(0));
    let (t, r) = (token.clone(), refreshes.clone());
    let reauth = move |details: ClientCallDetails, next: Next| {
        let (token, refreshes) = (t.clone(), r.clone());
        async move {
            let with_token = |mut d: ClientCallDetails| {
                let bearer = format!("Bearer {}", token.lock().unwrap());
                d.metadata.set_all("authorization", [bearer.as_str()]).map(|_| d)
            };
            let again = details.again();
            match next.run(with_token(details)?).await {
                Err(e) if e.code() == StatusCode::Unauthenticated => {
                    refreshes.fetch_add(1, Ordering::SeqCst);
                    *token.lock().unwrap() = "fresh".to_owned();
                    next.run(with_token(again)?).await
                }
                other => other,
            }
        }
    };
    let ch = Channel::builder(&target).interceptor(reauth).build().unwrap();
    assert_eq!(
        bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("one"))).await.unwrap().text,
        "echo:one"
    );
    assert_eq!(
        bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("two"))).await.unwrap().text,
        "echo:two"
    );
    assert_eq!(refreshes.load(Ordering::SeqCst), 1, "refreshed once, then the fresh token is used");
}

#[tokio::test]
async fn a_second_run_of_a_request_stream_is_refused() {
    let (_server, target, probe) = serve(Style::Async, ServerMetrics(Counts::default())).await;
    let twice = |details: ClientCallDetails, next: Next| async move {
        let again = details.again();
        let first = next.run(details).await?;
        drop(first);
        next.run(again).await
    };
    let ch = Channel::builder(&target).interceptor(twice).build().unwrap();
    let err = bounded(ch.stream_unary::<Msg, Msg>(CLIENT_STREAM).call(RequestSource::iter(vec![msg("s")])))
        .await
        .unwrap_err();
    assert_eq!(err.code(), StatusCode::FailedPrecondition, "{err:?}");
    assert!(err.details().contains("cannot be sent again"), "{err:?}");
    let _ = probe;
}

#[tokio::test]
async fn a_client_interceptor_sees_the_request_stream_headers_and_trailers() {
    let (_server, target, _probe) = serve(Style::Async, ServerMetrics(Counts::default())).await;
    let sent = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let (s, v) = (sent.clone(), seen.clone());
    let observer = move |mut details: ClientCallDetails, next: Next| {
        let (sent, seen) = (s.clone(), v.clone());
        async move {
            details.on_request(move |m| {
                if let Some(m) = m.downcast_mut::<Msg>() {
                    sent.lock().unwrap().push(m.text.clone());
                    m.text = m.text.to_uppercase();
                }
            });
            let responses = next.run(details).await?;
            let user = responses.initial_metadata().and_then(|h| h.get_str("x-echo")).map(str::to_owned);
            seen.lock().unwrap().push(format!("headers x-echo={user:?}"));
            Ok(responses.on_status(move |o| {
                let trail = o.trailing_metadata().get_str("x-trail").map(str::to_owned);
                seen.lock().unwrap().push(format!("{:?} x-trail={trail:?}", o.code()));
            }))
        }
    };
    let ch = Channel::builder(&target).interceptor(observer).build().unwrap();
    let mut call = ch
        .stream_unary::<Msg, Msg>(CLIENT_STREAM)
        .call(with_md(RequestSource::writer(), &[("x-user", "ada"), ("x-trail", "t1")]));
    for text in ["a", "b", "c"] {
        bounded(call.write(msg(text))).await.unwrap();
    }
    bounded(call.done_writing()).await.unwrap();
    let reply = bounded(call).await.unwrap();
    assert_eq!(reply.text, "A,B,C", "the hook's change reached the server");
    assert_eq!(*sent.lock().unwrap(), ["a", "b", "c"]);
    assert_eq!(*seen.lock().unwrap(), ["headers x-echo=Some(\"ada\")", "Ok x-trail=Some(\"t1\")"]);
}

#[tokio::test]
async fn server_interceptors_see_the_final_status_and_map_responses() {
    struct Observe(Arc<Mutex<Vec<String>>>);
    impl ServerInterceptor for Observe {
        fn intercept_service(&self, next: Continuation, details: HandlerCallDetails) -> BoxFuture<'static, Option<RpcMethodHandler>> {
            let log = self.0.clone();
            Box::pin(async move {
                let handler = next.run(details).await?;
                Some(handler.on_status(move |o| {
                    let why = o.trailing_metadata().get_str(WHY.0).map(str::to_owned);
                    log.lock().unwrap().push(format!("{:?} {} {why:?}", o.code(), o.details()));
                }))
            })
        }
    }
    struct Shout;
    impl ServerInterceptor for Shout {
        fn intercept_service(&self, next: Continuation, details: HandlerCallDetails) -> BoxFuture<'static, Option<RpcMethodHandler>> {
            Box::pin(async move {
                let handler = next.run(details).await?;
                Some(handler.on_response(|m| {
                    if let Some(m) = m.downcast_mut::<Msg>() {
                        m.text = format!("{}!", m.text);
                    }
                }))
            })
        }
    }
    for style in Style::ALL {
        let log = Arc::new(Mutex::new(Vec::new()));
        let server = rpc_aio::server(ServerOptions::default());
        let probe = Probe::new();
        style.register(&server, &probe);
        server.add_interceptor(Observe(log.clone()));
        server.add_interceptor(Shout);
        let port = server.add_insecure_port("127.0.0.1:0").unwrap();
        server.start().await.unwrap();
        let ch = rpc_testkit::aio_channel(&format!("127.0.0.1:{port}"));
        let failed = ch
            .unary_unary::<Msg, Msg>(UNARY)
            .call(with_md(msg("no"), &[("x-fail", "7"), ("x-fail-how", "return")]));
        let err = bounded(failed).await.unwrap_err();
        assert_eq!(err.code(), StatusCode::PermissionDenied);
        assert_eq!(
            bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("hi"))).await.unwrap().text,
            "echo:hi!"
        );
        let streamed: Vec<String> = bounded(
            ch.unary_stream::<Msg, Msg>(SERVER_STREAM)
                .call(Msg { n: 2, ..msg("") })
                .map(|r| r.unwrap().text)
                .collect(),
        )
        .await;
        assert_eq!(streamed, ["0!", "1!"]);
        eventually("three statuses seen", || log.lock().unwrap().len() == 3).await;
        assert_eq!(
            *log.lock().unwrap(),
            [
                format!("PermissionDenied failed on request Some({:?})", WHY.1),
                "Ok  None".to_owned(),
                "Ok  None".to_owned()
            ],
            "{style:?}"
        );
        server.stop(None).await;
    }
}

#[tokio::test]
async fn responses_made_by_an_interceptor_report_their_status() {
    let outcome = Arc::new(Mutex::new(None));
    let o = outcome.clone();
    let ch = Channel::builder("127.0.0.1:1")
        .interceptor(move |_details: ClientCallDetails, _next: Next| {
            let o = o.clone();
            async move {
                let responses = Responses::from_iter([Ok(rpc_aio::AnyMessage::new(msg("cached"))), Err(RpcError::data_loss("gone"))]);
                Ok(responses.on_status(move |s| *o.lock().unwrap() = Some(s.code())))
            }
        })
        .build()
        .unwrap();
    let err = bounded(ch.unary_stream::<Msg, Msg>(SERVER_STREAM).call(msg("")).collect::<Vec<_>>()).await;
    assert!(err[1].as_ref().is_err());
    assert_eq!(*outcome.lock().unwrap(), Some(StatusCode::DataLoss));
}

#[tokio::test]
async fn a_status_hook_sees_a_deadline_that_cut_the_call_short() {
    let server_counts = Counts::default();
    let (_server, target, _probe) = serve(Style::Async, ServerMetrics(server_counts.clone())).await;
    let client_counts = Counts::default();
    let ch = Channel::builder(&target)
        .interceptor(client_metrics(client_counts.clone()))
        .build()
        .unwrap();
    // The handler sends its headers and holds: only the deadline ends the call.
    let held = Request::new(msg("h"))
        .metadata(md(&[("x-hold", "1")]))
        .timeout(std::time::Duration::from_millis(300));
    let err = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(held)).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::DeadlineExceeded);
    assert_eq!(
        counted(&client_counts, UNARY, StatusCode::DeadlineExceeded),
        1,
        "{:?}",
        client_counts.lock().unwrap()
    );
    // The server's own deadline and the client's reset at its deadline race: either ends it.
    eventually("the server counted the RPC's end", || {
        counted(&server_counts, UNARY, StatusCode::DeadlineExceeded) + counted(&server_counts, UNARY, StatusCode::Cancelled) == 1
    })
    .await;
}
