//! One attempt of a call ([`once`]): one HTTP/2 stream on the connection the picker
//! chose, with the request headers (path, deadline, compression, metadata,
//! `grpc-previous-rpc-attempts`) and body, up to the response headers; and what attempts
//! share ([`Prepared`], [`Request`]) and report ([`Started`], [`Failure`]).
//! [`super::prepare`] makes them, [`super::retry`] runs them.

use super::body::{ClientBody, Reader, Requests};
use super::call::shared::CallShared;
use super::channel::ChannelShared;
use super::errors::{When, from_h2, never_processed};
use super::pick::pick;
use super::pipe;
use super::replay::{BodyId, Replay};
use crate::wire::compression::{self, ACCEPT_ENCODING};
use crate::wire::count::{Counted, PayloadCount, Totals};
use crate::wire::frame::FrameDecoder;
use crate::wire::headers::{
    CONTENT_TYPE, GRPC_ACCEPT_ENCODING, GRPC_ENCODING, GRPC_PREVIOUS_ATTEMPTS, GRPC_TIMEOUT, is_grpc_content_type, write_metadata,
};
use crate::wire::status;
use bytes::Bytes;
use rpc_core::metadata::RETRY_PUSHBACK_KEY;
use rpc_core::{Compression, Metadata, RpcError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// What a call sends.
pub(crate) enum Body<Req> {
    /// One request.
    Unary(Req),
    /// Streamed requests.
    Stream(Requests<Req>),
}

/// The response of an attempt, once its headers arrived.
// Made once per call and moved into its (boxed) state machine: boxing the large
// variant would cost an allocation per call for nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Started {
    /// Headers, then a body of messages and trailers.
    Stream { headers: http::HeaderMap, reader: Reader },
    /// A trailers-only response: the status (and trailing metadata) came in the headers.
    TrailersOnly(http::HeaderMap),
}

/// What every attempt of one call shares.
pub(crate) struct Prepared {
    pub(crate) path: http::uri::PathAndQuery,
    pub(crate) metadata: Metadata,
    pub(crate) wait_for_ready: bool,
    pub(crate) compression: Option<Compression>,
    pub(crate) deadline: Option<Instant>,
    pub(crate) max_receive: usize,
}

/// The request body an attempt sends.
pub(crate) enum Request {
    /// One encoded frame (a unary request): every attempt sends a clone.
    Frame(Bytes),
    /// Streamed requests, read once (no retry can replay them).
    Once(Option<ClientBody>),
    /// Streamed requests kept for replay until the call commits, and the body this
    /// request last made (the attempt that sent it).
    Replayed(Arc<Replay>, Option<BodyId>),
}

/// What one attempt sends.
enum Outgoing {
    /// One frame, sent from the attempt's future.
    Frame(Bytes),
    /// A body, sent by a pipe task.
    Body(ClientBody),
}

impl Request {
    fn body(&mut self) -> Option<Outgoing> {
        match self {
            Request::Frame(f) => Some(Outgoing::Frame(f.clone())),
            Request::Once(b) => b.take().map(Outgoing::Body),
            Request::Replayed(r, last) => {
                let (body, id) = Replay::body(r);
                *last = Some(id);
                Some(Outgoing::Body(body))
            }
        }
    }

    /// Another request that sends the same (for an attempt side by side with this one's):
    /// `None` for requests read once.
    pub(crate) fn copy(&self) -> Option<Request> {
        match self {
            Request::Frame(f) => Some(Request::Frame(f.clone())),
            Request::Once(_) => None,
            Request::Replayed(r, _) => Some(Request::Replayed(r.clone(), None)),
        }
    }

    /// Whether the request can be sent again.
    pub(crate) fn replayable(&self) -> bool {
        match self {
            Request::Frame(_) => true,
            Request::Once(b) => b.is_some(),
            Request::Replayed(r, _) => !r.committed(),
        }
    }

    /// Takes back a request that was not sent.
    fn restore(&mut self, outgoing: Outgoing) {
        if let (Request::Once(slot), Outgoing::Body(body)) = (self, outgoing) {
            *slot = Some(body);
        }
    }
}

