//! What only the blocking face's calls have (the both-faces behaviour of calls is in
//! `crates/testkit/tests/call_*.rs`): gRPC Python's `Future` (`result()` and `exception()`
//! answer the same every time; a timed-out wait is `WaitError::Timeout` and the call goes
//! on), fused response iterators, blocking request iterators, `WriteRequests` refused where
//! nobody can write, a split call written and read from two threads, the stub entry points,
//! calls from inside an async runtime, `close`, and many client threads. Against the tonic
//! peer.

use rpc_core::codegen::{Channel as StubChannel, MethodDescriptor, MethodKind};
use rpc_sync::{Request, RpcError, StatusCode, WaitError, WriteRequests};
use rpc_testkit::{BIDI, CLIENT_STREAM, LIMIT, Msg, SERVER_STREAM, TonicPeer, UNARY, bounded, eventually, md, msg, sync_channel};
use std::sync::Arc;
use std::time::Duration;

/// The call's error in a failed wait.
fn rpc(e: WaitError) -> RpcError {
    e.rpc_error()
        .cloned()
        .unwrap_or_else(|| panic!("expected the call's error, got {e}"))
}

fn n(n: i32) -> Msg {
    Msg { n, ..msg("") }
}

#[test]
fn a_future_answers_the_same_every_time() {
    let peer = TonicPeer::start();
    let mc = sync_channel(&peer.target()).unary_unary::<Msg, Msg>(UNARY);
    assert_eq!(mc.method(), UNARY);
    let mut future = mc.future(Request::new(msg("c")).metadata(md(&[("x-user", "bo")])));
    assert_eq!(future.initial_metadata().unwrap().get_str("x-echo"), Some("bo"));
    assert_eq!(future.result(Some(LIMIT)).unwrap().text, "echo:c");
    assert!(future.done() && !future.running() && !future.cancelled());
    assert_eq!(future.code().unwrap(), StatusCode::Ok);
    assert!(future.exception(None).unwrap().is_none());
    // A finished call answers the same every time (gRPC Python's result()).
    assert_eq!(future.result(None).unwrap().text, "echo:c");
    assert_eq!(future.result(Some(Duration::ZERO)).unwrap().text, "echo:c");

    let mut failed = mc.future(Request::new(msg("x")).metadata(md(&[("x-fail", "7")])));
    let exception = failed.exception(Some(LIMIT)).unwrap().expect("the call failed");
    assert_eq!(exception.code(), StatusCode::PermissionDenied);
    // result() keeps returning the error.
    assert_eq!(rpc(failed.result(None).unwrap_err()).code(), StatusCode::PermissionDenied);
    assert_eq!(
        rpc(failed.result(Some(Duration::ZERO)).unwrap_err()).code(),
        StatusCode::PermissionDenied
    );
    assert_eq!(failed.code().unwrap(), StatusCode::PermissionDenied);
    assert_eq!(failed.details().unwrap(), "failed on request");
    assert_eq!(failed.trailing_metadata().unwrap().get_str("x-why"), Some("because"));
}

#[test]
fn a_result_timeout_is_not_the_deadline_and_leaves_the_call_running() {
    let peer = TonicPeer::start();
    let mc = sync_channel(&peer.target()).unary_unary::<Msg, Msg>(UNARY);
    let mut future = mc.future(Request::new(msg("later")).metadata(md(&[("x-sleep-ms", "300")])));
    // A wait that times out is not the RPC's deadline: it is its own error, and the call goes on.
    let waited = future.result(Some(Duration::ZERO)).unwrap_err();
    assert!(matches!(waited, WaitError::Timeout(_)), "{waited}");
    assert!(waited.to_string().contains("the call goes on"), "{waited}");
    assert_eq!(future.result(Some(LIMIT)).unwrap().text, "echo:later");
}

#[test]
fn a_response_iterator_is_fused_and_reports_the_call() {
    let peer = TonicPeer::start();
    let mc = sync_channel(&peer.target()).unary_stream::<Msg, Msg>(SERVER_STREAM);
    let mut call = mc.call(Request::new(n(3)).metadata(md(&[("x-user", "cy")])));
    assert_eq!(call.initial_metadata().unwrap().get_str("x-echo"), Some("cy"));
    let texts: Vec<String> = call.by_ref().map(|r| r.unwrap().text).collect();
    assert_eq!(texts, ["0", "1", "2"]);
    assert!(call.next().is_none(), "fused");
    assert_eq!(call.code().unwrap(), StatusCode::Ok);
    assert!(call.done());

    let mut failing = mc.call(Request::new(n(2)).metadata(md(&[("x-fail-after", "1")])));
    let items: Vec<_> = failing.by_ref().collect();
    assert_eq!(items.len(), 3, "two responses, then the error once");
    assert!(failing.next().is_none(), "fused after the error");
    assert_eq!(failing.details().unwrap(), "stream aborted");
}

