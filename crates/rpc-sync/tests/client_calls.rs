//! Blocking calls of the four kinds against a plain tonic server: call / with_call / future,
//! metadata, status codes, deadlines, generated-stub entry points, calls from inside an
//! async runtime, and many concurrent client threads.

mod peer;

use peer::*;
use rpc_core::codegen::{Channel as StubChannel, MethodDescriptor, MethodKind};
use rpc_sync::{Request, RpcError, StatusCode, WaitError, WriteRequests};
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
fn unary_call_with_call_and_future() {
    let peer = Peer::start();
    let ch = peer.channel();
    let mc = ch.unary_unary::<Msg, Msg>(UNARY);
    assert_eq!(mc.method(), UNARY);
    assert_eq!(mc.call(msg("a")).unwrap().text, "echo:a");

    let (reply, call) = mc.with_call(Request::new(msg("b")).metadata(md(&[("x-user", "ada")]))).unwrap();
    assert_eq!(reply.text, "echo:b");
    assert_eq!(call.initial_metadata().get_str("x-echo"), Some("ada"));
    assert_eq!(call.code(), StatusCode::Ok);
    assert_eq!(call.details(), "");
    assert_eq!(peer.seen().header("x-user").as_deref(), Some("ada"));

    let mut future = mc.future(Request::new(msg("c")).metadata(md(&[("x-user", "bo")])));
    assert_eq!(future.initial_metadata().unwrap().get_str("x-echo"), Some("bo"));
    assert_eq!(future.result(Some(GUARD)).unwrap().text, "echo:c");
    assert!(future.done() && !future.running() && !future.cancelled());
    assert_eq!(future.code().unwrap(), StatusCode::Ok);
    assert!(future.exception(None).unwrap().is_none());
    // A finished call answers the same every time (gRPC Python's result()).
    assert_eq!(future.result(None).unwrap().text, "echo:c");
    assert_eq!(future.result(Some(Duration::ZERO)).unwrap().text, "echo:c");
}

#[test]
fn unary_errors_carry_code_details_and_trailers() {
    let peer = Peer::start();
    let mc = peer.channel().unary_unary::<Msg, Msg>(UNARY);
    let err = mc.call(Request::new(msg("x")).metadata(md(&[("x-fail", "5")]))).unwrap_err();
    assert_eq!(err.code(), StatusCode::NotFound);
    assert_eq!(err.details(), "failed on request");
    assert_eq!(err.trailing_metadata().get_str("x-why"), Some("because"));

    let mut future = mc.future(Request::new(msg("x")).metadata(md(&[("x-fail", "7")])));
    let exception = future.exception(Some(GUARD)).unwrap().expect("the call failed");
    assert_eq!(exception.code(), StatusCode::PermissionDenied);
    // result() keeps returning the error.
    assert_eq!(rpc(future.result(None).unwrap_err()).code(), StatusCode::PermissionDenied);
    assert_eq!(future.code().unwrap(), StatusCode::PermissionDenied);
    assert_eq!(future.details().unwrap(), "failed on request");
    assert_eq!(future.trailing_metadata().unwrap().get_str("x-why"), Some("because"));

    let missing = peer.channel().unary_unary::<Msg, Msg>("/test.Svc/Nope").call(msg("x")).unwrap_err();
    assert_eq!(missing.code(), StatusCode::Unimplemented);
}

#[test]
fn a_timeout_becomes_deadline_exceeded_and_result_timeout_leaves_the_call_running() {
    let peer = Peer::start();
    let mc = peer.channel().unary_unary::<Msg, Msg>(UNARY);
    let err = mc
        .call(
            Request::new(msg("slow"))
                .metadata(md(&[("x-sleep-ms", "10000")]))
                .timeout(Duration::from_millis(50)),
        )
        .unwrap_err();
    assert_eq!(err.code(), StatusCode::DeadlineExceeded, "{err}");

    let mut future = mc.future(Request::new(msg("later")).metadata(md(&[("x-sleep-ms", "300")])));
    // A wait that times out is not the RPC's deadline: it is its own error, and the call goes on.
    let waited = future.result(Some(Duration::ZERO)).unwrap_err();
    assert!(matches!(waited, WaitError::Timeout(_)), "{waited}");
    assert!(waited.to_string().contains("the call goes on"), "{waited}");
    assert_eq!(future.result(Some(GUARD)).unwrap().text, "echo:later");
}