/// Why an attempt failed.
pub(crate) enum Failure {
    /// The server never processed it (refused stream, GOAWAY before it, a connection that
    /// closed before the request left): it may be sent again without a retry policy.
    Unprocessed(RpcError),
    /// It failed with a status; the server's pushback, if it sent one (`Some(None)`: do not
    /// retry).
    Status(RpcError, Option<Option<Duration>>),
}

impl Failure {
    fn code(&self) -> rpc_core::StatusCode {
        match self {
            Failure::Unprocessed(e) | Failure::Status(e, _) => e.code(),
        }
    }

    pub(crate) fn into_error(self) -> RpcError {
        match self {
            Failure::Unprocessed(e) | Failure::Status(e, _) => e,
        }
    }
}

/// How many times an attempt goes back to the picker when its connection closed before
/// the request could leave (each time the picker has moved on or the call waits for it).
const UNSENT_REPICKS: usize = 8;

/// One attempt, up to the response headers; `previous` attempts came before it. An
/// observed call's attempt is reported to its observer: a failed one ends here, the one
/// that gets response headers ends with the call. Its span (`grpc.attempt`, DEBUG) is a
/// child of the call's.
pub(crate) async fn once(
    channel: &Arc<ChannelShared>,
    call: &Arc<CallShared>,
    prepared: &Prepared,
    request: &mut Request,
    previous: u32,
) -> Result<Started, Failure> {
    let observed = call.attempt_started();
    let span = tracing::debug_span!(target: "rpc_aio::client", "grpc.attempt", grpc.previous_rpc_attempts = previous);
    let totals = observed.as_ref().map(|a| &a.totals);
    let result = send(channel, call, prepared, request, previous, totals).instrument(span).await;
    if let Some(a) = observed {
        match &result {
            Ok(_) => call.commit_attempt(a),
            Err(f) => a.end(f.code()),
        }
    }
    result
}

async fn send(
    channel: &Arc<ChannelShared>,
    call: &Arc<CallShared>,
    prepared: &Prepared,
    request: &mut Request,
    previous: u32,
    totals: Option<&Totals>,
) -> Result<Started, Failure> {
    let status = |e: RpcError| Failure::Status(e, None);
    let Some(outgoing) = request.body() else {
        return Err(status(RpcError::internal("the call's requests were already sent")));
    };
    let outgoing = match (outgoing, totals) {
        (Outgoing::Body(body), Some(t)) => Outgoing::Body(Box::pin(Counted::new(body, t.sent.clone()))),
        (outgoing, _) => outgoing,
    };
    let mut repicks = 0;
    let opened = loop {
        let (mut sender, socket) = pick(channel, prepared.wait_for_ready, prepared.path.path(), &prepared.metadata)
            .await
            .map_err(status)?;
        call.stream_started(socket);
        // Made for each connection tried: h2 takes the request it sends.
        let req = head(channel, prepared, previous).map_err(status)?;
        let last = match &outgoing {
            Outgoing::Frame(frame) => Some(frame),
            Outgoing::Body(_) => None,
        };
        match sender.open(req, last).await {
            Ok(opened) => break opened,
            Err(error) => {
                // The connection could not take the stream: the request can go elsewhere.
                if repicks < UNSENT_REPICKS && !call.is_done() {
                    repicks += 1;
                    tokio::task::yield_now().await;
                    continue;
                }
                request.restore(outgoing);
                return Err(stream_failed(channel, call, &error));
            }
        }
    };
    match outgoing {
        // Sent with the headers.
        Outgoing::Frame(frame) => {
            if let Some(t) = totals {
                PayloadCount::new(t.sent.clone()).feed(&frame);
            }
        }
        Outgoing::Body(body) => call.attach_pipe(pipe::spawn(&channel.runtime, body, opened.send)),
    }
    let response = opened.response.await.map_err(|e| stream_failed(channel, call, &e))?;
    let (parts, body) = response.into_parts();
    if let Some(outcome) = status::read(&parts.headers) {
        // Trailers-only: there is no body to read.
        return match outcome {
            Ok(_) => Ok(Started::TrailersOnly(parts.headers)),
            Err(e) => Err(Failure::Status(e, pushback(&parts.headers))),
        };
    }
    if parts.status != http::StatusCode::OK {
        return Err(status(status::from_http_status(parts.status)));
    }
    if !is_grpc_content_type(parts.headers.get(http::header::CONTENT_TYPE)) {
        return Err(status(RpcError::unknown(format!(
            "the server answered with content-type {:?}, not gRPC",
            parts.headers.get(http::header::CONTENT_TYPE)
        ))));
    }
    let encoding = compression::from_header(parts.headers.get("grpc-encoding")).map_err(|name| {
        status(RpcError::internal(format!(
            "the server compressed its responses with {name:?}, which this client does not know"
        )))
    })?;
    let decoder = FrameDecoder::new(prepared.max_receive, encoding);
    Ok(Started::Stream {
        headers: parts.headers,
        reader: Reader::new(body, opened.guard, decoder, totals.map(|t| t.received.clone())),
    })
}