#[test]
fn request_iterators_are_pumped_from_the_runtime_and_may_block() {
    let peer = TonicPeer::start();
    let ch = sync_channel(&peer.target());
    // Each request comes from a blocking call of its own, made on the thread that pumps them.
    let unary = ch.unary_unary::<Msg, Msg>(UNARY);
    let requests = (0..3).map(move |i| unary.call(msg(&i.to_string())).unwrap_or_else(|e| msg(&e.to_string())));
    let reply = ch.stream_unary::<Msg, Msg>(CLIENT_STREAM).call(requests).unwrap();
    assert_eq!(reply.text, "echo:0,echo:1,echo:2");
}

#[test]
fn write_requests_are_refused_where_nobody_can_write() {
    let peer = TonicPeer::start();
    let mc = sync_channel(&peer.target()).stream_unary::<Msg, Msg>(CLIENT_STREAM);
    // A blocking call has nobody to write: refused before anything is sent. (A call
    // object can: `future(WriteRequests)`, in the kit's call_kinds.rs.)
    let err = mc.call(WriteRequests).unwrap_err();
    assert_eq!(err.code(), StatusCode::FailedPrecondition, "{err}");
    let err = mc.with_call(WriteRequests).unwrap_err();
    assert_eq!(err.code(), StatusCode::FailedPrecondition, "{err}");
    assert_eq!(peer.probe().calls(), 0);
}

#[test]
fn a_split_bidi_call_writes_on_one_thread_while_another_reads() {
    let peer = TonicPeer::start();
    let ch = sync_channel(&peer.target());
    let (mut sender, responses) = ch.stream_stream::<Msg, Msg>(BIDI).call(WriteRequests).split();
    let reader = std::thread::spawn(move || responses.map(|r| r.unwrap().text).collect::<Vec<_>>());
    for i in 0..20 {
        sender.write(msg(&i.to_string())).unwrap();
    }
    sender.done_writing().unwrap();
    let got = reader.join().unwrap();
    let want: Vec<String> = (0..20).map(|i| format!("echo:{i}")).collect();
    assert_eq!(got, want);
}

static UNARY_METHOD: MethodDescriptor = MethodDescriptor {
    service: "test.Svc",
    name: "Unary",
    path: UNARY,
    kind: MethodKind::UnaryUnary,
};
static SERVER_STREAM_METHOD: MethodDescriptor = MethodDescriptor {
    service: "test.Svc",
    name: "ServerStream",
    path: SERVER_STREAM,
    kind: MethodKind::UnaryStream,
};
static CLIENT_STREAM_METHOD: MethodDescriptor = MethodDescriptor {
    service: "test.Svc",
    name: "ClientStream",
    path: CLIENT_STREAM,
    kind: MethodKind::StreamUnary,
};
static BIDI_METHOD: MethodDescriptor = MethodDescriptor {
    service: "test.Svc",
    name: "Bidi",
    path: BIDI,
    kind: MethodKind::StreamStream,
};

