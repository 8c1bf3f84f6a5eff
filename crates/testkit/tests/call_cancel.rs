//! Cancellation by the client, run against both faces: `cancel()` ends a call CANCELLED
//! (once; a second cancel finds it ended) and the server sees it; dropping an unfinished
//! call of any kind cancels it (against every peer; request-streaming calls against the
//! face's servers, see `Peer::sees_reset_request_streams` for what a tonic handler cannot
//! tell; with blocking handlers it is a known bug, ignored).

use rpc_core::{Request, StatusCode, WriteRequests};
use rpc_testkit::{Face, LiveCall, Msg, Peer, Style, both_faces, eventually, md, msg};

fn slow() -> Request<Msg> {
    Request::new(msg("slow")).metadata(md(&[("x-sleep-ms", "20000")]))
}

fn endless() -> Msg {
    Msg { n: -1, ..msg("") }
}

fn cancel_ends_a_call_cancelled_and_the_server_sees_it<F: Face>() {
    let face = F::new();
    for peer in face.peers() {
        let (ch, who) = (face.channel(&peer.target()), peer.name());
        let probe = peer.probe();

        let call = face.start_unary(&ch, slow());
        eventually(format!("{who}: the call to reach its handler"), || probe.calls() == 1).wait();
        assert!(!call.done(), "{who}");
        assert!(call.cancel(), "{who}");
        assert!(!call.cancel(), "{who}: a second cancel finds the call ended");
        assert!(call.cancelled() && call.done(), "{who}");
        let finished = call.finish();
        assert_eq!(finished.err().code(), StatusCode::Cancelled, "{who}");
        assert_eq!(finished.code, StatusCode::Cancelled, "{who}");
        eventually(format!("{who}: the handler to see the cancellation"), || probe.cancelled() == 1).wait();

        let mut stream = face.start_server_stream(&ch, endless());
        assert!(stream.read().unwrap().is_ok(), "{who}");
        assert!(stream.cancel(), "{who}");
        // Responses already received may still be read; then the stream ends CANCELLED.
        let err = std::iter::from_fn(|| stream.read()).find_map(Result::err);
        assert_eq!(err.map(|e| e.code()), Some(StatusCode::Cancelled), "{who}");
        assert_eq!(stream.finish().code, StatusCode::Cancelled, "{who}");
        eventually(format!("{who}: the stream's handler to see the cancellation"), || {
            probe.cancelled() == 2
        })
        .wait();
    }
}

fn dropping_an_unfinished_call_cancels_it<F: Face>() {
    let face = F::new();
    for peer in face.peers() {
        let (ch, who) = (face.channel(&peer.target()), peer.name());
        let probe = peer.probe();
        let mut dropped = 0;
        let mut drop_once_served = |call: F::Call, kind: &str| {
            eventually(format!("{who}: the {kind} call to reach its handler"), || {
                probe.calls() == dropped + 1
            })
            .wait();
            drop(call);
            dropped += 1;
            eventually(format!("{who}: the handler to see the dropped {kind} call"), || {
                probe.cancelled() == dropped
            })
            .wait();
        };

        drop_once_served(face.start_unary(&ch, slow()), "unary");

        let mut stream = face.start_server_stream(&ch, endless());
        assert!(stream.read().unwrap().is_ok() && stream.read().unwrap().is_ok(), "{who}");
        drop_once_served(stream, "server stream");
    }
}

/// Drops request-streaming calls once their handler has them; the handler must see each
/// cancelled (the call is reset with RST_STREAM CANCEL), not a complete request stream.
/// Repeated, because the engine gets it right most times.
fn drop_request_streaming_calls<F: Face>(face: &F, server: &F::Server) {
    let (ch, who) = (face.channel(&server.target()), server.name());
    let probe = server.probe();
    for round in 1..=40 {
        let mut call = if round % 2 == 0 {
            face.start_client_stream(&ch, WriteRequests)
        } else {
            face.start_bidi(&ch, WriteRequests)
        };
        call.write(msg("a")).unwrap();
        eventually(format!("{who}: call {round} to reach its handler"), || probe.calls() == round).wait();
        drop(call);
        eventually(format!("{who}: the handler to see dropped call {round} cancelled"), || {
            probe.cancelled() == round
        })
        .wait();
    }
}

fn dropping_a_request_streaming_call_cancels_it_for_async_handlers<F: Face>() {
    let face = F::new();
    drop_request_streaming_calls(&face, &face.serve(Style::Async));
}

fn dropping_a_request_streaming_call_cancels_it_for_blocking_handlers<F: Face>() {
    let face = F::new();
    drop_request_streaming_calls(&face, &face.serve(Style::Blocking));
}

/// A bidi call from an endless request iterator whose responses are not read: once the
/// iterator stops being pulled, flow control has filled the stream's send window (the
/// handler is blocked writing, so it reads no more). Dropping the call then must still
/// reset the stream, although the engine has data waiting for window space.
fn dropping_a_call_blocked_on_flow_control_cancels_it<F: Face>() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let face = F::new();
    for style in [Style::Async, Style::Blocking] {
        let server = face.serve(style);
        let (ch, who) = (face.channel(&server.target()), server.name());
        let pulled = Arc::new(AtomicUsize::new(0));
        let counter = pulled.clone();
        let requests = std::iter::repeat_with(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            msg(&"x".repeat(16 * 1024))
        });
        let mut call = face.start_bidi(&ch, requests);
        assert!(call.read().unwrap().is_ok(), "{who}");
        let blocked = (0..500).any(|_| {
            let before = pulled.load(Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(20));
            before > 0 && before == pulled.load(Ordering::SeqCst)
        });
        assert!(blocked, "{who}: the request iterator never stopped being pulled");
        drop(call);
        eventually(format!("{who}: the handler to see the blocked call cancelled"), || {
            server.probe().cancelled() == 1
        })
        .wait();
    }
}

both_faces!(
    cancel_ends_a_call_cancelled_and_the_server_sees_it,
    dropping_a_call_blocked_on_flow_control_cancels_it,
    dropping_an_unfinished_call_cancels_it,
    dropping_a_request_streaming_call_cancels_it_for_async_handlers,
    dropping_a_request_streaming_call_cancels_it_for_blocking_handlers,
);
