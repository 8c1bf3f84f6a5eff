//! Codecs beyond prost, client and server, both faces, on 127.0.0.1: a raw-bytes codec
//! passes payloads untouched (bytes that are no protobuf at all), closure codecs
//! (gRPC Python's `request_serializer` / `response_deserializer`) shape the messages, and
//! their errors fail the call or the RPC with a status, not a panic.

use rpc_core::codec::{self, Bytes, BytesCodec};
use rpc_core::codegen::MethodHandler;
use rpc_core::{ChannelOptions, RequestIterator, RequestStream, ResponseIterator, ResponseStream, RpcError, ServerOptions, StatusCode};
use std::sync::Arc;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(20);
/// Not a protobuf message: a prost decoder would refuse it.
const RAW: &[u8] = b"\xff\xff\xff\x00 raw";

/// Text as UTF-8, refusing text that asks to be refused (client) and bytes that are not UTF-8.
fn text_codec() -> impl codec::Encoder<String> + codec::Decoder<String> + Clone {
    codec::from_fns(
        |s: String| {
            if s == "refuse" {
                Err(RpcError::invalid_argument("refused to serialize"))
            } else {
                Ok(Bytes::from(s))
            }
        },
        |b: Bytes| String::from_utf8(b.to_vec()).map_err(|_| RpcError::data_loss("not UTF-8")),
    )
}