/// What a generated stub does: make the method's multi-callable through
/// `rpc_core::codegen::Channel` and call it through the callable traits.
#[test]
fn stub_entry_points() {
    use rpc_core::IntoStreamingRequest;
    use rpc_core::codegen::{StreamStreamCallable, StreamUnaryCallable, UnaryStreamCallable, UnaryUnaryCallable};
    let peer = TonicPeer::start();
    let ch = sync_channel(&peer.target());
    let unary = StubChannel::unary_unary::<Msg, Msg>(&ch, &UNARY_METHOD);
    let reply = UnaryUnaryCallable::call(&unary, Request::new(msg("s"))).unwrap();
    assert_eq!(reply.text, "echo:s");
    let (reply, call) = UnaryUnaryCallable::with_call(&unary, Request::new(msg("w")).metadata(md(&[("x-user", "dee")]))).unwrap();
    assert_eq!(
        (reply.text.as_str(), call.initial_metadata().clone().get_str("x-echo")),
        ("echo:w", Some("dee"))
    );
    let mut future = UnaryUnaryCallable::future(&unary, Request::new(msg("f")));
    assert_eq!(future.result(Some(LIMIT)).unwrap().text, "echo:f");
    let server_stream = StubChannel::unary_stream::<Msg, Msg>(&ch, &SERVER_STREAM_METHOD);
    let streamed: Vec<Msg> = UnaryStreamCallable::call(&server_stream, Request::new(n(2)))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(streamed.len(), 2);
    let client_stream = StubChannel::stream_unary::<Msg, Msg>(&ch, &CLIENT_STREAM_METHOD);
    let sum = StreamUnaryCallable::call(&client_stream, vec![msg("p"), msg("q")].into_streaming_request()).unwrap();
    assert_eq!(sum.text, "p,q");
    let (sum, _) = StreamUnaryCallable::with_call(&client_stream, vec![msg("r")].into_streaming_request()).unwrap();
    assert_eq!(sum.text, "r");
    let mut f = StreamUnaryCallable::future(&client_stream, vec![msg("t")].into_streaming_request());
    assert_eq!(f.result(Some(LIMIT)).unwrap().text, "t");
    let bidi = StubChannel::stream_stream::<Msg, Msg>(&ch, &BIDI_METHOD);
    let echoed: Vec<Msg> = StreamStreamCallable::call(&bidi, vec![msg("u")].into_streaming_request())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(echoed[0].text, "echo:u");
}

#[test]
fn blocking_inside_an_async_runtime_fails_fast_and_sends_nothing() {
    let peer = TonicPeer::start();
    let ch = sync_channel(&peer.target());
    let outcome = bounded(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let unary = ch.unary_unary::<Msg, Msg>(UNARY);
            let call = unary.call(msg("x")).unwrap_err();
            let with_call = unary.with_call(msg("x")).unwrap_err();
            let mut future = unary.future(Request::new(msg("y")));
            let result = rpc(future.result(None).unwrap_err());
            let stream = ch.unary_stream::<Msg, Msg>(SERVER_STREAM).call(n(1)).next().unwrap().unwrap_err();
            let client_stream = ch.stream_unary::<Msg, Msg>(CLIENT_STREAM).call(vec![msg("a")]).unwrap_err();
            ch.close(None); // does not block here, and does not fail
            [call, with_call, result, stream, client_stream].map(|e: RpcError| e.code())
        })
    });
    assert_eq!(outcome, [StatusCode::FailedPrecondition; 5]);
    // The blocking kinds were refused before anything was sent.
    assert!(peer.probe().calls() <= 2, "only the background calls may have been sent");
}

#[test]
fn close_cancels_active_calls_and_refuses_new_ones() {
    let peer = TonicPeer::start();
    let ch = sync_channel(&peer.target());
    let mc = ch.unary_unary::<Msg, Msg>(UNARY);
    let mut slow = mc.future(Request::new(msg("slow")).metadata(md(&[("x-sleep-ms", "20000")])));
    eventually("the server got the call", || peer.probe().calls() == 1).wait();
    ch.close(None);
    assert_eq!(rpc(slow.result(Some(LIMIT)).unwrap_err()).code(), StatusCode::Cancelled);
    assert_eq!(mc.call(msg("late")).unwrap_err().code(), StatusCode::Cancelled);
    assert_eq!(ch.get_state(false), rpc_sync::ChannelConnectivity::Shutdown);
}

#[test]
fn two_hundred_concurrent_client_threads() {
    let peer = TonicPeer::start();
    let ch = sync_channel(&peer.target());
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let threads: Vec<_> = (0..200)
        .map(|i| {
            let (ch, done) = (ch.clone(), done.clone());
            std::thread::spawn(move || {
                let stub = ch.unary_unary::<Msg, Msg>(UNARY);
                for j in 0..5 {
                    let text = format!("{i}-{j}");
                    let reply = stub.call(Request::new(msg(&text)).timeout(LIMIT)).unwrap();
                    assert_eq!(reply.text, format!("echo:{text}"));
                }
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(done.load(std::sync::atomic::Ordering::SeqCst), 200);
    assert_eq!(peer.probe().calls(), 1000);
}
