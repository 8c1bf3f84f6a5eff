//! The service config on one server (tonic's, or an rpc-aio server for what needs the
//! attempt number): per-method timeout, waitForReady and message limits, invalid configs,
//! a resolver's bad config keeping the last good one, the replay of streamed requests on a
//! retry and the retry buffer limit, health checking against a server without the health
//! service, and target forms.

use futures::StreamExt;
use rpc_aio::resolver::{Address, ManualResolver, Resolution};
use rpc_aio::{Channel, ChannelOptions, Metadata, Request, RequestStream, ServerOptions, ServicerContext, StatusCode, insecure_channel};
use rpc_testkit::{Msg, SERVER_STREAM, TonicPeer, UNARY, bounded as guard, free_port, msg, serve_aio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn addr(peer: &TonicPeer) -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], peer.port()))
}

fn config(json: &str) -> ChannelOptions {
    ChannelOptions::default().service_config(json.to_owned())
}

fn sleeping(ms: u64, timeout: Option<Duration>) -> Request<Msg> {
    let md = Metadata::new().with("x-sleep-ms", ms.to_string()).unwrap();
    let request = Request::new(msg("x")).metadata(md);
    match timeout {
        Some(t) => request.timeout(t),
        None => request,
    }
}

#[tokio::test]
async fn a_method_timeout_bounds_calls_and_a_shorter_call_deadline_wins() {
    let server = TonicPeer::start();
    let ch = insecure_channel(
        &server.target(),
        config(r#"{"methodConfig": [{"name": [{"service": "test.Svc", "method": "Unary"}], "timeout": "0.3s"}]}"#),
    )
    .unwrap();
    let unary = ch.unary_unary::<Msg, Msg>(UNARY);
    let err = guard(unary.call(sleeping(5000, None))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::DeadlineExceeded, "{err}");
    let sent = rpc_core::timeout::parse_grpc_timeout(server.probe().header("grpc-timeout").unwrap().as_bytes()).unwrap();
    assert!(sent <= Duration::from_millis(300), "the config's timeout is sent: {sent:?}");
    // A longer call timeout does not lift it; a shorter one wins.
    let err = guard(unary.call(sleeping(5000, Some(Duration::from_secs(10))))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::DeadlineExceeded, "{err}");
    // Under a long method timeout, the call's shorter deadline is the one sent.
    let long = insecure_channel(
        &server.target(),
        config(r#"{"methodConfig": [{"name": [{"service": "test.Svc"}], "timeout": "30s"}]}"#),
    )
    .unwrap();
    guard(long.unary_unary::<Msg, Msg>(UNARY).call(sleeping(0, Some(Duration::from_secs(5)))))
        .await
        .unwrap();
    let sent = rpc_core::timeout::parse_grpc_timeout(server.probe().header("grpc-timeout").unwrap().as_bytes()).unwrap();
    assert!(sent <= Duration::from_secs(5), "{sent:?}");
    // Other methods of the service are not matched by a method-level name.
    let mut stream = ch
        .unary_stream::<Msg, Msg>(SERVER_STREAM)
        .call(Request::new(Msg { n: 1, ..msg("") }).timeout(Duration::from_secs(10)));
    assert!(guard(stream.next()).await.unwrap().is_ok());
}

#[tokio::test]
async fn wait_for_ready_from_the_config_waits_and_the_call_overrides_it() {
    let port = free_port();
    let target = format!("127.0.0.1:{port}");
    let json = r#"{"methodConfig": [{"name": [{"service": "test.Svc"}], "waitForReady": true}]}"#;
    let ch = insecure_channel(&target, config(json)).unwrap();
    let unary = ch.unary_unary::<Msg, Msg>(UNARY);
    // Nothing listens: a waiting call ends at its deadline, not UNAVAILABLE at once.
    let err = guard(unary.call(Request::new(msg("x")).timeout(Duration::from_millis(300))))
        .await
        .unwrap_err();
    assert_eq!(err.code(), StatusCode::DeadlineExceeded, "{err}");
    let err = guard(unary.call(Request::new(msg("x")).wait_for_ready(false).timeout(Duration::from_secs(10))))
        .await
        .unwrap_err();
    assert_eq!(err.code(), StatusCode::Unavailable, "the call's own setting wins: {err}");
    // The waiting call succeeds once a server appears.
    let waiting = tokio::spawn({
        let unary = unary.clone();
        async move { unary.call(Request::new(msg("late")).timeout(Duration::from_secs(15))).await }
    });
    let _server = TonicPeer::start_on(port);
    assert_eq!(guard(waiting).await.unwrap().unwrap().text, "echo:late");
}

#[tokio::test]
async fn message_limits_from_the_config_apply_per_method() {
    let server = TonicPeer::start();
    let json = r#"{"methodConfig": [{"name": [{"service": "test.Svc", "method": "Unary"}], "maxRequestMessageBytes": 50, "maxResponseMessageBytes": "60"}]}"#;
    let ch = insecure_channel(&server.target(), config(json)).unwrap();
    let unary = ch.unary_unary::<Msg, Msg>(UNARY);
    let big = Msg {
        payload: vec![1; 100],
        ..msg("x")
    };
    let err = guard(unary.call(big.clone())).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::ResourceExhausted, "{err}");
    assert_eq!(server.probe().calls(), 0, "the request was not sent");
    // A small request whose echo is over the response limit.
    let err = guard(unary.call(Msg { n: 100, ..msg("x") })).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::ResourceExhausted, "{err}");
    // Another method keeps the channel's limits.
    let mut stream = ch.unary_stream::<Msg, Msg>(SERVER_STREAM).call(Msg { n: 1, ..big });
    assert!(guard(stream.next()).await.unwrap().is_ok());
}

