//! Hostile input against the rpc-aio server, from raw TCP and from `h2` as a raw HTTP/2
//! client: garbage, HTTP/1.1, a truncated preface, lying length prefixes, bad compression
//! flags, undecodable protobuf, a bad `grpc-timeout`, oversized metadata, a ping flood, and
//! clients that never read. After each, a normal call from another client must succeed.

use bytes::Bytes;
use rpc_aio::{ServerCredentials, ServerOptions};
use rpc_testkit::{Msg, Probe, SERVER_STREAM, Style, UNARY, assert_serving, bounded, eventually, msg, serve_service};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Writes `bytes` on a fresh connection and reads until the server closes it (bounded).
fn send_raw(port: u16, bytes: &[u8], half_close: bool) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(bytes).unwrap();
    if half_close {
        s.shutdown(std::net::Shutdown::Write).unwrap();
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return got,
            Err(e) => panic!("the server did not close the connection: {e}"),
        }
    }
}

/// The answer to one raw gRPC request: HTTP status and `grpc-status`/`grpc-message`
/// (from the headers of a trailers-only response, or from the trailers).
#[derive(Debug)]
struct Answer {
    http: u16,
    grpc_status: Option<String>,
    grpc_message: Option<String>,
}

async fn h2_client(port: u16) -> h2::client::SendRequest<Bytes> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (client, conn) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(conn);
    client
}

