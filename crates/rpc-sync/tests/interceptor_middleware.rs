//! Blocking interceptors that do middleware's job: metrics on both sides for all four kinds
//! (a failing and a cancelled call included), a retrying client interceptor that runs the
//! continuation again, a client interceptor that sees the request stream, headers and
//! trailers, and a server interceptor that maps responses, against blocking and async
//! handlers.

use rpc_sync::{
    ClientCallDetails, ClientInterceptor, Continuation, HandlerCallDetails, Next, Request, RequestSource, RpcMethodHandler, RpcOutcome,
    ServerOptions, StatusCode, intercept_channel,
};
use rpc_testkit::{BIDI, CLIENT_STREAM, Msg, Probe, SERVER_STREAM, Style, UNARY, md, msg, sync_channel};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

type Counts = Arc<Mutex<BTreeMap<(String, StatusCode), usize>>>;

fn count(counts: &Counts, method: &str, code: StatusCode) {
    *counts.lock().unwrap().entry((method.to_owned(), code)).or_default() += 1;
}

fn counted(counts: &Counts, method: &str, code: StatusCode) -> usize {
    counts.lock().unwrap().get(&(method.to_owned(), code)).copied().unwrap_or(0)
}

fn client_metrics(counts: Counts) -> impl ClientInterceptor {
    move |details: ClientCallDetails, next: Next| {
        let method = details.method.clone();
        let counts = counts.clone();
        match next.run(details) {
            Ok(responses) => Ok(responses.on_status(move |o: &RpcOutcome| count(&counts, &method, o.code()))),
            Err(e) => {
                count(&counts, &method, e.code());
                Err(e)
            }
        }
    }
}

fn server_metrics(counts: Counts) -> impl rpc_sync::ServerInterceptor {
    move |next: Continuation, details: HandlerCallDetails| {
        let method = details.method.clone();
        let counts = counts.clone();
        let handler = next.run(details)?;
        Some(handler.on_status(move |o| count(&counts, &method, o.code())))
    }
}

fn serve(style: Style, interceptor: impl rpc_sync::ServerInterceptor) -> (rpc_sync::Server, String, Arc<Probe>) {
    let server = rpc_sync::server(ServerOptions::default()).unwrap();
    let probe = Probe::new();
    style.register(&server, &probe);
    server.add_interceptor(interceptor);
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().unwrap();
    (server, format!("127.0.0.1:{port}"), probe)
}

fn with_md<T>(message: T, pairs: &[(&str, &str)]) -> Request<T> {
    Request::new(message).metadata(md(pairs))
}

#[test]
fn metrics_on_both_sides_count_every_kind_failures_and_cancellations() {
    for style in Style::ALL {
        let server_counts = Counts::default();
        let (_server, target, probe) = serve(style, server_metrics(server_counts.clone()));
        let client_counts = Counts::default();
        let ch = intercept_channel(&sync_channel(&target), [client_metrics(client_counts.clone())]);

        assert_eq!(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("a")).unwrap().text, "echo:a");
        assert_eq!(ch.unary_stream::<Msg, Msg>(SERVER_STREAM).call(Msg { n: 3, ..msg("") }).count(), 3);
        assert_eq!(
            ch.stream_unary::<Msg, Msg>(CLIENT_STREAM)
                .call(vec![msg("x"), msg("y")])
                .unwrap()
                .text,
            "x,y"
        );
        assert_eq!(ch.stream_stream::<Msg, Msg>(BIDI).call(vec![msg("p"), msg("q")]).count(), 2);
        let err = ch
            .unary_unary::<Msg, Msg>(UNARY)
            .call(with_md(msg("f"), &[("x-fail", "5")]))
            .unwrap_err();
        assert_eq!(err.code(), StatusCode::NotFound);
        let source = RequestSource::iter(vec![msg("z")]);
        let err = ch
            .stream_unary::<Msg, Msg>(CLIENT_STREAM)
            .call(with_md(source, &[("x-fail", "10")]))
            .unwrap_err();
        assert_eq!(err.code(), StatusCode::Aborted);
        let held = ch.unary_unary::<Msg, Msg>(UNARY).future(with_md(msg("h"), &[("x-hold", "1")]));
        held.initial_metadata().unwrap();
        assert!(held.cancel());
        rpc_testkit::eventually("the server saw the cancellation", || probe.cancelled() == 1).wait();
        drop(held);

        for (side, counts) in [("client", &client_counts), ("server", &server_counts)] {
            rpc_testkit::eventually(format!("the {side} counted the cancelled call"), || {
                counted(counts, UNARY, StatusCode::Cancelled) == 1
            })
            .wait();
            for (method, code) in [
                (UNARY, StatusCode::Ok),
                (SERVER_STREAM, StatusCode::Ok),
                (CLIENT_STREAM, StatusCode::Ok),
                (BIDI, StatusCode::Ok),
                (UNARY, StatusCode::NotFound),
                (CLIENT_STREAM, StatusCode::Aborted),
            ] {
                assert_eq!(counted(counts, method, code), 1, "{side} {style:?} {method} {code:?}");
            }
            assert_eq!(counts.lock().unwrap().values().sum::<usize>(), 7, "{side} {style:?}");
        }
    }
}

