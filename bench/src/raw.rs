//! The raw tonic side, written the way a tonic user without codegen would: prost messages
//! derived by hand, a tower service routing on the path to `tonic::server::Grpc` with
//! `tonic_prost::ProstCodec`, and `tonic::client::Grpc` for calls by path.
//!
//! No protoc and no tonic-build: the two messages are five lines each, and the routing is a
//! `match` on the path. This is the yardstick, so it does nothing the facades are spared.

use futures::{Stream, StreamExt};
use http::uri::PathAndQuery;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use tonic::{Request, Response, Status, Streaming};

/// `bench.Payload`, by hand.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Payload {
    /// The body.
    #[prost(bytes = "vec", tag = "1")]
    pub body: Vec<u8>,
}

/// `bench.StreamRequest`, by hand.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct StreamRequest {
    /// How many messages to send.
    #[prost(uint32, tag = "1")]
    pub count: u32,
    /// The size of each.
    #[prost(uint32, tag = "2")]
    pub size: u32,
}

type BoxFuture<T> = Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>>;
type PayloadStream = Pin<Box<dyn Stream<Item = Result<Payload, Status>> + Send + 'static>>;

#[derive(Clone)]
struct CallSvc;
impl tonic::server::UnaryService<Payload> for CallSvc {
    type Response = Payload;
    type Future = BoxFuture<Result<Response<Payload>, Status>>;
    fn call(&mut self, req: Request<Payload>) -> Self::Future {
        Box::pin(async move { Ok(Response::new(req.into_inner())) })
    }
}

#[derive(Clone)]
struct StreamFromSvc;
impl tonic::server::ServerStreamingService<StreamRequest> for StreamFromSvc {
    type Response = Payload;
    type ResponseStream = PayloadStream;
    type Future = BoxFuture<Result<Response<PayloadStream>, Status>>;
    fn call(&mut self, req: Request<StreamRequest>) -> Self::Future {
        let StreamRequest { count, size } = req.into_inner();
        let body = vec![0u8; size as usize];
        let stream = futures::stream::iter((0..count).map(move |_| Ok(Payload { body: body.clone() })));
        Box::pin(async move { Ok(Response::new(Box::pin(stream) as PayloadStream)) })
    }
}

#[derive(Clone)]
struct EchoSvc;
impl tonic::server::StreamingService<Payload> for EchoSvc {
    type Response = Payload;
    type ResponseStream = PayloadStream;
    type Future = BoxFuture<Result<Response<PayloadStream>, Status>>;
    fn call(&mut self, req: Request<Streaming<Payload>>) -> Self::Future {
        let stream = req.into_inner();
        Box::pin(async move { Ok(Response::new(Box::pin(stream) as PayloadStream)) })
    }
}

#[derive(Clone)]
struct HoldSvc;
impl tonic::server::ServerStreamingService<Payload> for HoldSvc {
    type Response = Payload;
    type ResponseStream = PayloadStream;
    type Future = BoxFuture<Result<Response<PayloadStream>, Status>>;
    fn call(&mut self, req: Request<Payload>) -> Self::Future {
        let first = req.into_inner();
        let stream = futures::stream::iter([Ok(first)]).chain(futures::stream::pending());
        Box::pin(async move { Ok(Response::new(Box::pin(stream) as PayloadStream)) })
    }
}

/// The hand-routed `bench.Bench` service.
#[derive(Clone, Default)]
pub struct BenchService;

impl tonic::server::NamedService for BenchService {
    const NAME: &'static str = "bench.Bench";
}

fn grpc<Req: prost::Message + Default + 'static>() -> tonic::server::Grpc<tonic_prost::ProstCodec<Payload, Req>> {
    tonic::server::Grpc::new(tonic_prost::ProstCodec::default()).max_decoding_message_size(4 * 1024 * 1024)
}

