//! The codegen contract: a stub generic over `rpc_core::codegen::Channel` driven by the
//! async channel, for all four kinds, `with_call` and `future`.

use futures::StreamExt;
use rpc_aio::codegen::{
    self, Channel as CodegenChannel, MethodDescriptor, MethodKind, StreamStreamCallable, StreamUnaryCallable, UnaryStreamCallable,
    UnaryUnaryCallable,
};
use rpc_aio::{ChannelOptions, IntoRequest, IntoStreamingRequest, StatusCode, insecure_channel};
use rpc_testkit::{BIDI, CLIENT_STREAM, Msg, SERVER_STREAM, TonicPeer, UNARY, bounded, msg};

static UNARY_M: MethodDescriptor = MethodDescriptor {
    service: "test.Svc",
    name: "Unary",
    path: UNARY,
    kind: MethodKind::UnaryUnary,
};
static SS_M: MethodDescriptor = MethodDescriptor {
    service: "test.Svc",
    name: "ServerStream",
    path: SERVER_STREAM,
    kind: MethodKind::UnaryStream,
};
static CS_M: MethodDescriptor = MethodDescriptor {
    service: "test.Svc",
    name: "ClientStream",
    path: CLIENT_STREAM,
    kind: MethodKind::StreamUnary,
};
static BIDI_M: MethodDescriptor = MethodDescriptor {
    service: "test.Svc",
    name: "Bidi",
    path: BIDI,
    kind: MethodKind::StreamStream,
};

/// What a generated stub looks like.
struct Stub<C>(C);

impl<C: CodegenChannel> Stub<C> {
    fn unary(&self, r: impl IntoRequest<Msg>) -> codegen::UnaryUnaryCall<C, Msg, Msg> {
        UnaryUnaryCallable::call(&self.0.unary_unary::<Msg, Msg>(&UNARY_M), r.into_request())
    }
    fn unary_with_call(&self, r: impl IntoRequest<Msg>) -> codegen::UnaryUnaryWithCall<C, Msg, Msg> {
        UnaryUnaryCallable::with_call(&self.0.unary_unary::<Msg, Msg>(&UNARY_M), r.into_request())
    }
    fn unary_future(&self, r: impl IntoRequest<Msg>) -> codegen::UnaryUnaryFuture<C, Msg, Msg> {
        UnaryUnaryCallable::future(&self.0.unary_unary::<Msg, Msg>(&UNARY_M), r.into_request())
    }
    fn server_stream(&self, r: impl IntoRequest<Msg>) -> codegen::UnaryStreamCall<C, Msg, Msg> {
        UnaryStreamCallable::call(&self.0.unary_stream::<Msg, Msg>(&SS_M), r.into_request())
    }
    fn client_stream(&self, r: impl IntoStreamingRequest<Msg>) -> codegen::StreamUnaryCall<C, Msg, Msg> {
        StreamUnaryCallable::call(&self.0.stream_unary::<Msg, Msg>(&CS_M), r.into_streaming_request())
    }
    fn client_stream_with_call(&self, r: impl IntoStreamingRequest<Msg>) -> codegen::StreamUnaryWithCall<C, Msg, Msg> {
        StreamUnaryCallable::with_call(&self.0.stream_unary::<Msg, Msg>(&CS_M), r.into_streaming_request())
    }
    fn bidi(&self, r: impl IntoStreamingRequest<Msg>) -> codegen::StreamStreamCall<C, Msg, Msg> {
        StreamStreamCallable::call(&self.0.stream_stream::<Msg, Msg>(&BIDI_M), r.into_streaming_request())
    }
}

#[tokio::test]
async fn a_generic_stub_works_with_the_async_channel() {
    let server = TonicPeer::start();
    let stub = Stub(insecure_channel(&server.target(), ChannelOptions::default()).unwrap());
    assert_eq!(bounded(stub.unary(msg("a"))).await.unwrap().text, "echo:a");
    let (resp, details) = bounded(stub.unary_with_call(msg("b"))).await.unwrap();
    assert_eq!((resp.text.as_str(), details.code()), ("echo:b", StatusCode::Ok));
    let fut = stub.unary_future(msg("c"));
    assert_eq!(bounded(fut.code()).await, StatusCode::Ok);
    assert_eq!(bounded(fut).await.unwrap().text, "echo:c");
    assert_eq!(bounded(stub.server_stream(Msg { n: 4, ..msg("") }).count()).await, 4);
    assert_eq!(bounded(stub.client_stream(vec![msg("x"), msg("y")])).await.unwrap().text, "x,y");
    let (resp, _) = bounded(stub.client_stream_with_call(vec![msg("z")])).await.unwrap();
    assert_eq!(resp.text, "z");
    let got: Vec<_> = bounded(stub.bidi(vec![msg("p")]).map(|r| r.unwrap().text).collect::<Vec<_>>()).await;
    assert_eq!(got, ["echo:p"]);
}

#[test]
fn public_types_are_send_and_sync() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<rpc_aio::Channel>();
    sync::<rpc_aio::Channel>();
    send::<rpc_aio::UnaryCall<Msg>>();
    sync::<rpc_aio::UnaryCall<Msg>>();
    send::<rpc_aio::UnaryStreamCall<Msg>>();
    send::<rpc_aio::StreamUnaryCall<Msg, Msg>>();
    send::<rpc_aio::StreamStreamCall<Msg, Msg>>();
    send::<rpc_aio::UnaryWithCall<Msg>>();
    send::<rpc_aio::RequestSender<Msg>>();
    send::<rpc_aio::UnaryUnaryMultiCallable<Msg, Msg>>();
    sync::<rpc_aio::UnaryUnaryMultiCallable<Msg, Msg>>();
}
