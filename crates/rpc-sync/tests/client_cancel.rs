//! Cancellation from the blocking face: dropping an unfinished iterator or future cancels
//! the call (the server sees it), and `cancel()` ends a call CANCELLED.

mod peer;

use peer::*;
use rpc_sync::{Request, RpcError, StatusCode};

fn endless() -> Msg {
    Msg { n: -1, ..msg("") }
}

#[test]
fn dropping_a_response_iterator_cancels_the_call() {
    let peer = Peer::start();
    let ch = peer.channel();
    let mut call = ch.unary_stream::<Msg, Msg>(SERVER_STREAM).call(endless());
    assert_eq!(call.next().unwrap().unwrap().text, "0");
    assert_eq!(call.next().unwrap().unwrap().text, "1");
    assert_eq!(peer.seen().cancelled(), 0);
    drop(call);
    eventually("the server saw the cancellation", || peer.seen().cancelled() == 1);
}

#[test]
fn dropping_a_stream_stream_iterator_cancels_the_call_and_stops_the_requests() {
    let peer = Peer::start();
    let pulled = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = pulled.clone();
    let requests = std::iter::repeat_with(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        msg("r")
    });
    let ch = peer.channel();
    let mut call = ch.stream_stream::<Msg, Msg>(BIDI).call(requests);
    assert_eq!(call.next().unwrap().unwrap().text, "echo:r");
    drop(call);
    eventually("the server saw the cancellation", || peer.seen().cancelled() == 1);
    // The pump stops: the count settles (bounded: checked over a few pauses).
    let settled = (0..100).any(|_| {
        let before = pulled.load(std::sync::atomic::Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(20));
        before == pulled.load(std::sync::atomic::Ordering::SeqCst)
    });
    assert!(settled, "the request iterator is still being pulled");
}

#[test]
fn dropping_an_unfinished_future_cancels_the_call() {
    let peer = Peer::start();
    let ch = peer.channel();
    let mc = ch.unary_unary::<Msg, Msg>(UNARY);
    let future = mc.future(Request::new(msg("slow")).metadata(md(&[("x-sleep-ms", "20000")])));
    eventually("the server got the call", || peer.seen().calls() == 1);
    drop(future);
    eventually("the server saw the cancellation", || peer.seen().cancelled() == 1);
}

#[test]
fn cancel_ends_a_future_cancelled() {
    let peer = Peer::start();
    let ch = peer.channel();
    let mc = ch.unary_unary::<Msg, Msg>(UNARY);
    let mut future = mc.future(Request::new(msg("slow")).metadata(md(&[("x-sleep-ms", "20000")])));
    let (tx, rx) = std::sync::mpsc::channel();
    future.add_done_callback(move |details| {
        let _ = tx.send(details.code());
    });
    eventually("the server got the call", || peer.seen().calls() == 1);
    assert!(future.running());
    assert!(future.cancel());
    assert!(!future.cancel(), "a second cancel finds the call ended");
    assert!(future.cancelled() && future.done());
    assert_eq!(
        RpcError::from(future.result(Some(GUARD)).unwrap_err()).code(),
        StatusCode::Cancelled
    );
    assert_eq!(rx.recv_timeout(GUARD).unwrap(), StatusCode::Cancelled);
    eventually("the server saw the cancellation", || peer.seen().cancelled() == 1);
}

#[test]
fn cancel_ends_an_iterator() {
    let peer = Peer::start();
    let ch = peer.channel();
    let mut call = ch.unary_stream::<Msg, Msg>(SERVER_STREAM).call(endless());
    assert!(call.next().unwrap().is_ok());
    assert!(call.cancel());
    let rest: Vec<_> = call.by_ref().collect();
    assert!(rest.iter().take(rest.len().saturating_sub(1)).all(Result::is_ok), "{rest:?}");
    assert_eq!(rest.last().unwrap().as_ref().unwrap_err().code(), StatusCode::Cancelled);
    assert_eq!(call.code().unwrap(), StatusCode::Cancelled);
    eventually("the server saw the cancellation", || peer.seen().cancelled() == 1);
}

#[test]
fn a_done_callback_added_after_the_end_still_runs_and_may_block() {
    let peer = Peer::start();
    let ch = peer.channel();
    let mut future = ch.unary_unary::<Msg, Msg>(UNARY).future(msg("x"));
    assert!(future.result(Some(GUARD)).is_ok());
    let (tx, rx) = std::sync::mpsc::channel();
    let mc = ch.unary_unary::<Msg, Msg>(UNARY);
    future.add_done_callback(move |details| {
        // Blocking calls are allowed in callbacks.
        let again = mc.call(msg("from callback")).map(|m| m.text);
        let _ = tx.send((details.code(), again));
    });
    let (code, again) = rx.recv_timeout(GUARD).unwrap();
    assert_eq!(code, StatusCode::Ok);
    assert_eq!(again.unwrap(), "echo:from callback");
}