impl tower::Service<http::Request<tonic::body::Body>> for BenchService {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }
    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        Box::pin(async move {
            Ok(match req.uri().path() {
                crate::CALL_PATH => grpc::<Payload>().unary(CallSvc, req).await,
                crate::STREAM_FROM_PATH => grpc::<StreamRequest>().server_streaming(StreamFromSvc, req).await,
                crate::ECHO_PATH => grpc::<Payload>().streaming(EchoSvc, req).await,
                crate::HOLD_PATH => grpc::<Payload>().server_streaming(HoldSvc, req).await,
                _ => Status::unimplemented("no such method").into_http(),
            })
        })
    }
}

/// Serves the raw tonic side on `listener` until the future is dropped. Same settings as
/// the rpc servers where they differ from tonic's: at most 1024 streams per connection.
/// TCP_NODELAY as `Server::serve(addr)` sets it (tonic's default): `serve_with_incoming`
/// ignores the builder's setting, and without it Nagle's algorithm and delayed ACKs held
/// 1 KiB and 64 KiB responses for ~40 ms.
pub async fn serve(listener: tokio::net::TcpListener) -> Result<(), tonic::transport::Error> {
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    tonic::transport::Server::builder()
        .max_concurrent_streams(1024)
        .add_service(BenchService)
        .serve_with_incoming(incoming)
        .await
}

/// A raw tonic client on one connection.
#[derive(Clone)]
pub struct Client {
    grpc: tonic::client::Grpc<tonic::transport::Channel>,
}

impl Client {
    /// Connects one HTTP/2 connection to `target` (`host:port`).
    pub async fn connect(target: &str) -> Result<Client, tonic::transport::Error> {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{target}"))?
            .connect()
            .await?;
        Ok(Client {
            grpc: tonic::client::Grpc::new(channel),
        })
    }

    async fn ready(&mut self) -> Result<(), Status> {
        self.grpc.ready().await.map_err(|e| Status::unavailable(e.to_string()))
    }

    /// `Call`: one unary echo.
    pub async fn call(&mut self, payload: Payload) -> Result<Payload, Status> {
        self.ready().await?;
        let codec = tonic_prost::ProstCodec::<Payload, Payload>::default();
        let resp = self
            .grpc
            .unary(Request::new(payload), PathAndQuery::from_static(crate::CALL_PATH), codec)
            .await?;
        Ok(resp.into_inner())
    }

    /// `StreamFrom`: the response stream.
    pub async fn stream_from(&mut self, request: StreamRequest) -> Result<Streaming<Payload>, Status> {
        self.ready().await?;
        let codec = tonic_prost::ProstCodec::<StreamRequest, Payload>::default();
        let path = PathAndQuery::from_static(crate::STREAM_FROM_PATH);
        Ok(self.grpc.server_streaming(Request::new(request), path, codec).await?.into_inner())
    }

    /// `Echo`: sends `requests`, returns the echoes.
    pub async fn echo(&mut self, requests: impl Stream<Item = Payload> + Send + 'static) -> Result<Streaming<Payload>, Status> {
        self.ready().await?;
        let codec = tonic_prost::ProstCodec::<Payload, Payload>::default();
        let path = PathAndQuery::from_static(crate::ECHO_PATH);
        Ok(self.grpc.streaming(Request::new(requests), path, codec).await?.into_inner())
    }

    /// `Hold`: the response stream (its first message comes at once, then nothing until dropped).
    pub async fn hold(&mut self) -> Result<Streaming<Payload>, Status> {
        self.ready().await?;
        let codec = tonic_prost::ProstCodec::<Payload, Payload>::default();
        let path = PathAndQuery::from_static(crate::HOLD_PATH);
        Ok(self
            .grpc
            .server_streaming(Request::new(Payload::default()), path, codec)
            .await?
            .into_inner())
    }
}

/// The bytes of one gRPC request message on the wire: the 5-byte prefix (uncompressed,
/// big-endian length) and the encoded `Payload` with a body of `size` bytes. For h2load.
pub fn framed_request(size: usize) -> Vec<u8> {
    let body = prost::Message::encode_to_vec(&Payload { body: vec![0u8; size] });
    let mut out = Vec::with_capacity(5 + body.len());
    out.push(0);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    out
}
