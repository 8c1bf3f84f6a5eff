//! Server-side connection management (gRFC A9), against both faces: a connection past
//! `max_connection_age` is sent GOAWAY, its call in flight finishes inside
//! `max_connection_age_grace` while new calls go to a new connection (none failing), and a
//! call outliving the grace is cut off; a connection without RPCs for `max_connection_idle`
//! is closed, one with a call in flight is not; a client that does not complete its HTTP/2
//! handshake within `handshake_timeout` is disconnected. Small option values, no timing
//! assertions: every test waits for what the option causes, boundedly.

use rpc_core::{ChannelConnectivity, Request, RpcError, ServerOptions, StatusCode};
use rpc_testkit::{Face, LIMIT, LiveCall, Msg, Peer, Style, both_faces, eventually, md, msg};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::time::Duration;

/// A call its handler holds until the probe is released; its reply names its connection.
fn held() -> Request<Msg> {
    Request::new(msg("held")).metadata(md(&[("x-hold", "1"), ("x-peer", "1")]))
}

/// The client address the server sees for a new unary call on `ch` (one per connection).
fn peer_of<F: Face>(face: &F, ch: &F::Channel) -> Result<String, RpcError> {
    let finished = face.unary(ch, Request::new(msg("who")).metadata(md(&[("x-peer", "1")])));
    match finished.error {
        None => Ok(finished.reply().text),
        Some(e) => Err(e),
    }
}

fn aging(age: Duration, grace: Duration) -> ServerOptions {
    ServerOptions::default().max_connection_age(age).max_connection_age_grace(grace)
}

fn an_aged_connection_lets_its_call_finish_and_new_calls_go_to_a_new_one<F: Face>() {
    let face = F::new();
    for style in Style::ALL {
        let server = face.serve_on(style, aging(Duration::from_millis(200), Duration::from_secs(120)), 0);
        let (ch, who) = (face.channel(&server.target()), server.name());
        let call = face.start_unary(&ch, held());
        eventually(format!("{who}: the held call to reach its handler"), || server.probe().calls() == 1).wait();
        // While the held call runs, its connection ages out: new calls are served on newer
        // connections (two distinct ones, so at least one is not the held call's).
        let (mut seen, mut failed) = (HashSet::new(), Vec::new());
        eventually(format!("{who}: calls served on two connections while one call is held"), || {
            match peer_of(&face, &ch) {
                Ok(peer) => drop(seen.insert(peer)),
                Err(e) => failed.push(e),
            }
            seen.len() >= 2
        })
        .wait();
        // A graceful GOAWAY fails no RPC: one that raced it is retried transparently by
        // the client (the server named it unprocessed).
        assert!(failed.is_empty(), "{who}: calls failed around the GOAWAYs: {failed:?}");
        assert!(!call.done(), "{who}: the held call is still running inside the grace");
        server.probe().release();
        let held_on = call.finish().reply().text;
        assert!(
            seen.iter().any(|p| *p != held_on),
            "{who}: the held call's connection ({held_on}) kept getting new calls: {seen:?}"
        );
        assert_eq!(server.probe().cancelled(), 0, "{who}: nothing was cut off");
    }
}

fn a_call_outliving_the_grace_is_cut_off_and_the_channel_reconnects<F: Face>() {
    let face = F::new();
    for style in Style::ALL {
        let server = face.serve_on(style, aging(Duration::from_millis(200), Duration::from_millis(200)), 0);
        let (ch, who) = (face.channel(&server.target()), server.name());
        let call = face.start_unary(&ch, held());
        eventually(format!("{who}: the held call to reach its handler"), || server.probe().calls() == 1).wait();
        // Never released: the grace ends it.
        let finished = call.finish();
        assert_eq!(finished.err().code(), StatusCode::Unavailable, "{who}: {:?}", finished.error);
        eventually(format!("{who}: the handler to see the cancellation"), || {
            server.probe().cancelled() == 1
        })
        .wait();
        // The next call gets a new connection (which ages too, so one may race its GOAWAY).
        eventually(format!("{who}: a call after the cut-off to succeed"), || {
            peer_of(&face, &ch).is_ok()
        })
        .wait();
        server.probe().release();
    }
}