#[test]
fn unary_stream_iterates_and_reports_the_call() {
    let peer = Peer::start();
    let mc = peer.channel().unary_stream::<Msg, Msg>(SERVER_STREAM);
    let mut call = mc.call(Request::new(n(3)).metadata(md(&[("x-user", "cy")])));
    assert_eq!(call.initial_metadata().unwrap().get_str("x-echo"), Some("cy"));
    let texts: Vec<String> = call.by_ref().map(|r| r.unwrap().text).collect();
    assert_eq!(texts, ["0", "1", "2"]);
    assert!(call.next().is_none(), "fused");
    assert_eq!(call.code().unwrap(), StatusCode::Ok);
    assert!(call.done());

    let mut failing = mc.call(Request::new(n(2)).metadata(md(&[("x-fail-after", "1")])));
    let items: Vec<_> = failing.by_ref().collect();
    assert_eq!(items.len(), 3);
    assert_eq!(items[2].as_ref().unwrap_err().code(), StatusCode::Aborted);
    assert_eq!(failing.code().unwrap(), StatusCode::Aborted);
    assert_eq!(failing.details().unwrap(), "stream aborted");
}

#[test]
fn stream_unary_call_with_call_and_future() {
    let peer = Peer::start();
    let mc = peer.channel().stream_unary::<Msg, Msg>(CLIENT_STREAM);
    assert_eq!(mc.call(vec![msg("a"), msg("b"), msg("c")]).unwrap().text, "a,b,c");
    let (reply, call) = mc.with_call(Request::new((0..4).map(|i| msg(&i.to_string())))).unwrap();
    assert_eq!(reply.n, 4);
    assert_eq!(call.code(), StatusCode::Ok);
    let mut future = mc.future(vec![msg("z")]);
    assert_eq!(future.result(Some(GUARD)).unwrap().text, "z");
    let err = mc.call(Request::new(vec![msg("a")]).metadata(md(&[("x-fail", "9")]))).unwrap_err();
    assert_eq!(err.code(), StatusCode::FailedPrecondition);
}

#[test]
fn request_iterators_are_pumped_from_the_runtime_and_may_block() {
    let peer = Peer::start();
    let ch = peer.channel();
    // Each request comes from a blocking call of its own, made on the thread that pumps them.
    let unary = ch.unary_unary::<Msg, Msg>(UNARY);
    let requests = (0..3).map(move |i| unary.call(msg(&i.to_string())).unwrap_or_else(|e| msg(&e.to_string())));
    let reply = ch.stream_unary::<Msg, Msg>(CLIENT_STREAM).call(requests).unwrap();
    assert_eq!(reply.text, "echo:0,echo:1,echo:2");
}

#[test]
fn stream_stream_echoes() {
    let peer = Peer::start();
    let mc = peer.channel().stream_stream::<Msg, Msg>(BIDI);
    let mut call = mc.call(vec![msg("a"), msg("b")]);
    let texts: Vec<String> = call.by_ref().map(|r| r.unwrap().text).collect();
    assert_eq!(texts, ["echo:a", "echo:b"]);
    assert_eq!(call.code().unwrap(), StatusCode::Ok);
    assert_eq!(call.trailing_metadata().unwrap().len(), 0);
}

