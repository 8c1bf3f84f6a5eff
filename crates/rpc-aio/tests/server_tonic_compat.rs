//! Wire compatibility with plain tonic, both ways: a plain tonic client calls an rpc-aio
//! server (four kinds, metadata, status), and the rpc-aio client calls a plain tonic server.

use futures::StreamExt;
use http::uri::PathAndQuery;
use rpc_aio::{Metadata, RequestStream, ResponseStream, RpcError, ServerOptions, ServicerContext, StatusCode};
use rpc_testkit::{BIDI, CLIENT_STREAM, Msg, SERVER_STREAM, TonicPeer, UNARY, aio_channel, bounded, msg, serve_aio};
use tonic::metadata::{MetadataMap, MetadataValue};

type Client = tonic::client::Grpc<tonic::transport::Channel>;

fn codec() -> tonic_prost::ProstCodec<Msg, Msg> {
    tonic_prost::ProstCodec::default()
}

/// Echo handlers of all four kinds that echo `x-user` (and `x-data-bin`) back as initial
/// metadata, set a trailer, and fail with the code in `x-fail` if there is one.
async fn rpc_aio_server() -> (rpc_aio::Server, String) {
    fn headers(ctx: &ServicerContext) -> Result<(), RpcError> {
        let md = ctx.invocation_metadata();
        let mut out = Metadata::new();
        if let Some(v) = md.get("x-user") {
            out.add("x-echo", v.clone())?;
        }
        if let Some(v) = md.get("x-data-bin") {
            out.add("x-echo-bin", v.clone())?;
        }
        ctx.send_initial_metadata(out)?;
        ctx.add_trailing_metadata("x-trail", "t")?;
        if let Some(code) = md.get_str("x-fail").and_then(|s| s.parse().ok()) {
            return Err(ctx.abort(StatusCode::from_i32(code), "failed on request"));
        }
        Ok(())
    }
    serve_aio(ServerOptions::default(), |s| {
        s.add_method_handler(
            UNARY,
            rpc_aio::unary_unary_rpc_method_handler(|m: Msg, ctx: ServicerContext| async move {
                headers(&ctx)?;
                Ok(msg(&format!("echo:{}", m.text)))
            }),
        );
        s.add_method_handler(
            SERVER_STREAM,
            rpc_aio::unary_stream_rpc_method_handler(|m: Msg, ctx: ServicerContext| async move {
                headers(&ctx)?;
                Ok(ResponseStream::from_messages((0..m.n).map(|i| Msg { n: i, ..msg("") })))
            }),
        );
        s.add_method_handler(
            CLIENT_STREAM,
            rpc_aio::stream_unary_rpc_method_handler(|s: RequestStream<Msg>, ctx: ServicerContext| async move {
                headers(&ctx)?;
                let texts: Vec<String> = s
                    .map(|r| r.map(|m| m.text))
                    .collect::<Vec<_>>()
                    .await
                    .into_iter()
                    .collect::<Result<_, _>>()?;
                Ok(msg(&texts.join(",")))
            }),
        );
        s.add_method_handler(
            BIDI,
            rpc_aio::stream_stream_rpc_method_handler(|s: RequestStream<Msg>, ctx: ServicerContext| async move {
                headers(&ctx)?;
                Ok(ResponseStream::new(s.map(|r| r.map(|m| msg(&format!("echo:{}", m.text))))))
            }),
        );
    })
    .await
}

