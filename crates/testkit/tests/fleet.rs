//! Channels to fleets, run against both faces, with backend processes of
//! `rpc_testkit::fleet` on loopback ports: round_robin spreads calls, a manual resolver
//! registered by scheme moves them, a killed backend leaves the rotation (and rejoins when
//! restarted), retries go across backends with `grpc-previous-rpc-attempts`, and a
//! NOT_SERVING backend gets no calls. Only targets, options and the resolver registry are
//! used: the blocking face passes them on to the engine.
#![cfg(unix)]

use rpc_core::{ChannelOptions, Request, StatusCode};
use rpc_testkit::fleet::{Backend, FLAKY, SET_HEALTH, STATS, WHO, run_role, target};
use rpc_testkit::{Face, Msg, both_faces, msg};
use std::collections::HashMap;
use std::time::Duration;

#[test]
#[ignore = "not a test: the entry point of the backend processes (rpc_testkit::fleet)"]
fn child_process_entry() {
    run_role();
}

fn round_robin() -> ChannelOptions {
    ChannelOptions::default()
        .lb_policy_name("round_robin".to_owned())
        .initial_reconnect_backoff(Duration::from_millis(100))
        .max_reconnect_backoff(Duration::from_millis(300))
}

/// The backend that answered Who, or the call's error.
fn who<F: Face>(face: &F, ch: &F::Channel, n: i32) -> Result<String, rpc_core::RpcError> {
    let request = Request::new(Msg { n, ..msg("") }).timeout(Duration::from_secs(10));
    let call = face.unary_at::<Msg>(ch, WHO, request);
    match call.error {
        Some(e) => Err(e),
        None => Ok(call.responses[0].text.clone()),
    }
}

/// Calls (at most 20,000, for at most 20 s) until every name in `names` answered; returns
/// the counts. (A backend coming back answers only after its subchannel's reconnect
/// backoff, which fast calls can outrun by far.)
fn until_all<F: Face>(face: &F, ch: &F::Channel, names: &[&str]) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    let start = std::time::Instant::now();
    for i in 0..20_000 {
        if names.iter().all(|n| seen.contains_key(*n)) {
            return seen;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{names:?} did not all answer in 20 s: {seen:?}"
        );
        match who(face, ch, i) {
            Ok(name) => *seen.entry(name).or_default() += 1,
            Err(e) => assert_eq!(e.code(), StatusCode::Unavailable, "{e}"),
        }
    }
    panic!("{names:?} did not all answer in 20,000 calls: {seen:?}");
}

fn attempts_seen<F: Face>(face: &F, b: &Backend) -> i32 {
    let ch = face.channel(&b.addr());
    let call = face.unary_at::<Msg>(&ch, STATS, msg(""));
    assert!(call.error.is_none(), "{:?}", call.error);
    call.responses[0].n
}

fn round_robin_spreads_calls_evenly_and_a_killed_backend_leaves_the_rotation<F: Face>() {
    let face = F::new();
    let (a, mut b, c) = (Backend::start("a", 0), Backend::start("b", 0), Backend::start("c", 0));
    let ch = face.channel_with(&target(&[&a, &b, &c]), round_robin());
    until_all(&face, &ch, &["a", "b", "c"]);
    let mut counts = HashMap::<String, usize>::new();
    for i in 0..150 {
        *counts.entry(who(&face, &ch, i).unwrap()).or_default() += 1;
    }
    for name in ["a", "b", "c"] {
        let n = counts.get(name).copied().unwrap_or(0);
        assert!((40..=60).contains(&n), "{}: {name} got {n} of 150: {counts:?}", F::NAME);
    }
    b.kill();
    // One call at a time: at most the one that meets the dead connection first fails.
    let mut failed = Vec::new();
    let mut after = HashMap::<String, usize>::new();
    for i in 0..60 {
        match who(&face, &ch, i) {
            Ok(name) => *after.entry(name).or_default() += 1,
            Err(e) => failed.push(e),
        }
    }
    assert!(failed.len() <= 1, "{}: {failed:?}", F::NAME);
    assert!(failed.iter().all(|e| e.code() == StatusCode::Unavailable), "{failed:?}");
    assert!(!after.contains_key("b") && after.len() == 2, "{}: {after:?}", F::NAME);
    // Restarted on its port, "b" rejoins.
    let _b = Backend::start("b", b.port);
    until_all(&face, &ch, &["b"]);
}

