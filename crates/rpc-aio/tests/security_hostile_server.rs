//! A hostile server, played by `h2` as a raw HTTP/2 server: a `grpc-status-details-bin`
//! that is not base64 (which makes tonic 0.14 panic; found by the `status` fuzz target), in
//! a trailers-only response and in trailers, must give the client the status it carries.

use bytes::Bytes;
use rpc_aio::StatusCode;
use rpc_testkit::{Msg, SERVER_STREAM, UNARY, aio_channel, bounded, msg};

/// Serves every stream of every connection: headers (and trailers if `trailers`) carrying
/// grpc-status 3 and undecodable details.
async fn hostile_server(trailers: bool) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut conn = h2::server::handshake(tcp).await.unwrap();
                while let Some(Ok((_request, mut respond))) = conn.accept().await {
                    let mut status = http::HeaderMap::new();
                    status.insert("grpc-status", "3".parse().unwrap());
                    status.insert("grpc-message", "bad%20thing".parse().unwrap());
                    status.insert("grpc-status-details-bin", http::HeaderValue::from_bytes(b"{\xc2\x80").unwrap());
                    let mut head = http::Response::builder().status(200).header("content-type", "application/grpc");
                    if trailers {
                        let mut send = respond.send_response(head.body(()).unwrap(), false).unwrap();
                        let _ = send.send_data(Bytes::new(), false);
                        let _ = send.send_trailers(status);
                    } else {
                        for (k, v) in &status {
                            head = head.header(k, v);
                        }
                        let _ = respond.send_response(head.body(()).unwrap(), true);
                    }
                }
            });
        }
    });
    port
}

#[tokio::test]
async fn undecodable_status_details_give_the_status_not_a_panic() {
    for trailers in [false, true] {
        let port = hostile_server(trailers).await;
        let ch = aio_channel(&format!("127.0.0.1:{port}"));
        let err = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap_err();
        assert_eq!(err.code(), StatusCode::InvalidArgument, "trailers={trailers}: {err}");
        assert_eq!(err.details(), "bad thing");
        let mut stream = ch.unary_stream::<Msg, Msg>(SERVER_STREAM).call(msg("y"));
        let end = bounded(futures::StreamExt::next(&mut stream)).await;
        let err = end.expect("an item").unwrap_err();
        assert_eq!(err.code(), StatusCode::InvalidArgument, "trailers={trailers}: {err}");
    }
}
