//! Channels to fleets, against several real backend processes on loopback ports
//! (`rpc_testkit::fleet`): round_robin spreading, pick_first failover, a manual resolver moving
//! traffic, a backend killed or drained mid-load and restarted, retries across backends
//! (previous attempts, non-retryable codes, pushback, throttling, the deadline), hedging,
//! streaming commits, and client-side health checking. Every wait and loop is bounded.
#![cfg(unix)]

use rpc_aio::resolver::{Address, ManualResolver, Resolution};
use rpc_aio::{Channel, ChannelOptions, Request, StatusCode};
use rpc_testkit::fleet::*;
use rpc_testkit::{Msg, bounded, msg};
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[test]
#[ignore = "not a test: the entry point of the backend processes (rpc_testkit::fleet)"]
fn child_process_entry() {
    run_role();
}

/// Options with a short reconnect backoff, so a restarted backend is found again soon.
fn options() -> ChannelOptions {
    ChannelOptions::default()
        .initial_reconnect_backoff(Duration::from_millis(100))
        .max_reconnect_backoff(Duration::from_millis(300))
}

fn round_robin() -> ChannelOptions {
    options().lb_policy_name("round_robin".to_owned())
}

/// A service config whose `fleet.Svc` methods have `policy` (a JSON object member).
fn with_policy(options: ChannelOptions, policy: &str, extra: &str) -> ChannelOptions {
    options.service_config(format!(
        r#"{{"methodConfig": [{{"name": [{{"service": "fleet.Svc"}}], {policy}}}]{extra}}}"#
    ))
}

const RETRY: &str = r#""retryPolicy": {"maxAttempts": 5, "initialBackoff": "0.01s", "maxBackoff": "0.05s", "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}"#;

async fn who(ch: &Channel, n: i32) -> Result<String, rpc_aio::RpcError> {
    let request = Request::new(Msg { n, ..msg("") }).timeout(Duration::from_secs(10));
    ch.unary_unary::<Msg, Msg>(WHO).call(request).await.map(|m| m.text)
}

/// (attempts, cancelled) as backend `b` counts them.
async fn stats(b: &Backend) -> (i32, usize) {
    let ch = rpc_aio::insecure_channel(&b.addr(), ChannelOptions::default()).unwrap();
    let reply = bounded(ch.unary_unary::<Msg, Msg>(STATS).call(msg(""))).await.unwrap();
    (reply.n, reply.text.parse().unwrap())
}

