//! Cancellation from the blocking face, beyond what both faces share (that is in
//! `crates/testkit/tests/call_cancel.rs`): dropping a stream-stream iterator stops pulling
//! its request iterator, and done callbacks (which may block) see how the call ended,
//! even when added after the end.

use rpc_sync::{Request, StatusCode};
use rpc_testkit::{BIDI, LIMIT, Msg, TonicPeer, UNARY, eventually, md, msg, sync_channel};

#[test]
fn dropping_a_stream_stream_iterator_cancels_the_call_and_stops_the_requests() {
    let peer = TonicPeer::start();
    let pulled = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = pulled.clone();
    let requests = std::iter::repeat_with(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        msg("r")
    });
    let ch = sync_channel(&peer.target());
    let mut call = ch.stream_stream::<Msg, Msg>(BIDI).call(requests);
    assert_eq!(call.next().unwrap().unwrap().text, "echo:r");
    drop(call);
    eventually("the server saw the cancellation", || peer.probe().cancelled() == 1).wait();
    // The pump stops: the count settles (bounded: checked over a few pauses).
    let settled = (0..100).any(|_| {
        let before = pulled.load(std::sync::atomic::Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(20));
        before == pulled.load(std::sync::atomic::Ordering::SeqCst)
    });
    assert!(settled, "the request iterator is still being pulled");
}

#[test]
fn a_done_callback_sees_a_cancelled_call() {
    let peer = TonicPeer::start();
    let mc = sync_channel(&peer.target()).unary_unary::<Msg, Msg>(UNARY);
    let future = mc.future(Request::new(msg("slow")).metadata(md(&[("x-sleep-ms", "20000")])));
    let (tx, rx) = std::sync::mpsc::channel();
    future.add_done_callback(move |details| {
        let _ = tx.send(details.code());
    });
    eventually("the server got the call", || peer.probe().calls() == 1).wait();
    assert!(future.cancel());
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), StatusCode::Cancelled);
}

#[test]
fn a_done_callback_added_after_the_end_still_runs_and_may_block() {
    let peer = TonicPeer::start();
    let ch = sync_channel(&peer.target());
    let mut future = ch.unary_unary::<Msg, Msg>(UNARY).future(msg("x"));
    assert!(future.result(Some(LIMIT)).is_ok());
    let (tx, rx) = std::sync::mpsc::channel();
    let mc = ch.unary_unary::<Msg, Msg>(UNARY);
    future.add_done_callback(move |details| {
        // Blocking calls are allowed in callbacks.
        let again = mc.call(msg("from callback")).map(|m| m.text);
        let _ = tx.send((details.code(), again));
    });
    let (code, again) = rx.recv_timeout(LIMIT).unwrap();
    assert_eq!(code, StatusCode::Ok);
    assert_eq!(again.unwrap(), "echo:from callback");
}