#[test]
fn write_requests_are_written_through_the_call_and_refused_where_nobody_can_write() {
    let peer = Peer::start();
    let ch = peer.channel();
    // A blocking call has nobody to write: refused before anything is sent.
    let err = ch.stream_unary::<Msg, Msg>(CLIENT_STREAM).call(WriteRequests).unwrap_err();
    assert_eq!(err.code(), StatusCode::FailedPrecondition, "{err}");
    assert_eq!(peer.seen().calls(), 0);
    // A call object can: the blocking writer.
    let mut future = ch.stream_unary::<Msg, Msg>(CLIENT_STREAM).future(WriteRequests);
    future.write(msg("a")).unwrap();
    future.write(msg("b")).unwrap();
    future.done_writing().unwrap();
    assert_eq!(future.result(Some(GUARD)).unwrap().text, "a,b");
    assert_eq!(future.write(msg("late")).unwrap_err().code(), StatusCode::FailedPrecondition);
    let mut bidi = ch.stream_stream::<Msg, Msg>(BIDI).call(WriteRequests);
    bidi.write(msg("x")).unwrap();
    assert_eq!(bidi.next().unwrap().unwrap().text, "echo:x");
    bidi.done_writing().unwrap();
    assert!(bidi.next().is_none());
    assert_eq!(bidi.code().unwrap(), StatusCode::Ok);
}

#[test]
fn a_split_bidi_call_writes_on_one_thread_while_another_reads() {
    let peer = Peer::start();
    let ch = peer.channel();
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
    let peer = Peer::start();
    let ch = peer.channel();
    let unary = StubChannel::unary_unary::<Msg, Msg>(&ch, &UNARY_METHOD);
    let reply = UnaryUnaryCallable::call(&unary, Request::new(msg("s"))).unwrap();
    assert_eq!(reply.text, "echo:s");
    let (reply, call) = UnaryUnaryCallable::with_call(&unary, Request::new(msg("w")).metadata(md(&[("x-user", "dee")]))).unwrap();
    assert_eq!(
        (reply.text.as_str(), call.initial_metadata().clone().get_str("x-echo")),
        ("echo:w", Some("dee"))
    );
    let mut future = UnaryUnaryCallable::future(&unary, Request::new(msg("f")));
    assert_eq!(future.result(Some(GUARD)).unwrap().text, "echo:f");
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
    assert_eq!(f.result(Some(GUARD)).unwrap().text, "t");
    let bidi = StubChannel::stream_stream::<Msg, Msg>(&ch, &BIDI_METHOD);
    let echoed: Vec<Msg> = StreamStreamCallable::call(&bidi, vec![msg("u")].into_streaming_request())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(echoed[0].text, "echo:u");
}

#[test]
fn blocking_inside_an_async_runtime_fails_fast_and_sends_nothing() {
    let peer = Peer::start();
    let ch = peer.channel();
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
    assert!(peer.seen().calls() <= 2, "only the background calls may have been sent");
}

#[test]
fn close_cancels_active_calls_and_refuses_new_ones() {
    let peer = Peer::start();
    let ch = peer.channel();
    let mc = ch.unary_unary::<Msg, Msg>(UNARY);
    let mut slow = mc.future(Request::new(msg("slow")).metadata(md(&[("x-sleep-ms", "20000")])));
    eventually("the server got the call", || peer.seen().calls() == 1);
    ch.close(None);
    assert_eq!(rpc(slow.result(Some(GUARD)).unwrap_err()).code(), StatusCode::Cancelled);
    assert_eq!(mc.call(msg("late")).unwrap_err().code(), StatusCode::Cancelled);
    assert_eq!(ch.get_state(false), rpc_sync::ChannelConnectivity::Shutdown);
}

#[test]
fn two_hundred_concurrent_client_threads() {
    let peer = Peer::start();
    let ch = peer.channel();
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let threads: Vec<_> = (0..200)
        .map(|i| {
            let (ch, done) = (ch.clone(), done.clone());
            std::thread::spawn(move || {
                let stub = ch.unary_unary::<Msg, Msg>(UNARY);
                for j in 0..5 {
                    let text = format!("{i}-{j}");
                    let reply = stub.call(Request::new(msg(&text)).timeout(GUARD)).unwrap();
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
    assert_eq!(peer.seen().calls(), 1000);
}
