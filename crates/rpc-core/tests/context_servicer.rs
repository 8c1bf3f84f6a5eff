//! `ServicerContext` / `ContextControl`: initial metadata once, abort, activity, cancellation and termination callbacks.

use rpc_core::{ContextControl, Metadata, RpcInfo, ServicerContext, StatusCode};
use rpc_testkit::{LIMIT, bounded};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn context() -> (ServicerContext, ContextControl) {
    ServicerContext::new(
        RpcInfo {
            method: "/pkg.Svc/M".into(),
            ..RpcInfo::default()
        },
        None,
    )
}

#[test]
fn send_initial_metadata_twice_is_an_error_and_sends_once() {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let sink = sent.clone();
    let (ctx, _control) = ServicerContext::new(RpcInfo::default(), Some(Box::new(move |md| sink.lock().unwrap().push(md))));
    assert!(!ctx.initial_metadata_sent());
    let md = Metadata::new().with("x-early", "1").unwrap();
    ctx.send_initial_metadata(md.clone()).unwrap();
    assert!(ctx.initial_metadata_sent());
    let err = ctx.send_initial_metadata(Metadata::new()).unwrap_err();
    assert_eq!(err.code(), StatusCode::Internal);
    assert!(err.details().contains("already sent"), "{err}");
    assert_eq!(*sent.lock().unwrap(), vec![md]);
}

#[test]
fn send_initial_metadata_after_the_engine_sent_headers_is_an_error() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let (ctx, control) = ServicerContext::new(
        RpcInfo::default(),
        Some(Box::new(move |_| {
            c.fetch_add(1, Ordering::SeqCst);
        })),
    );
    control.mark_initial_metadata_sent();
    assert!(ctx.send_initial_metadata(Metadata::new()).is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[test]
fn abort_sets_code_details_and_carries_trailing_metadata() {
    let (ctx, control) = context();
    ctx.add_trailing_metadata("x-before", "1").unwrap();
    let err = ctx.abort(StatusCode::PermissionDenied, "not yours");
    assert_eq!(err.code(), StatusCode::PermissionDenied);
    assert_eq!(err.details(), "not yours");
    assert_eq!(err.trailing_metadata().get_str("x-before"), Some("1"));
    assert_eq!(ctx.code(), Some(StatusCode::PermissionDenied));
    assert_eq!(ctx.details().as_deref(), Some("not yours"));
    let outcome = control.outcome();
    assert_eq!(outcome.code, Some(StatusCode::PermissionDenied));
    assert_eq!(outcome.details.as_deref(), Some("not yours"));
    assert_eq!(outcome.trailing_metadata.get_str("x-before"), Some("1"));
}

#[test]
fn abort_with_status_merges_trailing_metadata() {
    let (ctx, _control) = context();
    ctx.set_trailing_metadata(Metadata::new().with("x-set", "a").unwrap());
    let status = rpc_core::RpcError::not_found("gone").with_trailing_metadata(Metadata::new().with("x-status", "b").unwrap());
    let err = ctx.abort_with_status(status);
    let keys: Vec<_> = err.trailing_metadata().iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["x-set", "x-status"]);
    assert_eq!(ctx.code(), Some(StatusCode::NotFound));
}

#[test]
fn abort_with_ok_becomes_unknown() {
    let (ctx, _control) = context();
    assert_eq!(ctx.abort(StatusCode::Ok, "fine?").code(), StatusCode::Unknown);
    assert_eq!(ctx.code(), Some(StatusCode::Unknown));
    let (ctx, _control) = context();
    assert_eq!(
        ctx.abort_with_status(rpc_core::RpcError::new(StatusCode::Ok, "x")).code(),
        StatusCode::Unknown
    );
    assert_eq!(ctx.code(), Some(StatusCode::Unknown));
}

#[test]
fn set_code_details_compression() {
    let (ctx, control) = context();
    assert_eq!(ctx.method(), "/pkg.Svc/M");
    ctx.set_code(StatusCode::Aborted);
    ctx.set_details("retry");
    ctx.set_compression(rpc_core::Compression::Gzip);
    ctx.disable_next_message_compression();
    assert_eq!(control.compression(), Some(rpc_core::Compression::Gzip));
    assert!(control.take_disable_next_compression());
    assert!(!control.take_disable_next_compression());
    assert_eq!(control.outcome().code, Some(StatusCode::Aborted));
}

