//! The HTTP/2 service of one connection: each request is checked (content type, the
//! server's phase and limits, `grpc-timeout`), given a context, routed through the
//! interceptors to a handler (UNIMPLEMENTED when none), and served.

use super::body::LimitedBody;
use super::handler::{HandlerCallDetails, RpcMethodHandler};
use super::interceptor::Continuation;
use super::rpc::{InitialSlot, Rpc};
use super::shared::ServerShared;
use futures::future::BoxFuture;
use hyper::body::Incoming;
use rpc_core::{AuthContext, Compression, Metadata, RpcError, RpcInfo, ServicerContext};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

/// What a connection knows about its peer.
#[derive(Debug)]
pub(crate) struct Peer {
    /// `ipv4:127.0.0.1:5000`, `ipv6:[::1]:5000` or `unix:...`.
    pub(crate) address: String,
    pub(crate) auth: AuthContext,
}

/// The service hyper runs for every request of one connection.
#[derive(Clone)]
pub(crate) struct ConnectionService {
    pub(crate) shared: Arc<ServerShared>,
    pub(crate) peer: Arc<Peer>,
}

impl hyper::service::Service<http::Request<Incoming>> for ConnectionService {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn call(&self, request: http::Request<Incoming>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.dispatch(request).await) })
    }
}

fn status_response(error: &RpcError) -> http::Response<tonic::body::Body> {
    error.to_tonic().into_http()
}

fn is_grpc(request: &http::Request<Incoming>) -> bool {
    request.method() == http::Method::POST
        && request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct == "application/grpc" || ct.starts_with("application/grpc+") || ct.starts_with("application/grpc;"))
}

impl ConnectionService {
    async fn dispatch(self, mut request: http::Request<Incoming>) -> http::Response<tonic::body::Body> {
        if !is_grpc(&request) {
            let mut response = http::Response::new(tonic::body::Body::empty());
            *response.status_mut() = http::StatusCode::UNSUPPORTED_MEDIA_TYPE;
            return response;
        }
        let admission = match self.shared.admit() {
            Ok(a) => a,
            Err(e) => return status_response(&e),
        };
        let deadline = match request.headers().get("grpc-timeout") {
            None => None,
            Some(v) => match rpc_core::timeout::parse_grpc_timeout(v.as_bytes()) {
                Ok(d) => Some(Instant::now() + d),
                Err(e) => return status_response(&RpcError::internal(format!("malformed grpc-timeout header: {e}"))),
            },
        };
        let method = request.uri().path().to_owned();
        // tonic decompresses the requests itself; the handler may still ask how they travelled.
        let request_compression = request
            .headers()
            .get("grpc-encoding")
            .and_then(|v| v.to_str().ok())
            .and_then(Compression::from_name)
            .unwrap_or_default();
        // The headers are lent to tonic's map and put back (tonic reads them again), not cloned.
        let headers = tonic::metadata::MetadataMap::from_headers(std::mem::take(request.headers_mut()));
        let metadata = Metadata::from_tonic(&headers);
        *request.headers_mut() = headers.into_headers();
        let handler = match self.choose(&method, &metadata).await {
            Some(h) => h,
            None => return status_response(&RpcError::unimplemented(format!("method not found: {method}"))),
        };
        let initial: Arc<InitialSlot> = Arc::default();
        let sink = initial.clone();
        let info = RpcInfo {
            method,
            invocation_metadata: metadata,
            peer: self.peer.address.clone(),
            auth_context: self.peer.auth.clone(),
            deadline,
            request_compression,
        };
        let (ctx, control) = ServicerContext::new(
            info,
            Some(Box::new(move |md| {
                sink.put(md);
            })),
        );
        let slot = admission.register(&control);
        let rpc = Rpc::new(ctx, control, initial, deadline, self.shared.clone(), slot);
        let limit = self.shared.options.max_receive_message_length;
        let request = request.map(|body| LimitedBody::new(body, limit));
        handler.inner.serve(request, rpc).await
    }

    /// The handler for an RPC: through the interceptors if there are any.
    async fn choose(&self, method: &str, metadata: &Metadata) -> Option<RpcMethodHandler> {
        let registry = &self.shared.registry;
        let details = || HandlerCallDetails {
            method: method.to_owned(),
            invocation_metadata: metadata.clone(),
        };
        match registry.interceptors() {
            None => registry.lookup(method, details),
            Some(chain) => Continuation::new(chain, registry.clone()).run(details()).await,
        }
    }
}
