//! A plain tonic test server (hand-routed, prost messages written by hand) for client tests.
#![allow(dead_code)]

use futures::Stream;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tonic::codec::CompressionEncoding;
type BoxFuture<T, E> = Pin<Box<dyn std::future::Future<Output = Result<T, E>> + Send + 'static>>;
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status, Streaming};

/// The one message type of the test service.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Msg {
    #[prost(string, tag = "1")]
    pub text: String,
    #[prost(bytes = "vec", tag = "2")]
    pub payload: Vec<u8>,
    #[prost(int32, tag = "3")]
    pub n: i32,
}

pub fn msg(text: &str) -> Msg {
    Msg {
        text: text.to_owned(),
        payload: Vec::new(),
        n: 0,
    }
}

pub const UNARY: &str = "/test.Svc/Unary";
pub const SERVER_STREAM: &str = "/test.Svc/ServerStream";
pub const CLIENT_STREAM: &str = "/test.Svc/ClientStream";
pub const BIDI: &str = "/test.Svc/Bidi";

/// What the server saw.
#[derive(Default, Debug)]
pub struct Seen {
    pub calls: AtomicUsize,
    pub cancelled: AtomicUsize,
    pub last_headers: Mutex<Option<MetadataMap>>,
    pub cancel_notify: tokio::sync::Notify,
}

impl Seen {
    pub fn header(&self, key: &str) -> Option<String> {
        let h = self.last_headers.lock().unwrap();
        h.as_ref()?.get(key).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
    pub fn cancelled(&self) -> usize {
        self.cancelled.load(Ordering::SeqCst)
    }
    fn record<T>(&self, req: &Request<T>) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        *self.last_headers.lock().unwrap() = Some(req.metadata().clone());
    }
}

/// Counts a cancellation when dropped before `disarm`.
struct CancelGuard(Option<Arc<Seen>>);
impl CancelGuard {
    fn disarm(mut self) {
        self.0 = None;
    }
}
impl Drop for CancelGuard {
    fn drop(&mut self) {
        if let Some(s) = self.0.take() {
            s.cancelled.fetch_add(1, Ordering::SeqCst);
            s.cancel_notify.notify_waiters();
        }
    }
}

fn behaviour(md: &MetadataMap) -> Result<(), Status> {
    if let Some(code) = md.get("x-fail").and_then(|v| v.to_str().ok()).and_then(|s| s.parse::<i32>().ok()) {
        let mut trailers = MetadataMap::new();
        trailers.insert("x-why", "because".parse().unwrap());
        trailers.insert_bin("x-why-bin", tonic::metadata::MetadataValue::from_bytes(&[0, 1, 2, 255]));
        return Err(Status::with_metadata(tonic::Code::from_i32(code), "failed on request", trailers));
    }
    Ok(())
}

fn sleep_ms(md: &MetadataMap) -> Option<u64> {
    md.get("x-sleep-ms").and_then(|v| v.to_str().ok()).and_then(|s| s.parse().ok())
}

fn echo_headers(req_md: &MetadataMap, resp_md: &mut MetadataMap) {
    if let Some(v) = req_md.get("x-user") {
        resp_md.insert("x-echo", v.clone());
    }
    if let Some(v) = req_md.get_bin("x-data-bin") {
        resp_md.insert_bin("x-echo-bin", v.clone());
    }
    if let Some(v) = req_md.get("authorization") {
        resp_md.insert("x-auth", v.clone());
    }
}

#[derive(Clone)]
struct UnarySvc(Arc<Seen>);
impl tonic::server::UnaryService<Msg> for UnarySvc {
    type Response = Msg;
    type Future = BoxFuture<Response<Msg>, Status>;
    fn call(&mut self, req: Request<Msg>) -> Self::Future {
        let seen = self.0.clone();
        Box::pin(async move {
            seen.record(&req);
            behaviour(req.metadata())?;
            if let Some(ms) = sleep_ms(req.metadata()) {
                let guard = CancelGuard(Some(seen.clone()));
                tokio::time::sleep(Duration::from_millis(ms)).await;
                guard.disarm();
            }
            let mut md = MetadataMap::new();
            echo_headers(req.metadata(), &mut md);
            let m = req.into_inner();
            let reply = Msg {
                text: format!("echo:{}", m.text),
                payload: vec![7u8; m.n.max(0) as usize],
                n: m.n,
            };
            let mut resp = Response::new(reply);
            *resp.metadata_mut() = md;
            Ok(resp)
        })
    }
}

