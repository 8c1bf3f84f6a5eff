//! One attempt of a call: one HTTP/2 stream. It applies the call credentials, picks the
//! connection (waiting for it if the call waits for ready), sends the request headers
//! (path, deadline, compression, metadata) and body, and waits for the response headers.

use super::body::{ClientBody, Reader, Requests};
use super::call::shared::CallShared;
use super::channel::ChannelShared;
use super::errors::{When, from_hyper};
use super::interceptor::ClientCallDetails;
use super::pick::pick;
use crate::wire::compression::{self, ACCEPT_ENCODING};
use crate::wire::frame::{FrameDecoder, FrameEncoder};
use crate::wire::headers::{CONTENT_TYPE, is_grpc_content_type, write_metadata};
use crate::wire::status;
use bytes::BytesMut;
use rpc_core::codec::Encoder;
use rpc_core::{AuthMetadataContext, Compression, RpcError};
use std::sync::Arc;
use std::time::Instant;

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

/// Runs one attempt up to the response headers.
///
/// # Errors
/// The call's status when it fails before a response: refused credentials
/// (UNAUTHENTICATED), a channel that cannot connect (UNAVAILABLE), a request over the send
/// limit (RESOURCE_EXHAUSTED), a response that is not gRPC.
pub(crate) async fn attempt<Req, E>(
    channel: &Arc<ChannelShared>,
    call: &Arc<CallShared>,
    details: ClientCallDetails,
    body: Body<Req>,
    codec: Arc<E>,
) -> Result<Started, RpcError>
where
    Req: Send + 'static,
    E: Encoder<Req> + ?Sized,
{
    let path = http::uri::PathAndQuery::try_from(details.method.as_str())
        .map_err(|_| RpcError::internal(format!("invalid method path {:?}", details.method)))?;
    call.set_deadline(details.deadline);
    let mut metadata = details.metadata;
    let channel_creds = channel.credentials.call_credentials();
    if details.credentials.is_some() || !channel_creds.is_empty() {
        if !channel.credentials.permits_call_credentials() {
            return Err(RpcError::unauthenticated(
                "call credentials need a secure channel (TLS or local credentials); the call was not sent",
            ));
        }
        let (service, method) = details
            .method
            .trim_start_matches('/')
            .split_once('/')
            .unwrap_or(("", &details.method));
        let ctx = AuthMetadataContext {
            service_url: format!("{}://{}/{}", channel.scheme, channel.authority, service),
            method_name: method.to_owned(),
        };
        for creds in channel_creds.iter().chain(details.credentials.as_ref()) {
            metadata.extend(creds.metadata(&ctx)?);
        }
    }
    let wait_for_ready = details.wait_for_ready.unwrap_or(channel.options.wait_for_ready);
    let mut sender = pick(channel, wait_for_ready).await?;

    let compression = Some(details.compression.unwrap_or(channel.options.default_compression)).filter(|c| *c != Compression::NoCompression);
    let mut encoder = FrameEncoder::new(compression, channel.options.max_send_message_length);
    let body = match body {
        Body::Unary(message) => {
            let mut frame = BytesMut::new();
            encoder.encode(&*codec, message, false, &mut frame)?;
            ClientBody::full(frame.freeze())
        }
        Body::Stream(requests) => ClientBody::streaming(requests, codec, encoder, call.clone()),
    };
    let uri = http::Uri::from_parts({
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(channel.scheme.clone());
        parts.authority = Some(channel.authority.clone());
        parts.path_and_query = Some(path);
        parts
    })
    .map_err(|e| RpcError::internal(format!("invalid request URI: {e}")))?;
    let mut request = http::Request::new(body);
    *request.method_mut() = http::Method::POST;
    *request.uri_mut() = uri;
    *request.version_mut() = http::Version::HTTP_2;
    let headers = request.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, CONTENT_TYPE);
    headers.insert(http::header::TE, http::HeaderValue::from_static("trailers"));
    headers.insert(http::header::USER_AGENT, channel.user_agent.clone());
    headers.insert("grpc-accept-encoding", http::HeaderValue::from_static(ACCEPT_ENCODING));
    if let Some(c) = compression {
        headers.insert("grpc-encoding", http::HeaderValue::from_static(c.name()));
    }
    if let Some(d) = details.deadline {
        let left = d.saturating_duration_since(Instant::now());
        if let Ok(v) = http::HeaderValue::try_from(rpc_core::timeout::encode_grpc_timeout(left)) {
            headers.insert("grpc-timeout", v);
        }
    }
    write_metadata(&metadata, headers);

    let response = sender
        .send_request(request)
        .await
        .map_err(|e| call.error_now().unwrap_or_else(|| from_hyper(channel, &e, When::BeforeResponse)))?;
    let (parts, body) = response.into_parts();
    if let Some(outcome) = status::read(&parts.headers) {
        // Trailers-only: there is no body to read.
        return match outcome {
            Ok(_) => Ok(Started::TrailersOnly(parts.headers)),
            Err(e) => Err(e),
        };
    }
    if parts.status != http::StatusCode::OK {
        return Err(status::from_http_status(parts.status));
    }
    if !is_grpc_content_type(parts.headers.get(http::header::CONTENT_TYPE)) {
        return Err(RpcError::unknown(format!(
            "the server answered with content-type {:?}, not gRPC",
            parts.headers.get(http::header::CONTENT_TYPE)
        )));
    }
    let encoding = compression::from_header(parts.headers.get("grpc-encoding")).map_err(|name| {
        RpcError::internal(format!(
            "the server compressed its responses with {name:?}, which this client does not know"
        ))
    })?;
    let decoder = FrameDecoder::new(channel.options.max_receive_message_length, encoding);
    Ok(Started::Stream {
        headers: parts.headers,
        reader: Reader::new(body, decoder),
    })
}
