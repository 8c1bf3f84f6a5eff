//! Where each request of a connection enters the server: it is checked (a gRPC POST; the
//! server still admits RPCs and is under its limits; a `grpc-timeout` and `grpc-encoding`
//! it understands), given a context, routed (through the interceptors) to a handler
//! (UNIMPLEMENTED when none), and served.

use super::admission::{Admission, Admitted, Refused};
use super::lifecycle::Lifecycle;
use super::routing::registry::Registry;
use super::rpc::context::{InitialSlot, Rpc, RpcEnv, Wire};
use super::rpc::observed::Observed;
use super::rpc::responses::{ServerBody, http_error, trailers_only};
use crate::channelz::{ServerCall as ChannelzCall, ServerNode, SocketNode};
use crate::wire::compression::{self, ACCEPT_ENCODING};
use crate::wire::headers::{GRPC_ACCEPT_ENCODING, is_grpc_content_type, read_metadata};
use futures::future::BoxFuture;
use hyper::body::Incoming;
use rpc_core::observe::ServerCall;
use rpc_core::{AuthContext, Compression, RpcError, RpcInfo, ServicerContext};
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// What every connection and RPC of a server shares.
pub(crate) struct ServerShared {
    pub(crate) env: Arc<RpcEnv>,
    pub(crate) registry: Arc<Registry>,
    pub(crate) lifecycle: Arc<Lifecycle>,
    /// The server's channelz entry: its calls, listening sockets and connections.
    pub(crate) channelz: Arc<ServerNode>,
}

impl std::fmt::Debug for ServerShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerShared").field("phase", &self.lifecycle.phase()).finish()
    }
}

impl ServerShared {
    pub(crate) fn new(options: rpc_core::ServerOptions) -> ServerShared {
        let lifecycle = Arc::new(Lifecycle::default());
        let admission = Arc::new(Admission::new(lifecycle.clone(), options.maximum_concurrent_rpcs));
        ServerShared {
            env: Arc::new(RpcEnv::new(options, admission)),
            registry: Arc::default(),
            lifecycle,
            channelz: ServerNode::register(),
        }
    }
}

/// What a connection knows about its peer.
#[derive(Debug)]
pub(crate) struct Peer {
    /// `ipv4:127.0.0.1:5000`, `ipv6:[::1]:5000` or `unix:...`: shared by its RPCs.
    pub(crate) address: Arc<str>,
    pub(crate) auth: AuthContext,
    /// The connection's channelz socket.
    pub(crate) socket: Arc<SocketNode>,
}

/// The service hyper runs for every request of one connection.
#[derive(Clone)]
pub(crate) struct ConnectionService {
    pub(crate) shared: Arc<ServerShared>,
    pub(crate) peer: Arc<Peer>,
}

impl hyper::service::Service<http::Request<Incoming>> for ConnectionService {
    type Response = http::Response<ServerBody>;
    /// The one error: a new RPC while the server stops, refused with RST_STREAM
    /// REFUSED_STREAM (hyper resets the stream with the error's reason), which tells the
    /// client the RPC was not processed, so it may send it elsewhere (gRFC A6's transparent
    /// retry); clients that do not retry see UNAVAILABLE.
    type Error = h2::Error;
    type Future = BoxFuture<'static, Result<Self::Response, h2::Error>>;

    fn call(&self, request: http::Request<Incoming>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { this.dispatch(request).await })
    }
}

fn is_grpc(request: &http::Request<Incoming>) -> bool {
    request.method() == http::Method::POST && is_grpc_content_type(request.headers().get(http::header::CONTENT_TYPE))
}

impl ConnectionService {
    async fn dispatch(self, request: http::Request<Incoming>) -> Result<http::Response<ServerBody>, h2::Error> {
        if !is_grpc(&request) {
            return Ok(http_error(http::StatusCode::UNSUPPORTED_MEDIA_TYPE));
        }
        let tally = ChannelzCall::start(&self.shared.channelz, &self.peer.socket);
        let env = &self.shared.env;
        let admitted = match env.admission.admit() {
            Ok(a) => a,
            Err(Refused::Stopping) => return Err(h2::Error::from(h2::Reason::REFUSED_STREAM)),
            Err(Refused::Status(e)) => return Ok(trailers_only(&e)),
        };
        let mut response = self.observed(request, admitted).await;
        ServerBody::tally(&mut response, tally);
        Ok(response)
    }

    /// Serves the RPC inside its span, told to the server's observer if it has one.
    async fn observed(self, request: http::Request<Incoming>, admitted: Admitted) -> http::Response<ServerBody> {
        let path = request.uri().path();
        let span = crate::observe::server_span(path, &self.peer.address);
        let observer = self.shared.env.options.observer.as_ref().and_then(|o| {
            let registered = self.shared.registry.is_registered(path);
            let metadata = read_metadata(request.headers());
            o.server_call(&ServerCall::new(path, registered, &metadata, &self.peer.address, &span))
        });
        let Some(observed) = Observed::new(span, observer) else {
            return self.serve(request, admitted, None).await;
        };
        let span = observed.span().clone();
        let response = self.serve(request, admitted, observed.received()).instrument(span).await;
        observed.watch(response)
    }

    async fn serve(
        self,
        request: http::Request<Incoming>,
        admitted: Admitted,
        received: Option<Arc<std::sync::atomic::AtomicU64>>,
    ) -> http::Response<ServerBody> {
        let env = &self.shared.env;
        let headers = request.headers();
        let deadline = match headers.get("grpc-timeout") {
            None => None,
            Some(v) => match rpc_core::timeout::parse_grpc_timeout(v.as_bytes()) {
                Ok(d) => Instant::now().checked_add(d),
                Err(e) => return trailers_only(&RpcError::internal(format!("malformed grpc-timeout header: {e}"))),
            },
        };
        let request_encoding = match compression::from_header(headers.get("grpc-encoding")) {
            Ok(c) => c,
            Err(name) => {
                let mut response = trailers_only(&RpcError::unimplemented(format!(
                    "the request is compressed with {name:?}, which this server does not support"
                )));
                response
                    .headers_mut()
                    .insert(GRPC_ACCEPT_ENCODING, http::HeaderValue::from_static(ACCEPT_ENCODING));
                return response;
            }
        };
        let method = request.uri().path().to_owned();
        let metadata = read_metadata(headers);
        let wire = Wire {
            request_encoding,
            accepted: headers.get("grpc-accept-encoding").cloned(),
        };
        let Some(handler) = self.shared.registry.choose(&method, &metadata).await else {
            return trailers_only(&RpcError::unimplemented(format!("method not found: {method}")));
        };
        let initial: Arc<InitialSlot> = Arc::default();
        let sink = initial.clone();
        let info = RpcInfo {
            method,
            invocation_metadata: metadata,
            peer: self.peer.address.clone(),
            auth_context: self.peer.auth.clone(),
            deadline,
            request_compression: request_encoding.unwrap_or(Compression::NoCompression),
        };
        let (ctx, control) = ServicerContext::new(info, Some(Box::new(move |md| sink.put(md))));
        let booked = admitted.register(&control);
        let mut rpc = Rpc::new((ctx, control), initial, env.clone(), wire, booked);
        rpc.received = received;
        handler.inner.serve(request, rpc).await
    }
}