/// Calls until `done` holds for the set of backends seen (at most 20,000 calls, 20 s: a
/// backend coming back is seen only after its subchannel's reconnect backoff, which fast
/// calls can outrun by far).
async fn until_seen(ch: &Channel, done: impl Fn(&HashMap<String, usize>) -> bool) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    let start = Instant::now();
    for i in 0..20_000 {
        if done(&seen) {
            return seen;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "gave up waiting; seen {seen:?}");
        match bounded(who(ch, i)).await {
            Ok(name) => *seen.entry(name).or_default() += 1,
            Err(e) => assert_eq!(e.code(), StatusCode::Unavailable, "{e}"),
        }
    }
    assert!(done(&seen), "20,000 calls and still not there; seen {seen:?}");
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_robin_spreads_300_calls_within_20_percent_of_even() {
    let (a, b, c) = (Backend::start("a", 0), Backend::start("b", 0), Backend::start("c", 0));
    let ch = rpc_aio::insecure_channel(&target(&[&a, &b, &c]), round_robin()).unwrap();
    until_seen(&ch, |s| s.len() == 3).await;
    let mut counts: HashMap<String, usize> = HashMap::new();
    for i in 0..300 {
        *counts.entry(bounded(who(&ch, i)).await.unwrap()).or_default() += 1;
    }
    for name in ["a", "b", "c"] {
        let n = counts.get(name).copied().unwrap_or(0);
        assert!((80..=120).contains(&n), "{name} got {n} of 300: {counts:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pick_first_sends_everything_to_the_first_address_and_fails_over_in_order() {
    let (mut a, mut b, c) = (Backend::start("a", 0), Backend::start("b", 0), Backend::start("c", 0));
    let ch = rpc_aio::insecure_channel(&target(&[&a, &b, &c]), options()).unwrap();
    for i in 0..20 {
        assert_eq!(bounded(who(&ch, i)).await.unwrap(), "a");
    }
    a.kill();
    // The next calls find "a" gone and go to "b" (a call in flight when it died may fail).
    let seen = until_seen(&ch, |s| s.contains_key("b")).await;
    assert!(!seen.contains_key("c"), "pick_first keeps the order: {seen:?}");
    for i in 0..20 {
        assert_eq!(bounded(who(&ch, i)).await.unwrap(), "b");
    }
    b.kill();
    until_seen(&ch, |s| s.contains_key("c")).await;
    for i in 0..20 {
        assert_eq!(bounded(who(&ch, i)).await.unwrap(), "c");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_resolver_update_moves_traffic_while_calls_run() {
    let (a, b) = (Backend::start("a", 0), Backend::start("b", 0));
    let manual = ManualResolver::new("fleet");
    let tcp = |b: &Backend| Address::tcp(b.addr().parse().unwrap());
    manual.update(Resolution::new(vec![tcp(&a)]));
    let ch = Channel::builder("fleet:///backends")
        .options(round_robin())
        .resolver(manual.clone())
        .build()
        .unwrap();
    assert_eq!(bounded(who(&ch, 0)).await.unwrap(), "a");
    // Calls keep running on a task while the addresses change under them.
    let load = {
        let ch = ch.clone();
        tokio::spawn(async move {
            let mut names = Vec::new();
            for i in 0..400 {
                let name = who(&ch, i).await.expect("no call fails while the addresses change");
                let moved = name == "b";
                names.push(name);
                if moved && names.iter().rev().take(20).all(|n| n == "b") {
                    break;
                }
            }
            names
        })
    };
    manual.update(Resolution::new(vec![tcp(&b)]));
    let names = bounded(load).await.unwrap();
    let first_b = names.iter().position(|n| n == "b").expect("traffic moved to b");
    assert!(
        names[first_b..].iter().all(|n| n == "b"),
        "once on b, no call goes back to a: {names:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_killed_mid_load_fails_only_calls_in_flight_and_rejoins_when_restarted() {
    let (a, mut b, c) = (Backend::start("a", 0), Backend::start("b", 0), Backend::start("c", 0));
    let ch = rpc_aio::insecure_channel(&target(&[&a, &b, &c]), round_robin()).unwrap();
    until_seen(&ch, |s| s.len() == 3).await;
    // 8 calls at a time, 400 in all; "b" is killed once 100 have answered.
    use futures::StreamExt;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let answered = Arc::new(AtomicUsize::new(0));
    let hundred = Arc::new(tokio::sync::Notify::new());
    let load = {
        let (ch, answered, hundred) = (ch.clone(), answered.clone(), hundred.clone());
        tokio::spawn(async move {
            futures::stream::iter(0..400)
                .map(|n| {
                    let (ch, answered, hundred) = (ch.clone(), answered.clone(), hundred.clone());
                    async move {
                        let r = who(&ch, n).await;
                        if answered.fetch_add(1, Ordering::SeqCst) + 1 == 100 {
                            hundred.notify_one();
                        }
                        (n, r)
                    }
                })
                .buffer_unordered(8)
                .collect::<Vec<_>>()
                .await
        })
    };
    bounded(hundred.notified()).await;
    let b_got = b.kill();
    let results = bounded(load).await.unwrap();
    let failed: Vec<_> = results.iter().filter_map(|(n, r)| r.as_ref().err().map(|e| (*n, e))).collect();
    // Only calls on "b"'s connection when it died fail, with UNAVAILABLE: those it had
    // received, and those written to the socket after it died but before the client saw the
    // connection break (the server cannot say it never processed them, so they are not
    // retried without a policy; gRPC does the same). At most one window of the load.
    for (n, e) in &failed {
        assert_eq!(e.code(), StatusCode::Unavailable, "call {n}: {e}");
        if !b_got.contains(n) {
            eprintln!("call {n} failed on the dying connection, unseen by b: {e}");
        }
    }
    assert!(failed.len() <= 8, "{failed:?}");
    // The last 100 calls were all served by "a" and "c".
    let last: Vec<&str> = results
        .iter()
        .filter(|(n, _)| *n >= 300)
        .filter_map(|(_, r)| r.as_deref().ok())
        .collect();
    assert_eq!(last.len(), 100, "{failed:?}");
    assert!(last.iter().all(|name| *name == "a" || *name == "c"), "{last:?}");
    // Restarted on the same port, "b" rejoins the rotation.
    let _b = Backend::start("b", b.port);
    until_seen(&ch, |s| s.contains_key("b")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draining_backend_fails_no_call() {
    let (a, mut b) = (Backend::start("a", 0), Backend::start("b", 0));
    let ch = rpc_aio::insecure_channel(&target(&[&a, &b]), round_robin()).unwrap();
    until_seen(&ch, |s| s.len() == 2).await;
    let direct = rpc_aio::insecure_channel(&b.addr(), ChannelOptions::default()).unwrap();
    let mut drained = false;
    let mut after = HashMap::<String, usize>::new();
    for round in 0..50 {
        let batch = (0..8).map(|i| who(&ch, round * 8 + i));
        let drain = async {
            if round == 10 {
                direct.unary_unary::<Msg, Msg>(DRAIN).call(msg("")).await.map(drop)
            } else {
                Ok(())
            }
        };
        let (results, drain) = bounded(futures::future::join(futures::future::join_all(batch), drain)).await;
        drain.unwrap();
        for r in results {
            let name = r.expect("no call fails while a backend drains (GOAWAY)");
            if drained {
                *after.entry(name).or_default() += 1;
            }
        }
        if round == 10 {
            assert_eq!(tokio::task::block_in_place(|| b.wait_line("stopped")), "");
            drained = true;
        }
    }
    assert_eq!(after.keys().collect::<Vec<_>>(), vec!["a"], "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_go_to_other_backends_and_the_server_sees_previous_attempts() {
    let (a, b, c) = (Backend::start("a", 0), Backend::start("b", 0), Backend::start("c", 0));
    let ch = rpc_aio::insecure_channel(&target(&[&a, &b, &c]), with_policy(round_robin(), RETRY, "")).unwrap();
    until_seen(&ch, |s| s.len() == 3).await;
    let flaky = ch.unary_unary::<Msg, Msg>(FLAKY);
    let reply = bounded(flaky.call(msg("fail 2 UNAVAILABLE"))).await.unwrap();
    assert!(reply.text.ends_with("prev=2"), "the third attempt succeeds: {}", reply.text);
    let mut total = 0;
    let mut hit = 0;
    for backend in [&a, &b, &c] {
        let (n, _) = stats(backend).await;
        total += n;
        hit += usize::from(n > 0);
    }
    assert_eq!(total, 3, "three attempts in all");
    assert!(hit >= 2, "round_robin sends the retries elsewhere ({hit} backends saw attempts)");

    // A code that is not retryable ends the call at once.
    let err = bounded(flaky.call(msg("fail 2 INTERNAL"))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Internal, "{err}");
    let mut after = 0;
    for backend in [&a, &b, &c] {
        after += stats(backend).await.0;
    }
    assert_eq!(after, 4, "one attempt only");

    // Without enable_retries the policy is ignored.
    let plain = rpc_aio::insecure_channel(&a.addr(), with_policy(options().enable_retries(false), RETRY, "")).unwrap();
    let err = bounded(plain.unary_unary::<Msg, Msg>(FLAKY).call(msg("fail 1 UNAVAILABLE")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushback_is_honoured_and_a_negative_one_stops_retries() {
    let a = Backend::start("a", 0);
    // A backoff this long would not fit the deadline: only the pushback can.
    let slow = r#""retryPolicy": {"maxAttempts": 3, "initialBackoff": "100000s", "maxBackoff": "100000s", "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}"#;
    let ch = rpc_aio::insecure_channel(&a.addr(), with_policy(options(), slow, "")).unwrap();
    let flaky = ch.unary_unary::<Msg, Msg>(FLAKY);
    let request = Request::new(msg("fail 2 UNAVAILABLE pushback 10")).timeout(Duration::from_secs(20));
    let reply = bounded(flaky.call(request)).await.unwrap();
    assert_eq!(reply.text, "a prev=2");
    assert_eq!(stats(&a).await.0, 3);

    let err = bounded(flaky.call(msg("fail 2 UNAVAILABLE pushback -1"))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
    assert_eq!(stats(&a).await.0, 4, "a negative pushback stops after one attempt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_stops_retries_after_failures() {
    let a = Backend::start("a", 0);
    // 10 tokens; a failure takes one; retries stop at or below 5.
    let throttled = with_policy(options(), RETRY, r#", "retryThrottling": {"maxTokens": 10, "tokenRatio": 0.1}"#);
    let ch = rpc_aio::insecure_channel(&a.addr(), throttled).unwrap();
    let flaky = ch.unary_unary::<Msg, Msg>(FLAKY);
    for _ in 0..3 {
        let err = bounded(flaky.call(msg("fail 99 UNAVAILABLE"))).await.unwrap_err();
        assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
    }
    // The first call: 5 attempts (10 -> 5 tokens); the next two: one each.
    assert_eq!(stats(&a).await.0, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hedging_sends_another_attempt_after_the_delay_and_cancels_the_loser() {
    let a = Backend::start("a", 0);
    let hedging = r#""hedgingPolicy": {"maxAttempts": 2, "hedgingDelay": "0.2s", "nonFatalStatusCodes": ["UNAVAILABLE"]}"#;
    let ch = rpc_aio::insecure_channel(&a.addr(), with_policy(options(), hedging, "")).unwrap();
    let request = Request::new(msg("")).timeout(Duration::from_secs(20));
    let reply = bounded(ch.unary_unary::<Msg, Msg>(HANG).call(request)).await.unwrap();
    assert_eq!(reply.text, "a prev=1", "the second (hedged) attempt answered");
    // The first attempt, still hanging, is cancelled.
    let start = Instant::now();
    loop {
        let (attempts, cancelled) = stats(&a).await;
        if cancelled == 1 {
            assert_eq!(attempts, 2, "the first attempt and one hedge");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the losing attempt was not cancelled ({attempts} attempts, {cancelled} cancelled)"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_spans_every_attempt() {
    let a = Backend::start("a", 0);
    let ch = rpc_aio::insecure_channel(&a.addr(), with_policy(options(), RETRY, "")).unwrap();
    let flaky = ch.unary_unary::<Msg, Msg>(FLAKY);
    // Each attempt fails after 200 ms: five of them do not fit in 500 ms.
    let request = Request::new(msg("fail 99 UNAVAILABLE after 200")).timeout(Duration::from_millis(500));
    let err = bounded(flaky.call(request)).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::DeadlineExceeded, "{err}");
    let spent = stats(&a).await.0;
    assert!(spent < 5, "{spent} attempts");
    // With time enough, maxAttempts bounds them, and the call ends with the last status
    // (on a second backend, which no attempt of the first call can still reach).
    let b = Backend::start("b", 0);
    let ch = rpc_aio::insecure_channel(&b.addr(), with_policy(options(), RETRY, "")).unwrap();
    let request = Request::new(msg("fail 99 UNAVAILABLE")).timeout(Duration::from_secs(10));
    let err = bounded(ch.unary_unary::<Msg, Msg>(FLAKY).call(request)).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
    assert_eq!(stats(&b).await.0, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_streaming_call_is_not_retried_after_its_first_response() {
    use futures::StreamExt;
    let a = Backend::start("a", 0);
    let ch = rpc_aio::insecure_channel(&a.addr(), with_policy(options(), RETRY, "")).unwrap();
    let mut call = ch.unary_stream::<Msg, Msg>(STREAM).call(msg(""));
    assert_eq!(bounded(call.next()).await.unwrap().unwrap().text, "first");
    let err = bounded(call.next()).await.unwrap().unwrap_err();
    assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
    assert_eq!(stats(&a).await.0, 1, "committed at the response headers: one attempt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_not_serving_backend_gets_no_calls_until_it_is_serving_again() {
    let (a, b) = (Backend::start("a", 0), Backend::start("b", 0));
    let checked = round_robin().service_config(r#"{"healthCheckConfig": {"serviceName": "fleet.Svc"}}"#.to_owned());
    let ch = rpc_aio::insecure_channel(&target(&[&a, &b]), checked).unwrap();
    until_seen(&ch, |s| s.len() == 2).await;
    let set = |b: &Backend, status: &str| {
        let direct = rpc_aio::insecure_channel(&b.addr(), ChannelOptions::default()).unwrap();
        let status = status.to_owned();
        async move {
            bounded(direct.unary_unary::<Msg, Msg>(SET_HEALTH).call(msg(&status)))
                .await
                .unwrap()
        }
    };
    set(&b, "NOT_SERVING").await;
    // Once the Watch answer has arrived, "b" gets nothing.
    let start = Instant::now();
    'wait: loop {
        let mut names = Vec::new();
        for i in 0..10 {
            names.push(bounded(who(&ch, i)).await.unwrap());
        }
        if names.iter().all(|n| n == "a") {
            break 'wait;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "b kept getting calls");
    }
    for i in 0..50 {
        assert_eq!(bounded(who(&ch, i)).await.unwrap(), "a", "a NOT_SERVING backend gets no calls");
    }
    set(&b, "SERVING").await;
    until_seen(&ch, |s| s.contains_key("b")).await;
}