type MsgStream = Pin<Box<dyn Stream<Item = Result<Msg, Status>> + Send>>;

/// A stream that counts a cancellation if dropped before its end.
struct Tracked {
    inner: MsgStream,
    guard: Option<CancelGuard>,
}
impl Stream for Tracked {
    type Item = Result<Msg, Status>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let r = self.inner.as_mut().poll_next(cx);
        if let Poll::Ready(None) = r
            && let Some(g) = self.guard.take()
        {
            g.disarm();
        }
        r
    }
}

#[derive(Clone)]
struct ServerStreamSvc(Arc<Seen>);
impl tonic::server::ServerStreamingService<Msg> for ServerStreamSvc {
    type Response = Msg;
    type ResponseStream = Tracked;
    type Future = BoxFuture<Response<Tracked>, Status>;
    fn call(&mut self, req: Request<Msg>) -> Self::Future {
        let seen = self.0.clone();
        Box::pin(async move {
            seen.record(&req);
            behaviour(req.metadata())?;
            let mut md = MetadataMap::new();
            echo_headers(req.metadata(), &mut md);
            let n = req.get_ref().n;
            let fail_after = req.metadata().get("x-fail-after").is_some();
            let inner: MsgStream = if n < 0 {
                Box::pin(futures::stream::unfold(0, |i| async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Some((
                        Ok(Msg {
                            text: format!("{i}"),
                            payload: vec![],
                            n: i,
                        }),
                        i + 1,
                    ))
                }))
            } else {
                let items = (0..n).map(|i| {
                    Ok(Msg {
                        text: format!("{i}"),
                        payload: vec![],
                        n: i,
                    })
                });
                let tail = fail_after.then(|| Err(Status::aborted("stream aborted")));
                Box::pin(futures::stream::iter(items.chain(tail)))
            };
            let mut resp = Response::new(Tracked {
                inner,
                guard: Some(CancelGuard(Some(seen))),
            });
            *resp.metadata_mut() = md;
            Ok(resp)
        })
    }
}

#[derive(Clone)]
struct ClientStreamSvc(Arc<Seen>);
impl tonic::server::ClientStreamingService<Msg> for ClientStreamSvc {
    type Response = Msg;
    type Future = BoxFuture<Response<Msg>, Status>;
    fn call(&mut self, req: Request<Streaming<Msg>>) -> Self::Future {
        let seen = self.0.clone();
        Box::pin(async move {
            seen.record(&req);
            behaviour(req.metadata())?;
            let mut s = req.into_inner();
            let mut texts = Vec::new();
            let guard = CancelGuard(Some(seen.clone()));
            while let Some(m) = s.message().await? {
                texts.push(m.text);
            }
            guard.disarm();
            Ok(Response::new(Msg {
                text: texts.join(","),
                payload: vec![],
                n: texts.len() as i32,
            }))
        })
    }
}

#[derive(Clone)]
struct BidiSvc(Arc<Seen>);
impl tonic::server::StreamingService<Msg> for BidiSvc {
    type Response = Msg;
    type ResponseStream = Tracked;
    type Future = BoxFuture<Response<Tracked>, Status>;
    fn call(&mut self, req: Request<Streaming<Msg>>) -> Self::Future {
        let seen = self.0.clone();
        Box::pin(async move {
            seen.record(&req);
            let s = req.into_inner();
            let inner: MsgStream = Box::pin(futures::StreamExt::map(s, |r| {
                r.map(|m| Msg {
                    text: format!("echo:{}", m.text),
                    ..m
                })
            }));
            Ok(Response::new(Tracked {
                inner,
                guard: Some(CancelGuard(Some(seen))),
            }))
        })
    }
}

/// The hand-routed service.
#[derive(Clone)]
pub struct TestService(pub Arc<Seen>);

impl tonic::server::NamedService for TestService {
    const NAME: &'static str = "test.Svc";
}

fn grpc() -> tonic::server::Grpc<tonic_prost::ProstCodec<Msg, Msg>> {
    tonic::server::Grpc::new(tonic_prost::ProstCodec::default())
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(64 * 1024 * 1024)
}

impl tower::Service<http::Request<tonic::body::Body>> for TestService {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }
    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        let seen = self.0.clone();
        Box::pin(async move {
            let resp = match req.uri().path() {
                UNARY => grpc().unary(UnarySvc(seen), req).await,
                SERVER_STREAM => grpc().server_streaming(ServerStreamSvc(seen), req).await,
                CLIENT_STREAM => grpc().client_streaming(ClientStreamSvc(seen), req).await,
                BIDI => grpc().streaming(BidiSvc(seen), req).await,
                _ => Status::unimplemented("no such method").into_http(),
            };
            Ok(resp)
        })
    }
}

