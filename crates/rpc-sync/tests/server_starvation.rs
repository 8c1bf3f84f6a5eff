//! A blocking server that slow or silent clients cannot starve: 200 server-streaming calls
//! whose client never reads (HTTP/2 flow control stops each response stream) and 200 bidi
//! calls that never send hold no worker a new RPC needs; every one of their handlers runs,
//! and a normal client is served while they are held. With 8 workers, before the pool
//! pulled response iterators on demand and let waiting workers give up their place, at most
//! 8 of those handlers ran and the normal call waited in the queue.

use rpc_sync::codegen::MethodHandler;
use rpc_sync::{
    ChannelOptions, Request, RequestIterator, ResponseIterator, RpcMethodHandler, Server, ServerOptions, ServicerContext, StatusCode,
    WriteRequests,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone, PartialEq, prost::Message)]
struct Blob {
    #[prost(bytes = "vec", tag = "1")]
    data: Vec<u8>,
}

const HELD: usize = 200;
const GUARD: Duration = Duration::from_secs(30);
/// Responses each held stream would send: far more than any window lets through.
const STREAM_LEN: usize = 10_000;

#[derive(Default)]
struct Counters {
    streams_started: AtomicUsize,
    bidis_started: AtomicUsize,
}

fn server(counters: Arc<Counters>) -> (Server, String) {
    let server = rpc_sync::server(ServerOptions::default().max_workers(8)).unwrap();
    let c = counters.clone();
    server.add_method_handler(
        "/t.S/Stream",
        RpcMethodHandler::new(MethodHandler::BlockingUnaryStream(Arc::new(
            move |_req: Blob, _ctx: &ServicerContext| {
                c.streams_started.fetch_add(1, Ordering::SeqCst);
                Ok(ResponseIterator::new((0..STREAM_LEN).map(|_| Ok(Blob { data: vec![1; 1024] }))))
            },
        ))),
    );
    let c = counters;
    server.add_method_handler(
        "/t.S/Bidi",
        RpcMethodHandler::new(MethodHandler::BlockingStreamStream(Arc::new(
            move |requests: RequestIterator<Blob>, _ctx: &ServicerContext| {
                c.bidis_started.fetch_add(1, Ordering::SeqCst);
                // Waits for a request that never comes (until the client goes).
                let echoed: Vec<_> = requests.collect();
                Ok(ResponseIterator::new(echoed.into_iter()))
            },
        ))),
    );
    server.add_method_handler(
        "/t.S/Empty",
        RpcMethodHandler::new(MethodHandler::BlockingUnaryUnary(Arc::new(|req: Blob, _ctx: &ServicerContext| {
            Ok(req)
        }))),
    );
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().unwrap();
    (server, format!("127.0.0.1:{port}"))
}