fn an_idle_connection_is_closed_and_the_channel_reconnects<F: Face>() {
    let face = F::new();
    let server = face.serve_on(
        Style::Async,
        ServerOptions::default().max_connection_idle(Duration::from_millis(200)),
        0,
    );
    let ch = face.channel(&server.target());
    peer_of(&face, &ch).expect("the first call");
    eventually("the idle connection to be closed (the channel leaves READY)", || {
        face.state(&ch) != ChannelConnectivity::Ready
    })
    .wait();
    peer_of(&face, &ch).expect("a call after the idle close (on a new connection)");
}

fn a_connection_with_a_call_in_flight_is_not_idle<F: Face>() {
    let face = F::new();
    for style in Style::ALL {
        let server = face.serve_on(style, ServerOptions::default().max_connection_idle(Duration::from_millis(200)), 0);
        let who = server.name();
        let busy = face.channel(&server.target());
        let call = face.start_unary(&busy, held());
        eventually(format!("{who}: the held call to reach its handler"), || server.probe().calls() == 1).wait();
        // A second connection, made after the busy one and idle from its one call on, is
        // closed for idleness; the busy one, older, is not.
        let idle = face.channel(&server.target());
        peer_of(&face, &idle).expect("a call on the second channel");
        eventually(format!("{who}: the idle connection to be closed"), || {
            face.state(&idle) != ChannelConnectivity::Ready
        })
        .wait();
        assert_eq!(face.state(&busy), ChannelConnectivity::Ready, "{who}: the busy connection is kept");
        assert!(!call.done(), "{who}");
        server.probe().release();
        call.finish().reply();
        assert_eq!(server.probe().cancelled(), 0, "{who}");
    }
}

/// Connects with a plain TCP socket, sends `bytes`, and reads (the server's SETTINGS, if
/// any) until the server closes the connection. Whether it did within [`LIMIT`].
fn closed_by_the_server(target: &str, bytes: &[u8]) -> Result<(), String> {
    let mut tcp = std::net::TcpStream::connect(target).map_err(|e| format!("connect: {e}"))?;
    tcp.set_read_timeout(Some(LIMIT)).map_err(|e| e.to_string())?;
    tcp.write_all(bytes).map_err(|e| format!("write: {e}"))?;
    let mut buf = [0u8; 1024];
    // Bounded: a server sends a few frames at most before it gives up on this client.
    for _ in 0..64 {
        match tcp.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Ok(()),
            Err(e) => return Err(format!("still open after {LIMIT:?}: {e}")),
        }
    }
    Err("the server kept writing".to_owned())
}

fn a_client_that_does_not_complete_the_http2_handshake_is_disconnected<F: Face>() {
    let face = F::new();
    let server = face.serve_on(
        Style::Async,
        ServerOptions::default().handshake_timeout(Duration::from_millis(200)),
        0,
    );
    let preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let cases: [(&str, &[u8]); 4] = [
        ("sends nothing", b""),
        ("sends half the preface", &preface[..10]),
        ("sends the preface and no SETTINGS", preface),
        ("sends garbage", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ];
    for (what, bytes) in cases {
        if let Err(e) = closed_by_the_server(&server.target(), bytes) {
            panic!("a client that {what}: {e}");
        }
    }
    // A client that does complete it is served as usual.
    let ch = face.channel(&server.target());
    peer_of(&face, &ch).expect("a well-behaved client");
}

both_faces!(
    an_aged_connection_lets_its_call_finish_and_new_calls_go_to_a_new_one,
    a_call_outliving_the_grace_is_cut_off_and_the_channel_reconnects,
    an_idle_connection_is_closed_and_the_channel_reconnects,
    a_connection_with_a_call_in_flight_is_not_idle,
    a_client_that_does_not_complete_the_http2_handshake_is_disconnected,
);