fn grpc_request(port: u16, path: &str, headers: &[(&str, &str)]) -> http::Request<()> {
    let mut b = http::Request::builder()
        .method("POST")
        .uri(format!("http://127.0.0.1:{port}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(()).unwrap()
}

async fn raw_call(port: u16, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let client = h2_client(port).await;
    let mut client = client.ready().await.unwrap();
    let (response, mut send) = client.send_request(grpc_request(port, path, headers), false).unwrap();
    send.send_data(Bytes::copy_from_slice(body), true).unwrap();
    let response = bounded(response).await.unwrap();
    let http = response.status().as_u16();
    let header = |h: &http::HeaderMap, k: &str| h.get(k).map(|v| v.to_str().unwrap().to_owned());
    let (mut grpc_status, mut grpc_message) = (
        header(response.headers(), "grpc-status"),
        header(response.headers(), "grpc-message"),
    );
    let mut body = response.into_body();
    while let Some(chunk) = bounded(body.data()).await {
        let chunk = chunk.unwrap();
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    if let Some(trailers) = bounded(body.trailers()).await.unwrap() {
        grpc_status = grpc_status.or(header(&trailers, "grpc-status"));
        grpc_message = grpc_message.or(header(&trailers, "grpc-message"));
    }
    Answer {
        http,
        grpc_status,
        grpc_message,
    }
}

fn frame(flag: u8, declared_len: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![flag];
    f.extend_from_slice(&declared_len.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn encoded(m: &Msg) -> Vec<u8> {
    let bytes = prost::Message::encode_to_vec(m);
    frame(0, bytes.len() as u32, &bytes)
}

async fn server() -> (rpc_aio::Server, u16, std::sync::Arc<Probe>) {
    serve_service(Style::Async, ServerOptions::default(), ServerCredentials::insecure()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_http1_and_truncated_prefaces_close_the_connection_and_nothing_else() {
    let (server, port, counts) = server().await;
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let cases: [(&str, &[u8]); 4] = [
        ("garbage", &garbage),
        ("http/1.1", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"),
        (
            "http/1.1 post",
            b"POST /test.Svc/Unary HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n\0\0\0\0\0",
        ),
        ("truncated preface", b"PRI * HTTP/2.0\r\n\r\nS"),
    ];
    for (name, bytes) in cases {
        let p = port;
        let bytes = bytes.to_vec();
        let half_close = name == "truncated preface";
        let before = counts.calls();
        tokio::task::spawn_blocking(move || send_raw(p, &bytes, half_close)).await.unwrap();
        assert_eq!(counts.calls(), before, "{name} reached a handler");
        assert_serving(port).await;
    }
    assert_eq!(server.active_rpcs(), 0);
    server.stop(None).await;
}

#[tokio::test]
async fn malformed_grpc_requests_get_an_error_status_and_reach_no_handler() {
    let (server, port, counts) = server().await;
    let good = encoded(&msg("ok"));
    // (what, extra headers, body, expected grpc-status)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<u8>, &'a str);
    let cases: Vec<Case> = vec![
        ("length prefix lies", vec![], frame(0, 100, b"short"), "13"),
        ("prefix cut short", vec![], vec![0, 0, 0], "13"),
        ("compressed, no grpc-encoding", vec![], frame(1, 3, b"abc"), "13"),
        (
            "compressed, unknown grpc-encoding",
            vec![("grpc-encoding", "snappy")],
            frame(1, 3, b"abc"),
            "12",
        ),
        ("undecodable protobuf", vec![], frame(0, 3, &[0xff, 0xff, 0xff]), "13"),
        ("grpc-timeout does not parse", vec![("grpc-timeout", "soon")], good.clone(), "13"),
        ("grpc-timeout too long", vec![("grpc-timeout", "123456789S")], good.clone(), "13"),
        (
            "grpc-message injection attempt",
            vec![("grpc-status", "0")],
            frame(0, 100, b""),
            "13",
        ),
    ];
    for (name, headers, body, expected) in cases {
        let before = counts.calls();
        let answer = raw_call(port, UNARY, &headers, &body).await;
        assert_eq!(answer.http, 200, "{name}: {answer:?}");
        assert_eq!(answer.grpc_status.as_deref(), Some(expected), "{name}: {answer:?}");
        assert!(
            answer.grpc_message.as_deref().is_some_and(|m| !m.is_empty()),
            "{name} says why: {answer:?}"
        );
        assert_eq!(counts.calls(), before, "{name} reached the handler: {answer:?}");
        assert_serving(port).await;
    }
    // A non-gRPC content type is refused at the HTTP level.
    let client = h2_client(port).await;
    let mut client = client.ready().await.unwrap();
    let mut req = grpc_request(port, UNARY, &[]);
    req.headers_mut().insert("content-type", "text/plain".parse().unwrap());
    let (response, _) = client.send_request(req, true).unwrap();
    assert_eq!(bounded(response).await.unwrap().status(), http::StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(server.active_rpcs(), 0);
    server.stop(None).await;
}

#[tokio::test]
async fn oversized_metadata_is_refused_before_any_handler() {
    let (server, port, counts) = server().await;
    let client = h2_client(port).await;
    let mut client = client.ready().await.unwrap();
    let mut req = grpc_request(port, UNARY, &[]);
    let big = "v".repeat(8 * 1024);
    for i in 0..8 {
        req.headers_mut().insert(
            http::HeaderName::from_bytes(format!("x-big-{i}").as_bytes()).unwrap(),
            big.parse().unwrap(),
        );
    }
    if let Ok((response, mut send)) = client.send_request(req, false) {
        let _ = send.send_data(Bytes::from(encoded(&msg("fat"))), true);
        // The server refuses the stream (431, or a reset): anything but a served call.
        if let Ok(response) = bounded(response).await {
            assert_ne!(response.status(), http::StatusCode::OK, "{response:?}");
        }
    }
    assert_eq!(counts.calls(), 0);
    assert_serving(port).await;
    server.stop(None).await;
}

#[tokio::test]
async fn a_ping_flood_does_not_stop_the_server_serving() {
    let (server, port, _) = server().await;
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (_client, mut conn) = h2::client::handshake(tcp).await.unwrap();
    let mut pings = conn.ping_pong().unwrap();
    let driver = tokio::spawn(conn);
    let started = Instant::now();
    for _ in 0..2000 {
        if bounded(pings.ping(h2::Ping::opaque())).await.is_err() {
            break; // told to go away: also acceptable
        }
    }
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_serving(port).await;
    driver.abort();
    server.stop(None).await;
}

/// Resident memory of this process (the server runs in it), from /proc/self/status.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_never_read_are_bounded_by_flow_control() {
    let (server, port, counts) = server().await;
    const STREAMS: usize = 20;
    const MESSAGES: i32 = 1000; // 1000 x 64 KiB = 62.5 MiB per stream if nothing pushed back
    let before = rss_kib();
    let client = h2_client(port).await;
    let mut responses = Vec::new();
    for _ in 0..STREAMS {
        let mut c = client.clone().ready().await.unwrap();
        let request = Msg {
            payload: vec![0; 64 * 1024],
            n: MESSAGES,
            ..msg("")
        };
        let (response, mut send) = c.send_request(grpc_request(port, SERVER_STREAM, &[]), false).unwrap();
        send.send_data(Bytes::from(encoded(&request)), true).unwrap();
        responses.push(response); // never read: the window is never released
    }
    // Let the handlers push as much as flow control allows: every stream has started and
    // the count of messages produced stays the same over several looks in a row.
    let mut last = (0, 0);
    eventually("the handlers to block on flow control", || {
        let now = counts.sent();
        last = if now == last.0 { (now, last.1 + 1) } else { (now, 0) };
        server.active_rpcs() == STREAMS && now >= STREAMS && last.1 >= 40
    })
    .await;
    let sent = counts.sent();
    let grown_mib = rss_kib().saturating_sub(before) / 1024;
    assert_eq!(server.active_rpcs(), STREAMS);
    // Each stream's sends block once its window and a few buffered messages are used.
    assert!(sent < STREAMS * 40, "handlers produced {sent} messages: sends did not block");
    assert!(grown_mib < 200, "server memory grew by {grown_mib} MiB");
    // The client goes away: every handler is cancelled and released.
    drop(responses);
    drop(client);
    eventually("the RPCs of the vanished client to be released", || server.active_rpcs() == 0).await;
    assert_serving(port).await;
    server.stop(None).await;
}
