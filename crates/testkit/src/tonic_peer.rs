//! [`TonicPeer`]: the test service served by plain tonic (hand-routed, prost messages, gzip
//! accepted and sent), so that client tests also run against a peer this workspace did not
//! write. It understands the part of the plan that needs no servicer context (`x-fail` with
//! trailers and a rich detail, `x-fail-after`, `x-sleep-ms`, the echoes); see `plan.rs`.

use crate::pb::Msg;
use crate::plan::{self, Failure, Plan, Value};
use crate::probe::{CancelGuard, Probe};
use crate::servicer::failure_error;
use futures::{Stream, StreamExt};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tonic::codec::CompressionEncoding;
use tonic::metadata::{MetadataMap, MetadataValue as TonicValue};
use tonic::{Request, Response, Status, Streaming};

type BoxFuture<T, E> = Pin<Box<dyn std::future::Future<Output = Result<T, E>> + Send + 'static>>;
type MsgStream = Pin<Box<dyn Stream<Item = Result<Msg, Status>> + Send>>;

/// How often an endless stream sends.
const TICK: Duration = Duration::from_millis(10);

/// The test service on plain tonic, on `127.0.0.1` (or a unix socket), served from a thread
/// and runtime of its own (so blocking and async tests alike can start one).
///
/// # Drop behavior
/// Dropping it shuts the runtime down: the port is closed and every connection dropped
/// when `drop` returns.
#[derive(Debug)]
pub struct TonicPeer {
    port: u16,
    unix: Option<std::path::PathBuf>,
    probe: Arc<Probe>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Where a peer listens.
enum Listener {
    Tcp(std::net::TcpListener),
    #[cfg(unix)]
    Unix(std::os::unix::net::UnixListener),
}

impl TonicPeer {
    /// Starts a peer on a free port.
    pub fn start() -> TonicPeer {
        TonicPeer::start_on(0)
    }

    /// Starts a peer on `port` (for a server that comes up late on a known port).
    pub fn start_on(port: u16) -> TonicPeer {
        TonicPeer::serve(Listener::Tcp(tcp(port)), None, None)
    }

    /// Starts a peer on a free port serving TLS with the PEM certificate chain and key.
    pub fn start_tls(cert_pem: &str, key_pem: &str) -> TonicPeer {
        let tls = tonic::transport::ServerTlsConfig::new().identity(tonic::transport::Identity::from_pem(cert_pem, key_pem));
        TonicPeer::serve(Listener::Tcp(tcp(0)), None, Some(tls))
    }

    /// Starts a peer on the unix socket at `path` (removed first if it exists).
    #[cfg(unix)]
    pub fn start_unix(path: &std::path::Path) -> TonicPeer {
        let _ = std::fs::remove_file(path);
        let listener = std::os::unix::net::UnixListener::bind(path).expect("a unix socket for the tonic peer");
        listener.set_nonblocking(true).expect("a non-blocking listener");
        TonicPeer::serve(Listener::Unix(listener), Some(path.to_owned()), None)
    }

