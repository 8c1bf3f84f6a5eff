//! Per-message response compression as seen on the wire (read with a raw HTTP/2 client):
//! `disable_next_message_compression` leaves exactly the next response uncompressed, for
//! async handlers and for blocking ones whose worker runs ahead of the encoder; and a long
//! blocking stream of large responses, which its workers encode themselves, arrives whole,
//! in order, compressed but where the handler said not, with the interceptor's response hook
//! run on every message.

use bytes::{Buf, Bytes};
use prost::Message;
use rpc_aio::{Compression, ResponseIterator, ResponseStream, RpcError, ServerOptions, ServicerContext};
use rpc_testkit::{Msg, blocking_unary_stream, bounded, msg, serve_aio};

const ASYNC: &str = "/test.Svc/AsyncStream";
const BLOCKING: &str = "/test.Svc/BlockingStream";

fn three_with_the_middle_plain_blocking(ctx: &ServicerContext) -> ResponseIterator<Msg> {
    let ctx = ctx.clone();
    let mut n = 0;
    ResponseIterator::new(std::iter::from_fn(move || {
        n += 1;
        if n == 2 {
            ctx.disable_next_message_compression();
        }
        (n <= 3).then(|| Ok(msg(&"x".repeat(200))))
    }))
}

/// The compressed flag of each response message of one call to `path`, and the response's `grpc-encoding`.
async fn flags(target: &str, path: &str) -> (Vec<u8>, Option<String>) {
    let (frames, encoding) = frames(target, path).await;
    (frames.into_iter().map(|(flag, _)| flag).collect(), encoding)
}

/// Each response message of one call to `path` (its compressed flag and its bytes as sent),
/// and the response's `grpc-encoding`.
async fn frames(target: &str, path: &str) -> (Vec<(u8, Vec<u8>)>, Option<String>) {
    let tcp = tokio::net::TcpStream::connect(target).await.unwrap();
    let (mut client, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let request = http::Request::post(format!("http://{target}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("grpc-accept-encoding", "gzip")
        .body(())
        .unwrap();
    let (response, mut send) = client.send_request(request, false).unwrap();
    let body = msg("go").encode_to_vec();
    let mut frame = vec![0u8];
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(&body);
    send.send_data(Bytes::from(frame), true).unwrap();
    let response = response.await.unwrap();
    let encoding = response.headers().get("grpc-encoding").map(|v| v.to_str().unwrap().to_owned());
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        let _ = body.flow_control().release_capacity(chunk.len());
        bytes.extend_from_slice(&chunk);
    }
    let trailers = body.trailers().await.unwrap().unwrap();
    assert_eq!(trailers.get("grpc-status").unwrap(), "0");
    let mut frames = Vec::new();
    let mut rest = &bytes[..];
    while rest.len() >= 5 {
        let len = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
        assert!(rest.len() >= 5 + len, "a truncated message on the wire");
        frames.push((rest[0], rest[5..5 + len].to_vec()));
        rest.advance(5 + len);
    }
    assert!(rest.is_empty(), "a truncated message on the wire");
    (frames, encoding)
}

/// The `n`th response of the long stream: 600 bytes that do not compress away.
fn long_stream_message(n: i32) -> Msg {
    let mut rng = fastrand::Rng::with_seed(n as u64);
    Msg {
        text: n.to_string(),
        payload: (0..600).map(|_| rng.u8(..)).collect(),
        n,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_disabled_message_alone_goes_out_plain_for_async_and_blocking_handlers() {
    bounded(async {
        let (server, target) = serve_aio(ServerOptions::default().compression(Compression::Gzip), |s| {
            s.add_method_handler(
                ASYNC,
                rpc_aio::unary_stream_rpc_method_handler(|_m: Msg, ctx: ServicerContext| async move {
                    let items = (1..=3).map(move |n| {
                        if n == 2 {
                            ctx.disable_next_message_compression();
                        }
                        Ok::<_, RpcError>(msg(&"x".repeat(200)))
                    });
                    Ok(ResponseStream::new(futures::stream::iter(items)))
                }),
            );
            s.add_method_handler(
                BLOCKING,
                blocking_unary_stream(|_m, ctx| Ok(three_with_the_middle_plain_blocking(ctx))),
            );
        })
        .await;
        for path in [ASYNC, BLOCKING] {
            let (flags, encoding) = flags(&target, path).await;
            assert_eq!(encoding.as_deref(), Some("gzip"), "{path}");
            assert_eq!(flags, [1, 0, 1], "{path}");
        }
        server.stop(None).await;
    })
    .await;
}

const LONG: &str = "/test.Svc/LongBlockingStream";
const LONG_COUNT: i32 = 300;
/// The responses the handler asks to go uncompressed.
const PLAIN: [i32; 3] = [1, 150, 299];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_blocking_stream_encoded_by_its_workers_arrives_whole_in_order_and_hooked() {
    bounded(async {
        let (server, target) = serve_aio(ServerOptions::default().compression(Compression::Gzip), |s| {
            s.add_method_handler(
                LONG,
                blocking_unary_stream(|_m, ctx| {
                    let ctx = ctx.clone();
                    let mut n = 0;
                    Ok(ResponseIterator::new(std::iter::from_fn(move || {
                        if PLAIN.contains(&n) {
                            ctx.disable_next_message_compression();
                        }
                        n += 1;
                        (n <= LONG_COUNT).then(|| Ok(long_stream_message(n - 1)))
                    })))
                }),
            );
            s.add_interceptor(|next: rpc_aio::Continuation, details: rpc_aio::HandlerCallDetails| async move {
                let handler = next.run(details).await?;
                Some(handler.on_response(|m| {
                    if let Some(m) = m.downcast_mut::<Msg>() {
                        m.text.push('!');
                    }
                }))
            });
        })
        .await;
        let (frames, encoding) = frames(&target, LONG).await;
        assert_eq!(encoding.as_deref(), Some("gzip"));
        assert_eq!(frames.len(), LONG_COUNT as usize);
        for (n, (flag, bytes)) in frames.into_iter().enumerate() {
            let n = n as i32;
            assert_eq!(flag, u8::from(!PLAIN.contains(&n)), "response {n}");
            let plain = if flag == 1 {
                let mut out = Vec::new();
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out).unwrap();
                out
            } else {
                bytes
            };
            let got = Msg::decode(&plain[..]).unwrap();
            let mut want = long_stream_message(n);
            want.text.push('!');
            assert_eq!(got, want, "response {n}");
        }
        server.stop(None).await;
    })
    .await;
}