/// Why an attempt whose stream failed before the response headers failed: the call's own
/// error if it has one (cancelled, its deadline), else the transport's, marked unprocessed
/// when the server cannot have seen it.
fn stream_failed(channel: &ChannelShared, call: &CallShared, error: &h2::Error) -> Failure {
    if let Some(e) = call.error_now() {
        return Failure::Status(e, None);
    }
    let mapped = from_h2(channel, error, When::BeforeResponse);
    if never_processed(error) {
        Failure::Unprocessed(mapped)
    } else {
        Failure::Status(mapped, None)
    }
}

/// The head of an attempt's request: path, deadline, compression, metadata, attempt count.
fn head(channel: &ChannelShared, prepared: &Prepared, previous: u32) -> Result<http::Request<()>, RpcError> {
    let uri = http::Uri::from_parts({
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(channel.scheme.clone());
        parts.authority = Some(channel.authority.clone());
        parts.path_and_query = Some(prepared.path.clone());
        parts
    })
    .map_err(|e| RpcError::internal(format!("invalid request URI: {e}")))?;
    let mut req = http::Request::new(());
    *req.method_mut() = http::Method::POST;
    *req.uri_mut() = uri;
    *req.version_mut() = http::Version::HTTP_2;
    let headers = req.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, CONTENT_TYPE);
    headers.insert(http::header::TE, http::HeaderValue::from_static("trailers"));
    headers.insert(http::header::USER_AGENT, channel.user_agent.clone());
    headers.insert(GRPC_ACCEPT_ENCODING, http::HeaderValue::from_static(ACCEPT_ENCODING));
    if let Some(c) = prepared.compression {
        headers.insert(GRPC_ENCODING, http::HeaderValue::from_static(c.name()));
    }
    if previous > 0 {
        headers.insert(GRPC_PREVIOUS_ATTEMPTS, http::HeaderValue::from(previous));
    }
    write_metadata(&prepared.metadata, headers);
    if let Some(d) = prepared.deadline {
        let left = d.saturating_duration_since(Instant::now());
        if let Ok(v) = http::HeaderValue::try_from(rpc_core::timeout::encode_grpc_timeout(left)) {
            headers.insert(GRPC_TIMEOUT, v);
        }
    }
    Ok(req)
}

/// The server's pushback in a trailers-only response: `None` without one, `Some(None)`
/// for "do not retry" (negative or unreadable), `Some(Some(delay))` otherwise.
fn pushback(headers: &http::HeaderMap) -> Option<Option<Duration>> {
    let value = headers.get(RETRY_PUSHBACK_KEY)?;
    let ms = std::str::from_utf8(value.as_bytes())
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok());
    Some(match ms {
        Some(ms) if ms >= 0 => Some(Duration::from_millis(ms as u64)),
        _ => None,
    })
}
