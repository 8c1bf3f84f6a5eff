//! The client's keepalive (gRFC A8), seen through a TCP relay between channel and server
//! that counts the client's PING frames and can stop passing the server's bytes (a server
//! that vanished without closing its socket): pings go out on a connection with calls in
//! flight, on an idle one only with `keepalive_permit_without_calls`; an unanswered ping
//! fails the calls with UNAVAILABLE instead of leaving them hanging; and a server that
//! finds the pings too frequent ends the connection (GOAWAY `too_many_pings`).

use futures::StreamExt;
use rpc_aio::{ChannelOptions, ResponseStream, RpcError, ServerOptions, StatusCode, unary_stream_rpc_method_handler};
use rpc_testkit::{Msg, UNARY, bounded, echo_handler, eventually, msg, serve_aio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A relay in front of a server: counts the PING frames (not acks) the client sends, and
/// drops the server's bytes once `frozen`.
#[derive(Default)]
struct Relay {
    pings: AtomicUsize,
    frozen: AtomicBool,
}

impl Relay {
    /// Starts relaying from a loopback port to `upstream`; returns the relay and its target.
    async fn start(upstream: String) -> (Arc<Relay>, String) {
        let relay = Arc::new(Relay::default());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = listener.local_addr().unwrap().to_string();
        let r = relay.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else { return };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(r.clone().upstream(client_read, server_write));
                tokio::spawn(r.clone().downstream(server_read, client_write));
            }
        });
        (relay, target)
    }

    /// Client to server: passes every byte, following the HTTP/2 frames to count pings.
    async fn upstream(self: Arc<Self>, mut from: tokio::net::tcp::OwnedReadHalf, mut to: tokio::net::tcp::OwnedWriteHalf) {
        const PREFACE: usize = 24;
        let mut seen: Vec<u8> = Vec::new();
        let mut at = PREFACE;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if to.write_all(&buf[..n]).await.is_err() {
                return;
            }
            seen.extend_from_slice(&buf[..n]);
            while seen.len() >= at + 9 {
                let header = &seen[at..at + 9];
                let len = (usize::from(header[0]) << 16) | (usize::from(header[1]) << 8) | usize::from(header[2]);
                let (kind, flags) = (header[3], header[4]);
                if kind == 0x6 && flags & 0x1 == 0 {
                    self.pings.fetch_add(1, Ordering::SeqCst);
                }
                at += 9 + len;
            }
            // Keep only the frame being read.
            let keep = at.min(seen.len());
            seen.drain(..keep);
            at -= keep;
        }
    }

    /// Server to client: passes bytes until frozen, then drops them.
    async fn downstream(self: Arc<Self>, mut from: tokio::net::tcp::OwnedReadHalf, mut to: tokio::net::tcp::OwnedWriteHalf) {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if !self.frozen.load(Ordering::SeqCst) && to.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }

    fn pings(&self) -> usize {
        self.pings.load(Ordering::SeqCst)
    }
}

async fn unary(channel: &rpc_aio::Channel, text: &str) -> Result<Msg, RpcError> {
    channel.unary_unary::<Msg, Msg>(UNARY).call(msg(text)).await
}

fn keepalive(time_ms: u64, timeout_ms: u64, without_calls: bool) -> ChannelOptions {
    ChannelOptions::default()
        .keepalive_time(Duration::from_millis(time_ms))
        .keepalive_timeout(Duration::from_millis(timeout_ms))
        .keepalive_permit_without_calls(without_calls)
}

/// A server whose `/t.S/Hold` streams one message and then nothing until the call ends.
async fn server(options: ServerOptions) -> (rpc_aio::Server, String) {
    serve_aio(options, |s| {
        s.add_method_handler(UNARY, echo_handler());
        s.add_method_handler(
            "/t.S/Hold",
            unary_stream_rpc_method_handler(|m: Msg, ctx| async move {
                let first = futures::stream::once(async move { Ok::<_, RpcError>(m) });
                let hold = futures::stream::once(async move {
                    ctx.on_cancel().await;
                    Err(RpcError::cancelled("the client went away"))
                });
                Ok(ResponseStream::new(first.chain(hold)))
            }),
        );
    })
    .await
}

/// A server that lets clients ping every 10 ms.
fn lenient() -> ServerOptions {
    ServerOptions::default().keepalive_min_time(Duration::from_millis(10))
}