#[test]
fn a_retrying_interceptor_runs_the_continuation_again_on_unavailable() {
    let (_server, target, probe) = serve(Style::Blocking, server_metrics(Counts::default()));
    let attempts = Arc::new(AtomicUsize::new(0));
    let seen = attempts.clone();
    let retry = |details: ClientCallDetails, next: Next| {
        let again = details.again();
        match next.run(details) {
            Err(e) if e.code() == StatusCode::Unavailable => next.run(again),
            other => other,
        }
    };
    let flaky = move |mut details: ClientCallDetails, next: Next| {
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            details.metadata.add("x-fail", "14")?;
        }
        next.run(details)
    };
    let ch = intercept_channel(&intercept_channel(&sync_channel(&target), [flaky]), [retry]);
    assert_eq!(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("again")).unwrap().text, "echo:again");
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    assert_eq!(probe.calls(), 2);
}

#[test]
fn interceptors_see_the_request_stream_headers_trailers_and_map_responses() {
    let shout = |next: Continuation, details: HandlerCallDetails| {
        let handler: RpcMethodHandler = next.run(details)?;
        Some(handler.on_response(|m| {
            if let Some(m) = m.downcast_mut::<Msg>() {
                m.text.push('!');
            }
        }))
    };
    for style in Style::ALL {
        let (_server, target, _probe) = serve(style, shout);
        let log = Arc::new(Mutex::new(Vec::<String>::new()));
        let l = log.clone();
        let observer = move |mut details: ClientCallDetails, next: Next| {
            let sent = l.clone();
            details.on_request(move |m| {
                if let Some(m) = m.downcast_ref::<Msg>() {
                    sent.lock().unwrap().push(format!("sent {}", m.text));
                }
            });
            let responses = next.run(details)?;
            let echo = responses.initial_metadata().and_then(|h| h.get_str("x-echo")).map(str::to_owned);
            l.lock().unwrap().push(format!("headers {echo:?}"));
            let l = l.clone();
            Ok(responses.on_status(move |o| {
                let trail = o.trailing_metadata().get_str("x-trail").map(str::to_owned);
                l.lock().unwrap().push(format!("{:?} {trail:?}", o.code()));
            }))
        };
        let ch = intercept_channel(&sync_channel(&target), [observer]);
        let source = RequestSource::iter(vec![msg("a"), msg("b")]);
        let reply = ch
            .stream_unary::<Msg, Msg>(CLIENT_STREAM)
            .call(with_md(source, &[("x-user", "ada"), ("x-trail", "t")]))
            .unwrap();
        assert_eq!(reply.text, "a,b!", "{style:?}");
        // The requests go out in order and the status comes last; the response headers may
        // come before the requests are read (the async handler sends them first), so
        // where they fall among the requests is the network's choice.
        let log = log.lock().unwrap().clone();
        let sent: Vec<_> = log.iter().filter(|e| e.starts_with("sent")).collect();
        assert_eq!(sent, ["sent a", "sent b"], "{style:?} {log:?}");
        assert_eq!(log.iter().filter(|e| *e == "headers Some(\"ada\")").count(), 1, "{style:?} {log:?}");
        assert_eq!(log.last().map(String::as_str), Some("Ok Some(\"t\")"), "{style:?} {log:?}");
        assert_eq!(log.len(), 4, "{style:?} {log:?}");
    }
}