    fn serve(listener: Listener, unix: Option<std::path::PathBuf>, tls: Option<tonic::transport::ServerTlsConfig>) -> TonicPeer {
        let port = match &listener {
            Listener::Tcp(l) => l.local_addr().expect("the peer's address").port(),
            #[cfg(unix)]
            Listener::Unix(_) => 0,
        };
        let probe = Probe::new();
        let service = TestService(probe.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("tonic-peer-{port}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("the tonic peer's runtime");
                runtime.block_on(async move {
                    let mut builder = tonic::transport::Server::builder();
                    if let Some(tls) = tls {
                        builder = builder.tls_config(tls).expect("the tonic peer's TLS settings");
                    }
                    let router = builder.add_service(service);
                    let serve: std::pin::Pin<Box<dyn std::future::Future<Output = _>>> = match listener {
                        Listener::Tcp(l) => {
                            let l = tokio::net::TcpListener::from_std(l).expect("a tokio listener");
                            Box::pin(router.serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(l)))
                        }
                        #[cfg(unix)]
                        Listener::Unix(l) => {
                            let l = tokio::net::UnixListener::from_std(l).expect("a tokio listener");
                            Box::pin(router.serve_with_incoming(tokio_stream::wrappers::UnixListenerStream::new(l)))
                        }
                    };
                    tokio::select! {
                        _ = serve => {}
                        _ = stopped => {}
                    }
                });
                // Dropping the runtime drops the listener and every connection task.
            })
            .expect("a thread for the tonic peer");
        TonicPeer {
            port,
            unix,
            probe,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Its port (0 on a unix socket).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its address: `127.0.0.1:PORT`, or `unix:PATH`.
    pub fn target(&self) -> String {
        match &self.unix {
            Some(path) => format!("unix:{}", path.display()),
            None => format!("127.0.0.1:{}", self.port),
        }
    }

    /// What it saw.
    pub fn probe(&self) -> &Arc<Probe> {
        &self.probe
    }
}

fn tcp(port: u16) -> std::net::TcpListener {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("a loopback port for the tonic peer");
    listener.set_nonblocking(true).expect("a non-blocking listener");
    listener
}

impl Drop for TonicPeer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        if let Some(path) = &self.unix {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn plan_of(md: &MetadataMap) -> Plan {
    Plan::read(
        |k| md.get(k).and_then(|v| v.to_str().ok()).map(str::to_owned),
        |k| {
            k.ends_with("-bin")
                .then(|| md.get_bin(k).and_then(|v| v.to_bytes().ok()).map(|b| b.to_vec()))
                .flatten()
        },
    )
}

fn record<T>(probe: &Probe, req: &Request<T>) {
    let headers = req
        .metadata()
        .iter()
        .filter_map(|kv| match kv {
            tonic::metadata::KeyAndValueRef::Ascii(k, v) => Some((k.as_str().to_owned(), v.as_bytes().to_vec())),
            tonic::metadata::KeyAndValueRef::Binary(k, v) => Some((k.as_str().to_owned(), v.to_bytes().ok()?.to_vec())),
        })
        .collect();
    probe.record_call(headers, None);
}

fn to_map(pairs: &[(&'static str, Value)]) -> MetadataMap {
    let mut md = MetadataMap::new();
    for (key, value) in pairs {
        match value {
            Value::Text(s) => {
                if let Ok(v) = s.parse() {
                    md.insert(*key, v);
                }
            }
            Value::Bin(b) => {
                md.insert_bin(*key, TonicValue::from_bytes(b));
            }
        }
    }
    md
}

fn failed(failure: &Failure) -> Status {
    let trailers = to_map(&[
        (plan::WHY.0, Value::Text(plan::WHY.1.to_owned())),
        (plan::WHY_BIN.0, Value::Bin(plan::WHY_BIN.1.to_vec())),
    ]);
    let code = tonic::Code::from_i32(failure.code as i32);
    match failure_error(failure, false).encoded_status_details() {
        Some(details) if failure.detail.is_some() => Status::with_details_and_metadata(code, plan::FAIL_DETAILS, details, trailers),
        _ => Status::with_metadata(code, plan::FAIL_DETAILS, trailers),
    }
}

/// The start of every method: record, read the plan, fail if asked.
fn begin<T>(probe: &Probe, req: &Request<T>) -> Result<Plan, Status> {
    record(probe, req);
    let plan = plan_of(req.metadata());
    match &plan.fail {
        Some(failure) => Err(failed(failure)),
        None => Ok(plan),
    }
}

fn respond<T>(plan: &Plan, body: T) -> Response<T> {
    let mut resp = Response::new(body);
    *resp.metadata_mut() = to_map(&plan.initial);
    resp
}

/// A stream that counts a cancellation if dropped before its end.
struct Tracked {
    inner: MsgStream,
    guard: CancelGuard,
}

impl Stream for Tracked {
    type Item = Result<Msg, Status>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let r = self.inner.as_mut().poll_next(cx);
        if let Poll::Ready(None) = r {
            self.guard.disarm();
        }
        r
    }
}

fn streamed(index: i32, size: usize) -> Msg {
    Msg {
        text: index.to_string(),
        payload: vec![1u8; size],
        n: index,
    }
}

#[derive(Clone)]
struct UnarySvc(Arc<Probe>);

impl tonic::server::UnaryService<Msg> for UnarySvc {
    type Response = Msg;
    type Future = BoxFuture<Response<Msg>, Status>;
    fn call(&mut self, req: Request<Msg>) -> Self::Future {
        let probe = self.0.clone();
        Box::pin(async move {
            let plan = begin(&probe, &req)?;
            if let Some(sleep) = plan.sleep {
                let mut guard = CancelGuard::new(&probe);
                tokio::time::sleep(sleep).await;
                guard.disarm();
                probe.record_completed();
            }
            let m = req.into_inner();
            let reply = Msg {
                text: format!("echo:{}", m.text),
                payload: vec![7u8; m.n.max(0) as usize],
                n: m.n,
            };
            Ok(respond(&plan, reply))
        })
    }
}

#[derive(Clone)]
struct ServerStreamSvc(Arc<Probe>);

impl tonic::server::ServerStreamingService<Msg> for ServerStreamSvc {
    type Response = Msg;
    type ResponseStream = Tracked;
    type Future = BoxFuture<Response<Tracked>, Status>;
    fn call(&mut self, req: Request<Msg>) -> Self::Future {
        let probe = self.0.clone();
        Box::pin(async move {
            let plan = begin(&probe, &req)?;
            let (count, size) = (req.get_ref().n, req.get_ref().payload.len());
            let counter = probe.clone();
            let inner: MsgStream = if count < 0 {
                Box::pin(futures::stream::iter(0..).then(move |i| {
                    let counter = counter.clone();
                    async move {
                        if i > 0 {
                            tokio::time::sleep(TICK).await;
                        }
                        counter.record_sent();
                        Ok(streamed(i, size))
                    }
                }))
            } else {
                let items = (0..count).map(move |i| {
                    counter.record_sent();
                    Ok(streamed(i, size))
                });
                let tail = plan.fail_after.then(|| Err(Status::aborted(plan::STREAM_ABORTED)));
                Box::pin(futures::stream::iter(items.chain(tail)))
            };
            let tracked = Tracked {
                inner,
                guard: CancelGuard::new(&probe),
            };
            Ok(respond(&plan, tracked))
        })
    }
}

#[derive(Clone)]
struct ClientStreamSvc(Arc<Probe>);

impl tonic::server::ClientStreamingService<Msg> for ClientStreamSvc {
    type Response = Msg;
    type Future = BoxFuture<Response<Msg>, Status>;
    fn call(&mut self, req: Request<Streaming<Msg>>) -> Self::Future {
        let probe = self.0.clone();
        Box::pin(async move {
            let plan = begin(&probe, &req)?;
            let mut requests = req.into_inner();
            let mut texts = Vec::new();
            let mut guard = CancelGuard::new(&probe);
            while let Some(m) = requests.message().await? {
                texts.push(m.text);
            }
            guard.disarm();
            let reply = Msg {
                text: texts.join(","),
                payload: Vec::new(),
                n: texts.len() as i32,
            };
            Ok(respond(&plan, reply))
        })
    }
}

#[derive(Clone)]
struct BidiSvc(Arc<Probe>);

impl tonic::server::StreamingService<Msg> for BidiSvc {
    type Response = Msg;
    type ResponseStream = Tracked;
    type Future = BoxFuture<Response<Tracked>, Status>;
    fn call(&mut self, req: Request<Streaming<Msg>>) -> Self::Future {
        let probe = self.0.clone();
        Box::pin(async move {
            let plan = begin(&probe, &req)?;
            let inner: MsgStream = Box::pin(req.into_inner().map(|r| {
                r.map(|m| Msg {
                    text: format!("echo:{}", m.text),
                    ..m
                })
            }));
            let tracked = Tracked {
                inner,
                guard: CancelGuard::new(&probe),
            };
            Ok(respond(&plan, tracked))
        })
    }
}

/// The hand-routed service.
#[derive(Clone)]
struct TestService(Arc<Probe>);

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
        let probe = self.0.clone();
        Box::pin(async move {
            let resp = match req.uri().path() {
                crate::UNARY => grpc().unary(UnarySvc(probe), req).await,
                crate::SERVER_STREAM => grpc().server_streaming(ServerStreamSvc(probe), req).await,
                crate::CLIENT_STREAM => grpc().client_streaming(ClientStreamSvc(probe), req).await,
                crate::BIDI => grpc().streaming(BidiSvc(probe), req).await,
                _ => Status::unimplemented("no such method").into_http(),
            };
            Ok(resp)
        })
    }
}
