//! Per-message response compression as seen on the wire (read with a raw HTTP/2 client):
//! `disable_next_message_compression` leaves exactly the next response uncompressed, for
//! async handlers and for blocking ones whose worker runs ahead of the encoder.

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
    let mut flags = Vec::new();
    let mut rest = &bytes[..];
    while rest.len() >= 5 {
        flags.push(rest[0]);
        let len = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
        rest.advance(5 + len);
    }
    assert!(rest.is_empty(), "a truncated message on the wire");
    (flags, encoding)
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
