//! Client-side health checking (gRFC A17): on each new connection of a subchannel whose
//! channel has `healthCheckConfig.serviceName`, a `grpc.health.v1.Health/Watch` call for
//! that service. The subchannel is CONNECTING until the first answer, READY while the
//! answers say SERVING and TRANSIENT_FAILURE otherwise; UNIMPLEMENTED (the server has no
//! health service) turns checking off for the connection (READY). Any other end of the
//! call is TRANSIENT_FAILURE and the call is made again after a backoff, reset by every
//! answer. The call ends with its connection.

use super::backoff::Backoff;
use super::body::{Read, ReadError, Reader};
use super::stream::Sender;
use crate::wire::frame::{FrameDecoder, FrameEncoder};
use crate::wire::status;
use bytes::BytesMut;
use rpc_core::StatusCode;
use rpc_core::codec::ProstCodec;
use std::sync::Arc;

/// What a subchannel's health check asks for.
#[derive(Clone, Debug)]
pub(crate) struct HealthCheck {
    pub(crate) service: String,
    pub(crate) scheme: http::uri::Scheme,
    pub(crate) authority: http::uri::Authority,
    pub(crate) user_agent: http::HeaderValue,
}

const WATCH: &str = "/grpc.health.v1.Health/Watch";
/// `HealthCheckResponse.ServingStatus.SERVING`.
const SERVING: i32 = 1;

#[derive(Clone, PartialEq, prost::Message)]
struct HealthCheckRequest {
    #[prost(string, tag = "1")]
    service: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct HealthCheckResponse {
    #[prost(int32, tag = "1")]
    status: i32,
}

/// How one Watch call ended.
enum Outcome {
    /// The server has no health service: treat the backend as healthy.
    Unimplemented,
    /// Ended otherwise (why), after `answered` answers.
    Failed { why: String, answered: bool },
}

/// What a health watch reports to: the subchannel whose connection it checks.
pub(crate) trait Watched: Send + Sync + 'static {
    /// The address, for logs.
    fn address(&self) -> String;
    /// The backend's health on connection `generation`: SERVING, or why not.
    fn serving(&self, generation: u64, serving: Result<(), String>);
    /// A new Watch call is being made on connection `generation`.
    fn retrying(&self, generation: u64);
}

/// Watches the health of connection `generation` of `watched` until the task is aborted
/// (the connection ended) or the server has no health service.
pub(crate) async fn watch(watched: Arc<dyn Watched>, backoff: Backoff, generation: u64, sender: Sender, check: Arc<HealthCheck>) {
    let mut delay = backoff.initial;
    loop {
        match watch_once(&*watched, generation, sender.clone(), &check).await {
            Outcome::Unimplemented => {
                tracing::info!(address = %watched.address(), "the server has no health service (UNIMPLEMENTED): health checking is off for this connection");
                watched.serving(generation, Ok(()));
                return;
            }
            Outcome::Failed { why, answered } => {
                watched.serving(generation, Err(format!("health check failed: {why}")));
                if answered {
                    delay = backoff.initial;
                    continue;
                }
                let (wait, next) = backoff.step(delay);
                delay = next;
                tokio::time::sleep(wait).await;
                watched.retrying(generation);
            }
        }
    }
}

async fn watch_once(watched: &dyn Watched, generation: u64, mut sender: Sender, check: &HealthCheck) -> Outcome {
    let failed = |why: String, answered: bool| Outcome::Failed { why, answered };
    let mut frame = BytesMut::new();
    let request = HealthCheckRequest {
        service: check.service.clone(),
    };
    if let Err(e) = FrameEncoder::new(None, None).encode(&ProstCodec, request, false, &mut frame) {
        return failed(e.to_string(), false);
    }
    let uri = {
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(check.scheme.clone());
        parts.authority = Some(check.authority.clone());
        parts.path_and_query = Some(http::uri::PathAndQuery::from_static(WATCH));
        match http::Uri::from_parts(parts) {
            Ok(u) => u,
            Err(e) => return failed(e.to_string(), false),
        }
    };
    let mut req = http::Request::new(());
    *req.method_mut() = http::Method::POST;
    *req.uri_mut() = uri;
    *req.version_mut() = http::Version::HTTP_2;
    let h = req.headers_mut();
    h.insert(http::header::CONTENT_TYPE, crate::wire::headers::CONTENT_TYPE);
    h.insert(http::header::TE, http::HeaderValue::from_static("trailers"));
    h.insert(http::header::USER_AGENT, check.user_agent.clone());
    let opened = match sender.open(req, Some(&frame.freeze())).await {
        Ok(o) => o,
        Err(e) => return failed(super::connect::describe(&e), false),
    };
    let response = match opened.response.await {
        Ok(r) => r,
        Err(e) => return failed(super::connect::describe(&e), false),
    };
    let (parts, body) = response.into_parts();
    if let Some(outcome) = status::read(&parts.headers) {
        return match outcome {
            Err(e) if e.code() == StatusCode::Unimplemented => Outcome::Unimplemented,
            Err(e) => failed(e.to_string(), false),
            Ok(_) => failed("the health service ended the watch at once".to_owned(), false),
        };
    }
    let mut reader = Reader::new(body, opened.guard, FrameDecoder::new(64 * 1024, None), None);
    let mut answered = false;
    loop {
        match std::future::poll_fn(|cx| reader.poll_read::<HealthCheckResponse, _>(&ProstCodec, cx)).await {
            Ok(Read::Message(m)) => {
                answered = true;
                let serving = if m.status == SERVING {
                    Ok(())
                } else {
                    Err(format!("the backend's health is {} (not SERVING)", status_name(m.status)))
                };
                watched.serving(generation, serving);
            }
            Ok(Read::End(trailers)) => {
                return match trailers.as_ref().and_then(status::read) {
                    Some(Err(e)) if e.code() == StatusCode::Unimplemented => Outcome::Unimplemented,
                    Some(Err(e)) => failed(e.to_string(), answered),
                    _ => failed("the health service ended the watch".to_owned(), answered),
                };
            }
            Err(ReadError::Status(e)) => return failed(e.to_string(), answered),
            Err(ReadError::Transport(e)) => return failed(super::connect::describe(&e), answered),
        }
    }
}

fn status_name(status: i32) -> &'static str {
    match status {
        0 => "UNKNOWN",
        1 => "SERVING",
        2 => "NOT_SERVING",
        3 => "SERVICE_UNKNOWN",
        _ => "an unknown status",
    }
}