fn a_registered_manual_resolver_moves_traffic<F: Face>() {
    // rpc-sync re-exports rpc-aio's resolver API: one registry serves both faces.
    use rpc_sync::resolver::{Address, ManualResolver, Resolution, register};
    let face = F::new();
    let (a, b) = (Backend::start("a", 0), Backend::start("b", 0));
    let scheme = format!("fleet-{}", F::NAME);
    let manual = ManualResolver::new(&scheme);
    let tcp = |x: &Backend| Address::tcp(x.addr().parse().unwrap());
    manual.update(Resolution::new(vec![tcp(&a)]));
    register(manual.clone());
    let ch = face.channel(&format!("{scheme}:///backends"));
    for i in 0..10 {
        assert_eq!(who(&face, &ch, i).unwrap(), "a");
    }
    manual.update(Resolution::new(vec![tcp(&b)]));
    until_all(&face, &ch, &["b"]);
    for i in 0..10 {
        assert_eq!(who(&face, &ch, i).unwrap(), "b", "{}: once moved, calls stay on b", F::NAME);
    }
}

fn retries_go_across_backends_with_the_previous_attempts_header<F: Face>() {
    let face = F::new();
    let (a, b, c) = (Backend::start("a", 0), Backend::start("b", 0), Backend::start("c", 0));
    let retry = r#"{"methodConfig": [{"name": [{"service": "fleet.Svc"}], "retryPolicy": {"maxAttempts": 4, "initialBackoff": "0.01s", "maxBackoff": "0.05s", "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}}]}"#;
    let ch = face.channel_with(&target(&[&a, &b, &c]), round_robin().service_config(retry.to_owned()));
    until_all(&face, &ch, &["a", "b", "c"]);
    let call = face.unary_at::<Msg>(&ch, FLAKY, Request::new(msg("fail 2 UNAVAILABLE")).timeout(Duration::from_secs(10)));
    assert!(call.error.is_none(), "{}: {:?}", F::NAME, call.error);
    assert!(call.responses[0].text.ends_with("prev=2"), "{}", call.responses[0].text);
    let per: Vec<i32> = [&a, &b, &c].iter().map(|x| attempts_seen(&face, x)).collect();
    assert_eq!(per.iter().sum::<i32>(), 3, "{per:?}");
    assert!(per.iter().filter(|n| **n > 0).count() >= 2, "the retries went elsewhere: {per:?}");
    let call = face.unary_at::<Msg>(&ch, FLAKY, Request::new(msg("fail 1 INTERNAL")).timeout(Duration::from_secs(10)));
    assert_eq!(call.code, StatusCode::Internal, "not retryable");
    let total: i32 = [&a, &b, &c].iter().map(|x| attempts_seen(&face, x)).sum();
    assert_eq!(total, 4);
}

fn a_not_serving_backend_gets_no_calls<F: Face>() {
    let face = F::new();
    let (a, b) = (Backend::start("a", 0), Backend::start("b", 0));
    let checked = round_robin().service_config(r#"{"healthCheckConfig": {"serviceName": "fleet.Svc"}}"#.to_owned());
    let ch = face.channel_with(&target(&[&a, &b]), checked);
    until_all(&face, &ch, &["a", "b"]);
    let direct = face.channel(&b.addr());
    let set = face.unary_at::<Msg>(&direct, SET_HEALTH, msg("NOT_SERVING"));
    assert!(set.error.is_none(), "{:?}", set.error);
    // Once the Watch answer has arrived (bounded), every call goes to "a".
    let mut run = 0;
    for i in 0..400 {
        if who(&face, &ch, i).unwrap() == "a" {
            run += 1;
        } else {
            run = 0;
        }
        if run == 30 {
            break;
        }
    }
    assert_eq!(run, 30, "{}: b kept getting calls", F::NAME);
    let set = face.unary_at::<Msg>(&direct, SET_HEALTH, msg("SERVING"));
    assert!(set.error.is_none(), "{:?}", set.error);
    until_all(&face, &ch, &["b"]);
}

both_faces!(
    round_robin_spreads_calls_evenly_and_a_killed_backend_leaves_the_rotation,
    a_registered_manual_resolver_moves_traffic,
    retries_go_across_backends_with_the_previous_attempts_header,
    a_not_serving_backend_gets_no_calls,
);