#[test]
fn is_active_false_after_cancel() {
    let (ctx, control) = context();
    assert!(ctx.is_active());
    assert!(!ctx.cancelled());
    assert_eq!(ctx.time_remaining(), None);
    control.cancel();
    control.cancel();
    assert!(!ctx.is_active());
    assert!(ctx.cancelled());
    assert!(control.is_cancelled());
}

#[test]
fn is_active_false_once_the_deadline_passed() {
    let past = Instant::now().checked_sub(Duration::from_millis(1)).unwrap_or_else(Instant::now);
    let (ctx, _control) = ServicerContext::new(
        RpcInfo {
            deadline: Some(past),
            ..RpcInfo::default()
        },
        None,
    );
    assert!(!ctx.is_active());
    assert_eq!(ctx.time_remaining(), Some(Duration::ZERO));
    let future = Instant::now() + Duration::from_secs(3600);
    let (ctx, _control) = ServicerContext::new(
        RpcInfo {
            deadline: Some(future),
            ..RpcInfo::default()
        },
        None,
    );
    assert!(ctx.is_active());
    assert!(ctx.time_remaining().unwrap() > Duration::ZERO);
}

#[test]
fn on_cancel_completes_after_cancel_from_another_thread() {
    let (ctx, control) = context();
    let waiter = std::thread::spawn(move || futures::executor::block_on(ctx.on_cancel()));
    control.cancel();
    bounded(move || waiter.join().unwrap());
}

#[test]
fn on_cancel_is_ready_when_already_cancelled_or_terminated() {
    let (ctx, control) = context();
    control.terminate();
    bounded(move || futures::executor::block_on(ctx.on_cancel()));
}

#[test]
fn wait_cancelled_times_out_false_and_returns_true_on_cancel() {
    let (ctx, control) = context();
    assert!(!ctx.wait_cancelled(Duration::from_millis(1)));
    let waiter = {
        let ctx = ctx.clone();
        std::thread::spawn(move || ctx.wait_cancelled(LIMIT))
    };
    control.cancel();
    assert!(bounded(move || waiter.join().unwrap()));
    assert!(ctx.wait_cancelled(Duration::ZERO));
}

#[test]
fn callbacks_run_once_in_order_and_survive_a_panic() {
    let (ctx, control) = context();
    let log = Arc::new(Mutex::new(Vec::new()));
    for i in 0..3 {
        let log = log.clone();
        assert!(ctx.add_callback(move || log.lock().unwrap().push(i)));
    }
    assert!(ctx.add_done_callback(|| panic!("callback panics on purpose")));
    let tail = log.clone();
    assert!(ctx.add_callback(move || tail.lock().unwrap().push(99)));

    control.terminate();
    control.terminate();
    assert_eq!(*log.lock().unwrap(), [0, 1, 2, 99]);
    assert!(!ctx.is_active(), "a terminated RPC is not active");
    assert!(!ctx.add_callback(|| unreachable!("must not be registered after terminate")));
    // The context still works after a callback panicked (no poisoned state).
    ctx.set_details("after");
    assert_eq!(ctx.details().as_deref(), Some("after"));
}

#[test]
fn context_exposes_rpc_info() {
    let mut auth = rpc_core::AuthContext::new();
    auth.add_property("x509_common_name", "client");
    auth.set_peer_identity_key("x509_common_name");
    let info = RpcInfo {
        method: "/a.B/C".into(),
        invocation_metadata: Metadata::new().with("x-user", "ada").unwrap(),
        peer: "ipv4:127.0.0.1:1".into(),
        auth_context: auth,
        deadline: None,
        request_compression: rpc_core::Compression::Gzip,
    };
    let (ctx, control) = ServicerContext::new(info, None);
    assert_eq!(ctx.invocation_metadata().get_str("x-user"), Some("ada"));
    assert_eq!(ctx.peer(), "ipv4:127.0.0.1:1");
    assert_eq!(ctx.peer_identities(), Some(vec![b"client".to_vec()]));
    assert_eq!(ctx.peer_identity_key(), Some("x509_common_name"));
    assert_eq!(control.context().method(), "/a.B/C");
    assert_eq!(ctx.request_compression(), rpc_core::Compression::Gzip);
    assert!(format!("{ctx:?}").contains("/a.B/C"));
}

#[test]
fn context_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<ServicerContext>();
    assert_send_sync::<ContextControl>();
    assert_send_sync::<rpc_core::Cancellation>();
    assert_send_sync::<Metadata>();
    assert_send_sync::<rpc_core::CallCredentials>();
    assert_send_sync::<rpc_core::ChannelCredentials>();
    assert_send_sync::<rpc_core::ServerCredentials>();
}