async fn tonic_client(target: &str) -> Client {
    let ch = tonic::transport::Endpoint::from_shared(format!("http://{target}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    tonic::client::Grpc::new(ch)
}

fn with_metadata<T>(message: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    req.metadata_mut().insert("x-user", "ada".parse().unwrap());
    req.metadata_mut().insert_bin("x-data-bin", MetadataValue::from_bytes(&[0, 1, 255]));
    req
}

fn assert_echoed(md: &MetadataMap) {
    assert_eq!(md.get("x-echo").and_then(|v| v.to_str().ok()), Some("ada"), "{md:?}");
    assert_eq!(
        md.get_bin("x-echo-bin").map(|v| v.to_bytes().unwrap().to_vec()),
        Some(vec![0, 1, 255])
    );
}

#[tokio::test]
async fn a_plain_tonic_client_calls_an_rpc_aio_server() {
    let (server, target) = rpc_aio_server().await;
    let mut client = tonic_client(&target).await;

    client.ready().await.unwrap();
    let resp = bounded(client.unary(with_metadata(msg("hi")), PathAndQuery::from_static(UNARY), codec()))
        .await
        .unwrap();
    assert_echoed(resp.metadata());
    assert_eq!(resp.get_ref().text, "echo:hi");

    client.ready().await.unwrap();
    let resp = bounded(client.server_streaming(
        with_metadata(Msg { n: 3, ..msg("") }),
        PathAndQuery::from_static(SERVER_STREAM),
        codec(),
    ))
    .await
    .unwrap();
    assert_echoed(resp.metadata());
    let mut stream = resp.into_inner();
    let mut got = Vec::new();
    while let Some(m) = bounded(stream.message()).await.unwrap() {
        got.push(m.n);
    }
    assert_eq!(got, vec![0, 1, 2]);
    let trailers = bounded(stream.trailers()).await.unwrap().unwrap();
    assert_eq!(trailers.get("x-trail").and_then(|v| v.to_str().ok()), Some("t"));

    client.ready().await.unwrap();
    let requests = futures::stream::iter(vec![msg("a"), msg("b")]);
    let resp = bounded(client.client_streaming(with_metadata(requests), PathAndQuery::from_static(CLIENT_STREAM), codec()))
        .await
        .unwrap();
    assert_echoed(resp.metadata());
    assert_eq!(resp.get_ref().text, "a,b");

    client.ready().await.unwrap();
    let requests = futures::stream::iter(vec![msg("x"), msg("y")]);
    let resp = bounded(client.streaming(with_metadata(requests), PathAndQuery::from_static(BIDI), codec()))
        .await
        .unwrap();
    assert_echoed(resp.metadata());
    let got: Vec<String> = bounded(resp.into_inner().map(|r| r.unwrap().text).collect()).await;
    assert_eq!(got, vec!["echo:x", "echo:y"]);

    // Status, details and trailers of a failure.
    client.ready().await.unwrap();
    let mut req = with_metadata(msg("x"));
    req.metadata_mut().insert("x-fail", "7".parse().unwrap());
    let status = bounded(client.unary(req, PathAndQuery::from_static(UNARY), codec()))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (tonic::Code::PermissionDenied, "failed on request")
    );
    assert_eq!(status.metadata().get("x-trail").and_then(|v| v.to_str().ok()), Some("t"));

    // And UNIMPLEMENTED for an unknown method.
    client.ready().await.unwrap();
    let status = bounded(client.unary(tonic::Request::new(msg("x")), PathAndQuery::from_static("/test.Svc/Nope"), codec()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unimplemented);
    server.stop(None).await;
}

#[tokio::test]
async fn the_rpc_aio_client_calls_a_plain_tonic_server() {
    // The client test suite (client_*.rs) runs against this plain tonic server throughout;
    // this test names the direction.
    let server = TonicPeer::start();
    let ch = aio_channel(&server.target());
    let md = Metadata::new().with("x-user", "bob").unwrap();
    let call = ch
        .unary_unary::<Msg, Msg>(UNARY)
        .call(rpc_aio::Request::new(msg("hi")).metadata(md));
    assert_eq!(bounded(call.initial_metadata()).await.unwrap().get_str("x-echo"), Some("bob"));
    assert_eq!(bounded(call).await.unwrap().text, "echo:hi");
    let got: Vec<i32> = bounded(
        ch.unary_stream::<Msg, Msg>(SERVER_STREAM)
            .call(Msg { n: 2, ..msg("") })
            .map(|r| r.unwrap().n)
            .collect(),
    )
    .await;
    assert_eq!(got, vec![0, 1]);
    assert_eq!(
        bounded(ch.stream_unary::<Msg, Msg>(CLIENT_STREAM).call(vec![msg("a"), msg("b")]))
            .await
            .unwrap()
            .text,
        "a,b"
    );
    let got: Vec<String> = bounded(
        ch.stream_stream::<Msg, Msg>(BIDI)
            .call(vec![msg("q")])
            .map(|r| r.unwrap().text)
            .collect(),
    )
    .await;
    assert_eq!(got, vec!["echo:q"]);
    let md = Metadata::new().with("x-fail", "5").unwrap();
    let err = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(rpc_aio::Request::new(msg("x")).metadata(md)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), StatusCode::NotFound);
}