#[tokio::test]
async fn invalid_configs_and_policies_fail_the_channel_creation() {
    for (json, names) in [
        ("{", "not JSON"),
        (r#"{"methodConfig": [{"name": [{"service": "s"}], "timeout": "soon"}]}"#, "timeout"),
        (r#"{"loadBalancingConfig": [{"weighted_nowhere": {}}]}"#, "loadBalancingConfig"),
        (
            r#"{"methodConfig": [{"name": [{"service": "s"}], "retryPolicy": {"maxAttempts": 3, "initialBackoff": "1s", "maxBackoff": "1s", "backoffMultiplier": 2, "retryableStatusCodes": []}}]}"#,
            "retryableStatusCodes",
        ),
        (
            r#"{"methodConfig": [{"name": [{"service": "s"}], "hedgingPolicy": {"maxAttempts": 3}, "retryPolicy": {"maxAttempts": 3, "initialBackoff": "1s", "maxBackoff": "1s", "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}}]}"#,
            "both",
        ),
    ] {
        let err = insecure_channel("127.0.0.1:1", config(json)).unwrap_err();
        assert_eq!(err.code(), StatusCode::InvalidArgument, "{json}: {err}");
        assert!(err.details().contains("service config") && err.details().contains(names), "{err}");
    }
    let err = insecure_channel("127.0.0.1:1", ChannelOptions::default().lb_policy_name("nope".to_owned())).unwrap_err();
    assert_eq!(err.code(), StatusCode::InvalidArgument, "{err}");
    assert!(err.details().contains("nope"), "{err}");
}

#[tokio::test]
async fn a_bad_config_from_the_resolver_keeps_the_last_good_one() {
    let server = TonicPeer::start();
    let manual = ManualResolver::new("cfg");
    let timeout = r#"{"methodConfig": [{"name": [{"service": "test.Svc"}], "timeout": "0.2s"}]}"#;
    manual.update(Resolution::new(vec![Address::tcp(addr(&server))]).with_service_config(timeout));
    let ch = Channel::builder("cfg:x").resolver(manual.clone()).build().unwrap();
    let unary = ch.unary_unary::<Msg, Msg>(UNARY);
    let err = guard(unary.call(sleeping(2000, None))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::DeadlineExceeded, "the resolver's config applies: {err}");

    // A bad config comes with a move to a second server: once calls reach it, the
    // update is in force, and the timeout of the last good config still applies.
    let second = TonicPeer::start();
    manual.update(Resolution::new(vec![Address::tcp(addr(&second))]).with_service_config("{ not json"));
    for _ in 0..100 {
        if second.probe().calls() > 0 {
            break;
        }
        let _ = guard(unary.call(sleeping(0, Some(Duration::from_secs(5))))).await;
    }
    assert!(second.probe().calls() > 0, "the update never moved the calls");
    let err = guard(unary.call(sleeping(2000, None))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::DeadlineExceeded, "the last good config stays: {err}");
    // No config from the resolver: the channel's default (none) applies again.
    manual.update(Resolution::new(vec![Address::tcp(addr(&second))]));
    eventually_ok(&unary).await;
}

/// Calls a 300 ms method until one succeeds (bounded): the config without a timeout applies.
async fn eventually_ok(unary: &rpc_aio::UnaryUnaryMultiCallable<Msg, Msg>) {
    for _ in 0..50 {
        if guard(unary.call(sleeping(300, Some(Duration::from_secs(5))))).await.is_ok() {
            return;
        }
    }
    panic!("the default config never came back");
}

const RETRY_STREAM: &str = r#"{"methodConfig": [{"name": [{"service": "test.Retry"}], "retryPolicy": {"maxAttempts": 3, "initialBackoff": "0.01s", "maxBackoff": "0.01s", "backoffMultiplier": 1, "retryableStatusCodes": ["UNAVAILABLE"]}}]}"#;

/// A server whose `/test.Retry/Collect` reads every request, fails the first attempt
/// UNAVAILABLE, and answers the later ones with the requests it read, joined.
async fn collecting_server() -> (rpc_aio::Server, String, Arc<AtomicUsize>) {
    let attempts = Arc::new(AtomicUsize::new(0));
    let seen = attempts.clone();
    let (server, target) = serve_aio(ServerOptions::default(), move |s| {
        s.add_method_handler(
            "/test.Retry/Collect",
            rpc_aio::stream_unary_rpc_method_handler(move |mut requests: RequestStream<Msg>, ctx: ServicerContext| {
                let attempt = seen.fetch_add(1, Ordering::SeqCst);
                async move {
                    let mut texts = Vec::new();
                    while let Some(m) = requests.next().await {
                        texts.push(m?.text);
                    }
                    let previous = ctx
                        .invocation_metadata()
                        .get_str("grpc-previous-rpc-attempts")
                        .unwrap_or("0")
                        .to_owned();
                    if attempt == 0 {
                        return Err(ctx.abort(StatusCode::Unavailable, "first attempt fails"));
                    }
                    Ok(msg(&format!("{} (previous {previous})", texts.join(","))))
                }
            }),
        );
    })
    .await;
    (server, target, attempts)
}

#[tokio::test]
async fn a_client_streaming_call_is_replayed_on_retry_until_the_buffer_limit() {
    let (_server, target, attempts) = collecting_server().await;
    let ch = insecure_channel(&target, config(RETRY_STREAM)).unwrap();
    let collect = ch.stream_unary::<Msg, Msg>("/test.Retry/Collect");
    let requests = vec![msg("a"), msg("b"), msg("c")];
    let reply = guard(collect.call(Request::new(requests).timeout(Duration::from_secs(10))))
        .await
        .unwrap();
    assert_eq!(reply.text, "a,b,c (previous 1)", "the second attempt got every request again");
    assert_eq!(attempts.load(Ordering::SeqCst), 2);

    // Requests over the per-call retry buffer commit the call: the failure is final.
    let (_server, target, attempts) = collecting_server().await;
    let small = config(RETRY_STREAM).per_rpc_retry_buffer_size(8);
    let ch = insecure_channel(&target, small).unwrap();
    let collect = ch.stream_unary::<Msg, Msg>("/test.Retry/Collect");
    let requests = vec![msg("0123456789"), msg("b")];
    let err = guard(collect.call(Request::new(requests).timeout(Duration::from_secs(10))))
        .await
        .unwrap_err();
    assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
    assert_eq!(attempts.load(Ordering::SeqCst), 1, "committed: no retry");
}

#[tokio::test]
async fn health_checking_turns_off_for_a_server_without_the_health_service() {
    // tonic's test server has no grpc.health.v1.Health: Watch is UNIMPLEMENTED.
    let server = TonicPeer::start();
    let json = r#"{"loadBalancingConfig": [{"round_robin": {}}], "healthCheckConfig": {"serviceName": "test.Svc"}}"#;
    let ch = insecure_channel(&format!("ipv4:{}", server.target()), config(json)).unwrap();
    let reply = guard(
        ch.unary_unary::<Msg, Msg>(UNARY)
            .call(Request::new(msg("hi")).timeout(Duration::from_secs(10))),
    )
    .await
    .unwrap();
    assert_eq!(reply.text, "echo:hi");
}

#[tokio::test]
async fn every_target_form_reaches_the_server() {
    let server = TonicPeer::start();
    let port = server.port();
    for target in [
        format!("127.0.0.1:{port}"),
        format!("dns:127.0.0.1:{port}"),
        format!("dns:///localhost:{port}"),
        format!("localhost:{port}"),
        format!("ipv4:127.0.0.1:{port}"),
        format!("ipv4:127.0.0.1:1,127.0.0.1:{port}"),
    ] {
        let ch = insecure_channel(&target, ChannelOptions::default()).unwrap();
        let reply = guard(
            ch.unary_unary::<Msg, Msg>(UNARY)
                .call(Request::new(msg(&target)).timeout(Duration::from_secs(10))),
        )
        .await;
        assert_eq!(reply.unwrap_or_else(|e| panic!("{target}: {e}")).text, format!("echo:{target}"));
    }
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn an_abstract_unix_socket_target_reaches_the_server() {
    let name = format!("rpc-aio-test-{}", std::process::id());
    let server = TonicPeer::start_unix_abstract(&name);
    let ch = insecure_channel(&format!("unix-abstract:{name}"), ChannelOptions::default()).unwrap();
    let reply = guard(
        ch.unary_unary::<Msg, Msg>(UNARY)
            .call(Request::new(msg("abstract")).timeout(Duration::from_secs(10))),
    )
    .await;
    assert_eq!(reply.unwrap().text, "echo:abstract");
    assert_eq!(server.probe().calls(), 1);
}