/// `/t.Text/Upper` (unary, async, closure codec), `/t.Text/Words` (server streaming,
/// blocking, closure codec), `/t.Text/Join` (client streaming, blocking) and every other
/// path echoed raw by a generic handler.
fn register(
    server_add: impl Fn(&str, rpc_aio::RpcMethodHandler),
    add_generic: impl FnOnce(rpc_aio::GenericRpcHandler),
    blocking_echo: bool,
) {
    let upper = MethodHandler::<String, String>::AsyncUnaryUnary(Arc::new(|s: String, _| Box::pin(async move { Ok(s.to_uppercase()) })));
    server_add("/t.Text/Upper", rpc_aio::RpcMethodHandler::with_codec(upper, text_codec()));
    let words = MethodHandler::<String, String>::BlockingUnaryStream(Arc::new(|s: String, _: &_| {
        Ok(ResponseIterator::from_messages(s.split(' ').map(str::to_owned).collect::<Vec<_>>()))
    }));
    server_add("/t.Text/Words", rpc_aio::RpcMethodHandler::with_codec(words, text_codec()));
    let join = MethodHandler::<String, String>::BlockingStreamUnary(Arc::new(|parts: RequestIterator<String>, _: &_| {
        parts.collect::<Result<Vec<_>, _>>().map(|p| p.join("+"))
    }));
    server_add("/t.Text/Join", rpc_aio::RpcMethodHandler::with_codec(join, text_codec()));
    add_generic(if blocking_echo {
        rpc_sync::raw_generic_rpc_handler(|requests: RequestIterator<Bytes>, _context: &_| Ok(ResponseIterator::new(requests)))
    } else {
        rpc_aio::raw_generic_rpc_handler(|requests: RequestStream<Bytes>, _context| async move { Ok(ResponseStream::new(requests)) })
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_clients_with_codecs_against_an_async_server() {
    let server = rpc_aio::server(ServerOptions::default());
    register(
        |p, h| server.add_method_handler(p, h),
        |g| server.add_generic_rpc_handlers([g]),
        false,
    );
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().await.unwrap();
    let channel = rpc_aio::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();

    let upper = channel.unary_unary_with_codec::<String, String, _>("/t.Text/Upper", text_codec());
    assert_eq!(upper.call("shout".to_owned()).await.unwrap(), "SHOUT");
    let refused = upper.call("refuse".to_owned()).await.unwrap_err();
    assert_eq!(refused.code(), StatusCode::InvalidArgument);
    assert_eq!(refused.details(), "refused to serialize");

    // Raw bytes to a closure-codec handler: its deserializer refuses, the RPC is INTERNAL.
    let upper_raw = channel.unary_unary_with_codec::<Bytes, Bytes, _>("/t.Text/Upper", BytesCodec);
    let error = upper_raw.call(Bytes::from_static(RAW)).await.unwrap_err();
    assert_eq!(error.code(), StatusCode::Internal);
    assert!(error.details().contains("not UTF-8"), "{error:?}");

    // The raw echo of the generic handler, every kind: bytes back untouched.
    let echo = channel.unary_unary_with_codec::<Bytes, Bytes, _>("/any.Thing/AtAll", BytesCodec);
    assert_eq!(echo.call(Bytes::from_static(RAW)).await.unwrap(), RAW);
    let mut bidi = channel
        .stream_stream_with_codec::<Bytes, Bytes, _>("/other.Path/Bidi", BytesCodec)
        .call(vec![Bytes::from_static(b"one"), Bytes::from_static(RAW)]);
    assert_eq!(bidi.read().await.unwrap().unwrap(), &b"one"[..]);
    assert_eq!(bidi.read().await.unwrap().unwrap(), RAW);
    assert!(bidi.read().await.unwrap().is_none());

    // A response the client's deserializer refuses: the call fails INTERNAL.
    let echo_text = channel.unary_unary_with_codec::<Bytes, String, _>(
        "/any.Thing/AtAll",
        codec::from_fns(
            |b: Bytes| Ok(b),
            |b: Bytes| String::from_utf8(b.to_vec()).map_err(|_| RpcError::data_loss("not UTF-8")),
        ),
    );
    assert_eq!(
        echo_text.call(Bytes::from_static(RAW)).await.unwrap_err().code(),
        StatusCode::Internal
    );

    let mut words = channel
        .unary_stream_with_codec::<String, String, _>("/t.Text/Words", text_codec())
        .call("a b c".to_owned());
    let mut got = Vec::new();
    while let Some(word) = words.read().await.unwrap() {
        got.push(word);
    }
    assert_eq!(got, ["a", "b", "c"]);
    let joined = channel
        .stream_unary_with_codec::<String, String, _>("/t.Text/Join", text_codec())
        .call(vec!["x".to_owned(), "y".to_owned()])
        .await
        .unwrap();
    assert_eq!(joined, "x+y");
    server.stop(None).await;
}

#[test]
fn blocking_clients_with_codecs_against_a_blocking_server() {
    let server = rpc_sync::server(ServerOptions::default()).unwrap();
    register(
        |p, h| server.add_method_handler(p, h),
        |g| server.add_generic_rpc_handlers([g]),
        true,
    );
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().unwrap();
    let channel = rpc_sync::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();

    let upper = channel.unary_unary_with_codec::<String, String, _>("/t.Text/Upper", text_codec());
    assert_eq!(upper.call("shout".to_owned()).unwrap(), "SHOUT");
    assert_eq!(upper.call("refuse".to_owned()).unwrap_err().code(), StatusCode::InvalidArgument);
    let upper_raw = channel.unary_unary_with_codec::<Bytes, Bytes, _>("/t.Text/Upper", BytesCodec);
    assert_eq!(upper_raw.call(Bytes::from_static(RAW)).unwrap_err().code(), StatusCode::Internal);

    let echo = channel.unary_unary_with_codec::<Bytes, Bytes, _>("/any.Thing/AtAll", BytesCodec);
    assert_eq!(echo.call(Bytes::from_static(RAW)).unwrap(), RAW);
    let back: Vec<Bytes> = channel
        .stream_stream_with_codec::<Bytes, Bytes, _>("/other.Path/Bidi", BytesCodec)
        .call(vec![Bytes::from_static(b"one"), Bytes::from_static(RAW)])
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(back, [Bytes::from_static(b"one"), Bytes::from_static(RAW)]);

    let words: Vec<String> = channel
        .unary_stream_with_codec::<String, String, _>("/t.Text/Words", text_codec())
        .call("a b".to_owned())
        .map(|w| w.unwrap())
        .collect();
    assert_eq!(words, ["a", "b"]);
    let joined = channel
        .stream_unary_with_codec::<String, String, _>("/t.Text/Join", text_codec())
        .call(vec!["x".to_owned(), "y".to_owned()])
        .unwrap();
    assert_eq!(joined, "x+y");
    server.stop(None).wait(Some(TIMEOUT));
}
