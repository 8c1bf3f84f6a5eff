//! Deadlines, run against both faces: a call past its deadline ends DEADLINE_EXCEEDED for
//! the client (unary and streaming, every accessor agreeing) while the handler sees its RPC
//! cancelled; the deadline reaches the server (`grpc-timeout`, the handler's time left);
//! a call made by a handler inherits the handler's deadline; a `wait_for_ready` call
//! started while the server is down waits for it.

use rpc_core::{Request, StatusCode};
use rpc_testkit::{Face, LiveCall, Msg, Peer, Style, TonicPeer, both_faces, eventually, free_port, md, msg};
use std::time::Duration;

fn a_call_past_its_deadline_is_deadline_exceeded_and_the_handler_sees_it<F: Face>() {
    let face = F::new();
    for peer in face.peers() {
        let (ch, who) = (face.channel(&peer.target()), peer.name());
        let request = Request::new(msg("slow"))
            .metadata(md(&[("x-sleep-ms", "20000")]))
            .timeout(Duration::from_millis(200));
        let call = face.unary(&ch, request);
        assert_eq!(call.err().code(), StatusCode::DeadlineExceeded, "{who}: {:?}", call.error);
        assert_eq!(call.code, StatusCode::DeadlineExceeded, "{who}");
        eventually(format!("{who}: the handler to see its RPC cancelled"), || {
            peer.probe().cancelled() == 1
        })
        .wait();
        assert_eq!(peer.probe().completed(), 0, "{who}: the handler did not run to its end");
    }
}

fn a_stream_past_its_deadline_reports_it_to_every_accessor<F: Face>() {
    let face = F::new();
    for peer in face.peers() {
        let (ch, who) = (face.channel(&peer.target()), peer.name());
        let endless = Request::new(Msg { n: -1, ..msg("") }).timeout(Duration::from_millis(300));
        let mut call = face.start_server_stream(&ch, endless);
        let err = loop {
            match call.read() {
                Some(Ok(_)) => continue,
                Some(Err(e)) => break e,
                None => panic!("{who}: the endless stream ended"),
            }
        };
        assert_eq!(err.code(), StatusCode::DeadlineExceeded, "{who}: {err}");
        assert!(call.done() && !call.cancelled(), "{who}: ended by its deadline, not cancelled");
        assert_eq!(call.finish().code, StatusCode::DeadlineExceeded, "{who}");
        eventually(format!("{who}: the stream's handler to see its RPC cancelled"), || {
            peer.probe().cancelled() == 1
        })
        .wait();
    }
}

fn the_deadline_reaches_the_server<F: Face>() {
    let face = F::new();
    // On the wire: the tonic peer records the `grpc-timeout` header.
    let peer = TonicPeer::start();
    let ch = face.channel(&peer.target());
    let call = face.start_unary(&ch, Request::new(msg("x")).timeout(Duration::from_millis(200)));
    // The deadline is fixed when the call is made.
    assert!(call.time_remaining().is_some_and(|t| t <= Duration::from_millis(200)));
    call.finish().reply();
    let sent = peer.probe().header("grpc-timeout").expect("grpc-timeout sent");
    let parsed = rpc_core::timeout::parse_grpc_timeout(sent.as_bytes()).unwrap();
    assert!(parsed <= Duration::from_millis(200), "{sent}");
    face.unary(&ch, msg("no deadline")).reply();
    assert_eq!(peer.probe().header("grpc-timeout"), None, "no deadline, no grpc-timeout");
    // To the handler: the time it has left.
    for style in Style::ALL {
        let server = face.serve(style);
        let ch = face.channel(&server.target());
        face.unary(&ch, Request::new(msg("x")).timeout(Duration::from_secs(10))).reply();
        let left = server.probe().time_remaining().unwrap().expect("the handler has a deadline");
        assert!(left <= Duration::from_secs(10), "{}: {left:?}", server.name());
        face.unary(&ch, msg("x")).reply();
        assert_eq!(server.probe().time_remaining(), Some(None), "{}: no deadline", server.name());
    }
}

fn a_call_made_by_a_handler_inherits_its_deadline<F: Face>() {
    let face = F::new();
    // The inner server reports the time its handler had left; the outer one relays to it
    // with a client of its own style (blocking handlers call through rpc-sync, async ones
    // through rpc-aio).
    let inner = face.serve(Style::Async);
    for style in Style::ALL {
        let outer = face.serve(style);
        let ch = face.channel(&outer.target());
        let relay = || md(&[("x-relay-to", &inner.target())]);
        let reply = face
            .unary(&ch, Request::new(msg("x")).metadata(relay()).timeout(Duration::from_secs(10)))
            .reply();
        let left: u64 = reply
            .text
            .parse()
            .unwrap_or_else(|_| panic!("{}: the inner call had no deadline: {reply:?}", outer.name()));
        assert!(left <= 10_000, "{}: {left} ms", outer.name());
        // Without a deadline on the outer call, none is passed on.
        let reply = face.unary(&ch, Request::new(msg("x")).metadata(relay())).reply();
        assert_eq!(reply.text, "none", "{}", outer.name());
    }
}

fn a_wait_for_ready_call_started_while_the_server_is_down_waits_for_it<F: Face>() {
    let face = F::new();
    for style in Style::ALL {
        // Nothing listens on the port at first (a bound port would accept connections into
        // its backlog), so the call sees refused connections until the server comes up.
        let port = free_port();
        let ch = face.channel(&format!("127.0.0.1:{port}"));
        let request = Request::new(msg("late")).wait_for_ready(true).timeout(Duration::from_secs(20));
        let call = face.start_unary(&ch, request);
        // The call is running before there is a server: it is what tries to connect.
        eventually("the started call to try the port", || {
            face.state(&ch) == rpc_core::ChannelConnectivity::TransientFailure
        })
        .wait();
        assert!(!call.done(), "a wait_for_ready call does not fail while the server is down");
        let server = face.serve_on(style, Default::default(), port);
        assert_eq!(call.finish().reply().text, "echo:late", "{}", server.name());
        assert_eq!(server.probe().calls(), 1);
    }
}

both_faces!(
    a_call_past_its_deadline_is_deadline_exceeded_and_the_handler_sees_it,
    a_stream_past_its_deadline_reports_it_to_every_accessor,
    the_deadline_reaches_the_server,
    a_call_made_by_a_handler_inherits_its_deadline,
    a_wait_for_ready_call_started_while_the_server_is_down_waits_for_it,
);
