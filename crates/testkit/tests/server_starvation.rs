//! No slow client starves a server, whatever its handlers' style: while 200 server-streaming
//! calls are stalled by HTTP/2 flow control (their client never reads) and while 200 bidi
//! calls send nothing, a normal client on its own connection is served, by both faces'
//! servers with blocking and with async handlers (default options: a few workers).

use rpc_core::{Request, WriteRequests};
use rpc_testkit::{Face, LiveCall, Msg, Peer, Style, both_faces, eventually, msg};
use std::time::Duration;

/// Hostile calls held open at once.
const HELD: usize = 200;

/// A normal client, on a connection of its own, gets its three calls served.
fn served<F: Face>(face: &F, server: &F::Server) {
    let ch = face.channel(&server.target());
    for i in 0..3 {
        let got = face.unary(&ch, Request::new(msg("hi")).timeout(Duration::from_secs(20)));
        assert!(got.error.is_none(), "{}: normal call {i}: {:?}", server.name(), got.error);
        assert_eq!(got.responses[0].text, "echo:hi", "{}", server.name());
    }
}

fn streams_stalled_by_flow_control_do_not_starve_the_server<F: Face>() {
    let face = F::new();
    for style in Style::ALL {
        let server = face.serve(style);
        let (who, probe) = (server.name(), server.probe().clone());
        let hostile = face.channel(&server.target());
        // 1000 responses of 8 KiB each: a few fill the stream's window, and nobody reads.
        let big = Msg {
            n: 1000,
            payload: vec![0; 8 * 1024],
            ..msg("")
        };
        let held: Vec<_> = (0..HELD).map(|_| face.start_server_stream(&hostile, big.clone())).collect();
        eventually(format!("{who}: the handlers of the stalled streams to run"), || {
            probe.calls() == HELD
        })
        .wait();
        served(&face, &server);
        assert!(held.iter().all(|c| !c.done()), "{who}: the stalled streams are still open");
        drop(held);
    }
}

fn bidi_calls_that_send_nothing_do_not_starve_the_server<F: Face>() {
    let face = F::new();
    for style in Style::ALL {
        let server = face.serve(style);
        let (who, probe) = (server.name(), server.probe().clone());
        let hostile = face.channel(&server.target());
        let held: Vec<_> = (0..HELD).map(|_| face.start_bidi(&hostile, WriteRequests)).collect();
        eventually(format!("{who}: the handlers of the silent calls to run"), || probe.calls() == HELD).wait();
        served(&face, &server);
        // The silent calls end normally once their clients finish writing.
        for (i, mut call) in held.into_iter().enumerate() {
            call.done_writing().unwrap();
            let finished = call.finish();
            assert!(finished.error.is_none(), "{who}: silent call {i}: {:?}", finished.error);
        }
    }
}

both_faces!(
    streams_stalled_by_flow_control_do_not_starve_the_server,
    bidi_calls_that_send_nothing_do_not_starve_the_server,
);