/// A running test server.
pub struct TestServer {
    pub addr: std::net::SocketAddr,
    pub seen: Arc<Seen>,
    pub task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    pub fn target(&self) -> String {
        format!("127.0.0.1:{}", self.addr.port())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves on `listener`.
pub fn serve_on(listener: tokio::net::TcpListener) -> TestServer {
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let svc = TestService(seen.clone());
    let task = tokio::spawn(async move {
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
        let _ = tonic::transport::Server::builder()
            .add_service(svc)
            .serve_with_incoming(incoming)
            .await;
    });
    TestServer { addr, seen, task }
}

/// Serves the test service on a Unix socket listener; returns the server task and what it saw.
pub fn serve_unix(listener: tokio::net::UnixListener) -> (tokio::task::JoinHandle<()>, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let svc = TestService(seen.clone());
    let task = tokio::spawn(async move {
        let incoming = tokio_stream::wrappers::UnixListenerStream::new(listener);
        let _ = tonic::transport::Server::builder()
            .add_service(svc)
            .serve_with_incoming(incoming)
            .await;
    });
    (task, seen)
}

/// Starts a server on 127.0.0.1 with a free port.
pub async fn start() -> TestServer {
    serve_on(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())
}

/// A port nothing listens on (bound, then released).
pub async fn free_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

/// Hang guard for tests.
pub async fn guard<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), f).await.expect("test hung")
}

// ---- helpers for the rpc-aio server tests ----

use rpc_aio::codegen::MethodHandler;
use rpc_aio::{RequestIterator, ResponseIterator, RpcError, RpcMethodHandler, Server, ServerOptions, ServicerContext};

/// A message whose field 1 is bytes: with invalid UTF-8 it does not decode as a `Msg`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Raw {
    #[prost(bytes = "vec", tag = "1")]
    pub text: Vec<u8>,
}

/// A blocking unary-unary handler.
pub fn blocking_unary(f: impl Fn(Msg, &ServicerContext) -> Result<Msg, RpcError> + Send + Sync + 'static) -> RpcMethodHandler {
    RpcMethodHandler::new(MethodHandler::BlockingUnaryUnary(Arc::new(f)))
}

/// A blocking unary-stream handler.
pub fn blocking_unary_stream(
    f: impl Fn(Msg, &ServicerContext) -> Result<ResponseIterator<Msg>, RpcError> + Send + Sync + 'static,
) -> RpcMethodHandler {
    RpcMethodHandler::new(MethodHandler::BlockingUnaryStream(Arc::new(f)))
}

/// A blocking stream-unary handler.
pub fn blocking_stream_unary(
    f: impl Fn(RequestIterator<Msg>, &ServicerContext) -> Result<Msg, RpcError> + Send + Sync + 'static,
) -> RpcMethodHandler {
    RpcMethodHandler::new(MethodHandler::BlockingStreamUnary(Arc::new(f)))
}

/// A blocking stream-stream handler.
pub fn blocking_stream_stream(
    f: impl Fn(RequestIterator<Msg>, &ServicerContext) -> Result<ResponseIterator<Msg>, RpcError> + Send + Sync + 'static,
) -> RpcMethodHandler {
    RpcMethodHandler::new(MethodHandler::BlockingStreamStream(Arc::new(f)))
}

/// An async unary-unary handler that echoes `echo:<text>`.
pub fn echo_handler() -> RpcMethodHandler {
    rpc_aio::unary_unary_rpc_method_handler(|m: Msg, _ctx| async move {
        Ok::<_, RpcError>(Msg {
            text: format!("echo:{}", m.text),
            ..m
        })
    })
}

/// An rpc-aio server with `register`ed handlers, started on 127.0.0.1; returns it and its target.
pub async fn serve_aio(options: ServerOptions, register: impl FnOnce(&Server)) -> (Server, String) {
    let server = rpc_aio::server(options);
    register(&server);
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().await.unwrap();
    (server, format!("127.0.0.1:{port}"))
}

/// A channel to `target`.
pub fn channel(target: &str) -> rpc_aio::Channel {
    rpc_aio::insecure_channel(target, rpc_aio::ChannelOptions::default()).unwrap()
}

/// Waits (bounded) until `cond` holds.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..3000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}
