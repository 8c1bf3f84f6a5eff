//! Stopping a server, run against both faces and both styles of handlers: RPCs in flight
//! finish inside the grace while new ones are refused; those that outlive it are cancelled
//! (the handler sees it, the client gets a status); `stop(None)` cancels at once; a second,
//! shorter stop shortens the grace; a stop does not wait for a handler that ignores
//! cancellation. Every test owns its server and its probe.

use rpc_core::{Request, ServerOptions, StatusCode};
use rpc_testkit::{Face, FaceServer, LiveCall, Msg, Peer, Style, both_faces, eventually, md, msg};
use std::time::Duration;

/// A call its handler holds until the probe is released (or the RPC is cancelled).
fn held() -> Request<Msg> {
    Request::new(msg("held")).metadata(md(&[("x-hold", "1")]))
}

/// A server of `style`, a channel to it, and a held call that has reached its handler.
fn serve_with_a_held_call<F: Face>(face: &F, style: Style) -> (F::Server, F::Channel, F::Call, String) {
    let server = face.serve(style);
    let (ch, who) = (face.channel(&server.target()), server.name());
    let call = face.start_unary(&ch, held());
    eventually(format!("{who}: the call to reach its handler"), || server.probe().calls() == 1).wait();
    (server, ch, call, who)
}

fn in_flight_calls_finish_inside_the_grace_and_new_ones_are_refused<F: Face>() {
    let face = F::new();
    for style in Style::ALL {
        let (server, ch, call, who) = serve_with_a_held_call(&face, style);
        let stop = server.stop(Some(Duration::from_secs(20)));
        assert!(!stop.is_done(), "{who}: an RPC is in flight");
        // While the call is held, new RPCs on the same channel or a new one are refused
        // (not served, no hang). (That they are refused at once is the next test.)
        let fresh = face.channel(&server.target());
        eventually(format!("{who}: new RPCs to be refused"), || {
            face.unary(&fresh, msg("late")).code == StatusCode::Unavailable
        })
        .wait();
        let served = server.probe().calls();
        for ch in [ch.clone(), fresh] {
            let refused = face.unary(&ch, msg("late"));
            assert_eq!(refused.err().code(), StatusCode::Unavailable, "{who}: {:?}", refused.error);
        }
        assert_eq!(server.probe().calls(), served, "{who}: the refused calls reached no handler");
        assert!(!call.done() && !stop.is_done(), "{who}: the held call is still in flight");
        server.probe().release();
        assert_eq!(call.finish().reply().text, "echo:held", "{who}");
        assert!(stop.wait(), "{who}: the server terminates once the call is done");
        assert!(server.is_terminated(), "{who}");
        assert_eq!((server.cancelled_rpcs(), server.probe().completed()), (0, 1), "{who}");
    }
}

fn new_rpcs_are_refused_as_soon_as_stop_returns<F: Face>() {
    // `Server::stop`: "it accepts no new RPCs at once (they get UNAVAILABLE)". Repeated,
    // because the engine gets it right most times.
    let face = F::new();
    for round in 0..25 {
        for style in Style::ALL {
            let (server, ch, call, who) = serve_with_a_held_call(&face, style);
            let who = format!("{who}, round {round}");
            let _stop = server.stop(Some(Duration::from_secs(20)));
            let refused = face.unary(&ch, msg("late"));
            assert_eq!(
                refused.code,
                StatusCode::Unavailable,
                "{who}: the first RPC after stop() got {:?}",
                refused.responses
            );
            assert_eq!(server.probe().calls(), 1, "{who}: the refused call reached no handler");
            server.probe().release();
            call.finish().reply();
        }
    }
}

fn calls_that_outlive_the_grace_are_cancelled_with_a_status<F: Face>() {
    let face = F::new();
    for style in Style::ALL {
        let (server, _ch, call, who) = serve_with_a_held_call(&face, style);
        let stop = server.stop(Some(Duration::from_millis(300)));
        let finished = call.finish();
        assert_eq!(finished.err().code(), StatusCode::Unavailable, "{who}: {:?}", finished.error);
        eventually(format!("{who}: the handler to see the stop"), || server.probe().cancelled() == 1).wait();
        assert!(stop.wait(), "{who}");
        assert_eq!((server.cancelled_rpcs(), server.probe().completed()), (1, 0), "{who}");
    }
}

fn stop_none_cancels_at_once<F: Face>() {
    let face = F::new();
    for style in Style::ALL {
        let server = face.serve(style);
        let (ch, who) = (face.channel(&server.target()), server.name());
        let calls: Vec<_> = (0..3).map(|_| face.start_unary(&ch, held())).collect();
        eventually(format!("{who}: the calls to reach their handlers"), || server.probe().calls() == 3).wait();
        assert!(server.stop(None).wait(), "{who}");
        assert!(server.is_terminated(), "{who}");
        for call in calls {
            assert_ne!(call.finish().code, StatusCode::Ok, "{who}");
        }
        eventually(format!("{who}: every handler to see the stop"), || server.probe().cancelled() == 3).wait();
        assert_eq!(server.probe().completed(), 0, "{who}");
    }
}

fn a_second_stop_with_a_shorter_grace_shortens_it<F: Face>() {
    let face = F::new();
    for style in Style::ALL {
        let (server, _ch, call, who) = serve_with_a_held_call(&face, style);
        let first = server.stop(Some(Duration::from_secs(3600)));
        assert!(!first.is_done(), "{who}: the call is held, the grace is long");
        let second = server.stop(Some(Duration::from_millis(100)));
        // Both handles see the end, long before the first grace.
        assert!(second.wait(), "{who}");
        assert!(first.is_done(), "{who}");
        assert_ne!(call.finish().code, StatusCode::Ok, "{who}");
        eventually(format!("{who}: the handler to see the stop"), || server.probe().cancelled() == 1).wait();
        // On a stopped server, a stop is done at once.
        assert!(server.stop(Some(Duration::from_secs(3600))).is_done(), "{who}");
    }
}

fn a_stop_does_not_wait_for_a_handler_that_ignores_cancellation<F: Face>() {
    let face = F::new();
    // One worker and no queue: a stuck blocking handler holds the whole pool.
    let server = face.serve_on(Style::Blocking, ServerOptions::default().max_workers(1).max_queued_rpcs(0), 0);
    let (ch, who) = (face.channel(&server.target()), server.name());
    let stuck = face.start_unary(&ch, Request::new(msg("stuck")).metadata(md(&[("x-stuck", "1")])));
    eventually(format!("{who}: the call to reach its handler"), || server.probe().calls() == 1).wait();
    let refused = face.unary(&ch, msg("more"));
    assert_eq!(refused.err().code(), StatusCode::ResourceExhausted, "{who}: {:?}", refused.error);
    let stop = server.stop(Some(Duration::from_millis(200)));
    assert_ne!(stuck.finish().code, StatusCode::Ok, "{who}");
    assert!(stop.wait(), "{who}: the stop waited for the stuck handler");
    assert!(server.is_terminated(), "{who}");
    // Let the stuck worker go, so it does not outlive the test.
    server.probe().release();
    eventually(format!("{who}: the stuck handler to return"), || server.probe().completed() == 1).wait();
}

both_faces!(
    in_flight_calls_finish_inside_the_grace_and_new_ones_are_refused,
    new_rpcs_are_refused_as_soon_as_stop_returns,
    calls_that_outlive_the_grace_are_cancelled_with_a_status,
    stop_none_cancels_at_once,
    a_second_stop_with_a_shorter_grace_shortens_it,
    a_stop_does_not_wait_for_a_handler_that_ignores_cancellation,
);
