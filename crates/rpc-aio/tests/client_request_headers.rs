//! The HTTP/2 request a unary call puts on the wire, as a raw h2 server sees it: the gRPC
//! headers, the caller's metadata, and nothing gRPC does not use (no `content-length`,
//! which would be a header to encode on every call and for every server to check).

use bytes::Bytes;
use prost::Message;
use rpc_aio::{ChannelOptions, Metadata, Request, insecure_channel};
use rpc_testkit::{Msg, bounded, msg};

/// Serves one call on `listener` with raw h2: answers `echo` and hands back the request's
/// headers and body.
async fn one_call(listener: tokio::net::TcpListener) -> (http::request::Parts, Bytes) {
    let (tcp, _) = listener.accept().await.unwrap();
    let mut conn = h2::server::handshake(tcp).await.unwrap();
    let (request, mut respond) = conn.accept().await.unwrap().unwrap();
    tokio::spawn(async move { while conn.accept().await.is_some() {} });
    let (parts, mut body) = request.into_parts();
    let mut got = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        let _ = body.flow_control().release_capacity(chunk.len());
        got.extend_from_slice(&chunk);
    }
    let response = http::Response::builder()
        .header("content-type", "application/grpc")
        .body(())
        .unwrap();
    let mut send = respond.send_response(response, false).unwrap();
    let reply = msg("echo").encode_to_vec();
    let mut frame = vec![0u8];
    frame.extend_from_slice(&(reply.len() as u32).to_be_bytes());
    frame.extend_from_slice(&reply);
    send.send_data(Bytes::from(frame), false).unwrap();
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
    send.send_trailers(trailers).unwrap();
    (parts, Bytes::from(got))
}

#[tokio::test]
async fn a_unary_request_carries_the_grpc_headers_and_no_content_length() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = listener.local_addr().unwrap().to_string();
    let server = tokio::spawn(one_call(listener));
    let ch = insecure_channel(&target, ChannelOptions::default()).unwrap();
    let request = Request::new(msg("hi")).metadata(Metadata::new().with("x-user", "ada").unwrap());
    let reply = bounded(ch.unary_unary::<Msg, Msg>("/test.Svc/Unary").call(request)).await.unwrap();
    assert_eq!(reply.text, "echo");
    let (parts, body) = bounded(server).await.unwrap();

    assert_eq!(parts.method, http::Method::POST);
    assert_eq!(parts.uri.path(), "/test.Svc/Unary");
    let h = &parts.headers;
    assert_eq!(h.get("content-type").unwrap(), "application/grpc");
    assert_eq!(h.get("te").unwrap(), "trailers");
    assert!(h.get("grpc-accept-encoding").is_some(), "{h:?}");
    assert!(h.get("user-agent").unwrap().to_str().unwrap().contains("rpc"), "{h:?}");
    assert_eq!(h.get("x-user").unwrap(), "ada");
    assert!(h.get("content-length").is_none(), "a gRPC request needs no content-length: {h:?}");
    assert!(h.get("grpc-timeout").is_none(), "no deadline was set: {h:?}");
    // One uncompressed message frame: flag, length, the encoded request.
    let sent = msg("hi").encode_to_vec();
    assert_eq!(body[0], 0);
    assert_eq!(u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize, sent.len());
    assert_eq!(&body[5..], &sent[..]);
}