/// Waits (bounded) until `count` reaches `n`.
fn wait_for(count: &AtomicUsize, n: usize, what: &str) {
    let until = Instant::now() + GUARD;
    while count.load(Ordering::SeqCst) < n {
        assert!(Instant::now() < until, "{what}: {} of {n}", count.load(Ordering::SeqCst));
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A normal client, on its own connection, is served.
fn served(target: &str) {
    let channel = rpc_sync::insecure_channel(target, ChannelOptions::default()).unwrap();
    let empty = channel.unary_unary::<Blob, Blob>("/t.S/Empty");
    for _ in 0..3 {
        let reply = empty.call(Request::new(Blob { data: b"hi".to_vec() }).timeout(GUARD));
        assert_eq!(reply.map(|b| b.data).unwrap(), b"hi");
    }
}

#[test]
fn streams_stalled_by_flow_control_hold_no_worker() {
    let counters = Arc::new(Counters::default());
    let (server, target) = server(counters.clone());
    let hostile = rpc_sync::insecure_channel(&target, ChannelOptions::default()).unwrap();
    let stream = hostile.unary_stream::<Blob, Blob>("/t.S/Stream");
    // Started (so they run) and never read: their windows fill and they stall.
    let held: Vec<_> = (0..HELD)
        .map(|_| {
            let call = stream.call(Request::new(Blob::default()).timeout(GUARD));
            call.start();
            call
        })
        .collect();
    wait_for(&counters.streams_started, HELD, "handlers of the stalled streams that ran");
    served(&target);
    assert!(held.iter().all(|c| c.running()), "the stalled streams are still open");
    drop(held);
    server.stop(None).wait(Some(GUARD));
}

#[test]
fn bidi_calls_that_never_send_hold_no_worker() {
    let counters = Arc::new(Counters::default());
    let (server, target) = server(counters.clone());
    let hostile = rpc_sync::insecure_channel(&target, ChannelOptions::default()).unwrap();
    let bidi = hostile.stream_stream::<Blob, Blob>("/t.S/Bidi");
    let held: Vec<_> = (0..HELD)
        .map(|_| {
            let call = bidi.call(Request::new(WriteRequests).timeout(GUARD));
            call.start();
            call
        })
        .collect();
    wait_for(&counters.bidis_started, HELD, "handlers of the silent bidi calls that ran");
    served(&target);
    // The silent calls end normally once their clients finish writing.
    let mut held = held;
    for call in &mut held {
        call.done_writing().unwrap();
    }
    for call in held {
        assert_eq!(call.code().unwrap(), StatusCode::Ok);
    }
    server.stop(None).wait(Some(GUARD));
}

#[test]
fn a_handler_waiting_for_a_call_it_made_gives_its_worker_to_the_next_rpc() {
    // The backend holds each call until the test lets it go.
    let (entered_tx, entered) = std::sync::mpsc::channel::<()>();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (entered_tx, released) = (std::sync::Mutex::new(entered_tx), std::sync::Mutex::new(released));
    let backend = rpc_sync::server(ServerOptions::default()).unwrap();
    backend.add_method_handler(
        "/t.S/Hold",
        RpcMethodHandler::new(MethodHandler::BlockingUnaryUnary(Arc::new(
            move |req: Blob, _ctx: &ServicerContext| {
                entered_tx.lock().unwrap().send(()).unwrap();
                let _ = released.lock().unwrap().recv_timeout(GUARD);
                Ok(req)
            },
        ))),
    );
    let backend_port = backend.add_insecure_port("127.0.0.1:0").unwrap();
    backend.start().unwrap();

    // One worker: while the relay waits for the backend, only its parking frees the place.
    let front = rpc_sync::server(ServerOptions::default().max_workers(1).max_queued_rpcs(0)).unwrap();
    let downstream = rpc_sync::insecure_channel(&format!("127.0.0.1:{backend_port}"), ChannelOptions::default()).unwrap();
    front.add_method_handler(
        "/t.S/Relay",
        RpcMethodHandler::new(MethodHandler::BlockingUnaryUnary(Arc::new(
            move |req: Blob, _ctx: &ServicerContext| downstream.unary_unary::<Blob, Blob>("/t.S/Hold").call(req),
        ))),
    );
    front.add_method_handler(
        "/t.S/Empty",
        RpcMethodHandler::new(MethodHandler::BlockingUnaryUnary(Arc::new(|req: Blob, _ctx: &ServicerContext| {
            Ok(req)
        }))),
    );
    let front_port = front.add_insecure_port("127.0.0.1:0").unwrap();
    front.start().unwrap();
    let channel = rpc_sync::insecure_channel(&format!("127.0.0.1:{front_port}"), ChannelOptions::default()).unwrap();

    let mut relay = channel
        .unary_unary::<Blob, Blob>("/t.S/Relay")
        .future(Request::new(Blob { data: b"relayed".to_vec() }).timeout(GUARD));
    entered.recv_timeout(GUARD).expect("the relay called the backend");
    let empty = channel
        .unary_unary::<Blob, Blob>("/t.S/Empty")
        .call(Request::new(Blob { data: b"hi".to_vec() }).timeout(GUARD));
    assert_eq!(empty.unwrap().data, b"hi", "served while the relay waits");
    release.send(()).unwrap();
    assert_eq!(relay.result(Some(GUARD)).unwrap().data, b"relayed");
    front.stop(None).wait(Some(GUARD));
    backend.stop(None).wait(Some(GUARD));
}