#[tokio::test]
async fn an_idle_connection_is_pinged_only_when_permitted() {
    bounded(async {
        let (server, target) = server(lenient()).await;
        for permitted in [true, false] {
            let (relay, relayed) = Relay::start(target.clone()).await;
            let channel = rpc_aio::insecure_channel(&relayed, keepalive(50, 5_000, permitted)).unwrap();
            let reply = unary(&channel, "hi").await.expect("a call through the relay");
            assert_eq!(reply.text, "echo:hi");
            if permitted {
                eventually("pings on an idle connection with keepalive_permit_without_calls", || {
                    relay.pings() >= 3
                })
                .await;
            } else {
                // Twenty keepalive intervals with no call in flight: no ping may go out.
                tokio::time::sleep(Duration::from_millis(1_000)).await;
                assert_eq!(relay.pings(), 0, "pinged an idle connection without permission");
            }
            channel.close(None).await;
        }
        server.stop(None).await;
    })
    .await;
}

/// A held call through a relay, its first message read.
struct Held {
    server: rpc_aio::Server,
    relay: Arc<Relay>,
    channel: rpc_aio::Channel,
    call: rpc_aio::UnaryStreamCall<Msg>,
}

async fn held(options: ChannelOptions) -> Held {
    let (server, target) = server(lenient()).await;
    let (relay, relayed) = Relay::start(target).await;
    let channel = rpc_aio::insecure_channel(&relayed, options).unwrap();
    let mut call = channel.unary_stream::<Msg, Msg>("/t.S/Hold").call(msg("held"));
    let first = call.read().await.expect("the first message");
    assert_eq!(first.map(|m| m.text), Some("held".to_owned()));
    Held {
        server,
        relay,
        channel,
        call,
    }
}

impl Held {
    /// Drops the call, closes the channel, stops the server.
    async fn close(self) {
        drop(self.call);
        self.channel.close(None).await;
        self.server.stop(None).await;
    }
}

#[tokio::test]
async fn a_call_in_flight_keeps_the_pings_going_and_its_connection() {
    bounded(async {
        let mut held = held(keepalive(50, 5_000, false)).await;
        let (relay, call) = (&held.relay, &mut held.call);
        eventually("pings while a call waits for its next message", || relay.pings() >= 3).await;
        // The answered pings kept the connection: the held call is still open.
        assert!(
            tokio::time::timeout(Duration::from_millis(100), call.read()).await.is_err(),
            "the held call ended"
        );
        held.close().await;
    })
    .await;
}

#[tokio::test]
async fn an_unanswered_ping_fails_the_call_with_unavailable() {
    bounded(async {
        let mut held = held(keepalive(100, 300, false)).await;
        let (relay, call) = (&held.relay, &mut held.call);
        // The server goes silent without closing its socket.
        relay.frozen.store(true, Ordering::SeqCst);
        let error = tokio::time::timeout(Duration::from_secs(15), call.read())
            .await
            .expect("the call was left hanging on a silent server")
            .expect_err("the call fails");
        assert_eq!(error.code(), StatusCode::Unavailable, "{error}");
        assert!(relay.pings() >= 1, "no ping was sent");
        // The channel connects again (to the same relay, which passes bytes again).
        relay.frozen.store(false, Ordering::SeqCst);
        let reply = unary(&held.channel, "again").await.expect("a call on a new connection");
        assert_eq!(reply.text, "echo:again");
        held.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_server_told_too_many_pings_ends_the_connection() {
    bounded(async {
        // gRPC's default: pings more often than every 5 minutes are strikes.
        let (server, target) = server(ServerOptions::default()).await;
        let channel = rpc_aio::insecure_channel(&target, keepalive(20, 5_000, true)).unwrap();
        let reply = unary(&channel, "hi").await.expect("a first call");
        assert_eq!(reply.text, "echo:hi");
        let state = channel.clone();
        eventually("the connection ended by the server's GOAWAY too_many_pings", move || {
            state.get_state(false) != rpc_aio::ChannelConnectivity::Ready
        })
        .await;
        // The channel reconnects for the next call.
        let reply = unary(&channel, "after").await.expect("a call after the GOAWAY");
        assert_eq!(reply.text, "echo:after");
        channel.close(None).await;
        server.stop(None).await;
    })
    .await;
}
