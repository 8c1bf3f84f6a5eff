//! The start of a call's attempts: what every attempt shares, prepared once (the service
//! config's method settings, call credentials, the encoded request or the replay buffer),
//! then handed to [`super::retry`].

use super::attempt::{Body, Prepared, Request, Started};
use super::body;
use super::call::shared::CallShared;
use super::channel::ChannelShared;
use super::interceptor::ClientCallDetails;
use super::replay::Replay;
use super::retry;
use super::service_config::{MethodConfig, Policy};
use crate::wire::encoding::Encoding;
use crate::wire::frame::FrameEncoder;
use bytes::BytesMut;
use rpc_core::codec::Encoder;
use rpc_core::observe::ClientCall;
use rpc_core::{AuthMetadataContext, Compression, RpcError};
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// Runs a call's attempts up to the response headers of the one that commits, inside the
/// call's span (which the call's shared state closes when the call ends).
///
/// # Errors
/// The call's status when it fails before a response: refused credentials
/// (UNAUTHENTICATED), a channel that cannot connect (UNAVAILABLE), a request over the send
/// limit (RESOURCE_EXHAUSTED), a response that is not gRPC, the server's status.
pub(crate) async fn attempt<Req, E>(
    channel: &Arc<ChannelShared>,
    call: &Arc<CallShared>,
    details: ClientCallDetails,
    body: Body<Req>,
    codec: Arc<E>,
) -> Result<Started, RpcError>
where
    Req: Send + 'static,
    E: Encoder<Req>,
{
    let span = crate::observe::client_span(call.parent_span(), &details.method, channel.authority.as_str());
    prepared(channel, call, details, body, codec, &span).instrument(span.clone()).await
}

async fn prepared<Req, E>(
    channel: &Arc<ChannelShared>,
    call: &Arc<CallShared>,
    details: ClientCallDetails,
    body: Body<Req>,
    codec: Arc<E>,
    span: &tracing::Span,
) -> Result<Started, RpcError>
where
    Req: Send + 'static,
    E: Encoder<Req>,
{
    let mut details = details;
    // Observed from here, so that a call failing before any attempt is counted too.
    let observer = channel.options.observer.as_ref().and_then(|obs| {
        let target = channel.target.to_string();
        obs.client_call(&ClientCall::new(&details.method, &target, span), &mut details.metadata)
    });
    call.observe(span, observer);
    // The call's own deadline bounds the wait for the resolver's first answer; call
    // credentials a plaintext channel must not carry are refused before anything happens.
    call.set_deadline(details.deadline);
    let channel_creds = channel.credentials.call_credentials();
    let has_creds = details.credentials.is_some() || !channel_creds.is_empty();
    if has_creds && !channel.credentials.permits_call_credentials() {
        return Err(RpcError::unauthenticated(
            "call credentials need a secure channel (TLS or local credentials); the call was not sent",
        ));
    }
    let resolved = channel.current.borrow().resolved;
    if !resolved {
        wait_resolved(channel).await?;
    }
    let (method, throttle) = {
        let current = channel.current.borrow();
        (current.config.method(&details.method).cloned(), current.throttle.clone())
    };
    let method: Option<&MethodConfig> = method.as_deref();
    let mut deadline = details.deadline;
    if let Some(timeout) = method.and_then(|m| m.timeout)
        && let Some(d) = Instant::now().checked_add(timeout)
    {
        deadline = Some(deadline.map_or(d, |old| old.min(d)));
    }
    call.set_deadline(deadline);
    let mut metadata = details.metadata;
    if has_creds {
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
    let o = &channel.options;
    let wait_for_ready = details
        .wait_for_ready
        .or(method.and_then(|m| m.wait_for_ready))
        .unwrap_or(o.wait_for_ready);
    let max_send = min_opt(o.max_send_message_length, method.and_then(|m| m.max_request_bytes));
    let max_receive =
        min_opt(Some(o.max_receive_message_length), method.and_then(|m| m.max_response_bytes)).unwrap_or(o.max_receive_message_length);
    let compression = Some(details.compression.unwrap_or(o.default_compression)).filter(|c| *c != Compression::NoCompression);
    let mut encoder = FrameEncoder::new(compression, max_send);
    let policy = if o.enable_retries {
        method.and_then(|m| m.policy.clone())
    } else {
        None
    };
    let request = match body {
        Body::Unary(message) => {
            let mut frame = BytesMut::new();
            encoder.encode(&*codec, message, false, &mut frame)?;
            Request::Frame(frame.freeze())
        }
        Body::Stream(requests) if policy.is_some() => {
            Request::Replayed(Replay::new(requests, codec, encoder, call.clone(), channel.clone()), None)
        }
        Body::Stream(requests) => {
            // A blocking request iterator's thread encodes the requests it pulls.
            call.offer_request_encoding(|| {
                let codec: Arc<dyn Encoder<Req>> = codec.clone();
                Box::new(Encoding::new(FrameEncoder::new(compression, max_send), codec, Vec::new()))
            });
            Request::Once(Some(body::streaming(requests, codec, encoder, call.clone())))
        }
    };
    // The method's string becomes the path without a copy (it is not needed after this).
    let method_name = std::mem::take(&mut details.method).into_bytes();
    let path = http::uri::PathAndQuery::from_maybe_shared(bytes::Bytes::from(method_name))
        .map_err(|_| RpcError::internal("invalid method path: it must be /package.Service/Method, in characters a URI path allows"))?;
    let prepared = Prepared {
        path,
        metadata,
        wait_for_ready,
        compression,
        deadline,
        max_receive,
    };
    retry::run(channel, call, &prepared, request, policy.as_ref().map(|p: &Policy| p), throttle).await
}

fn min_opt(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Waits for the resolver's first answer (the service config is part of it), connecting
/// the channel if it is IDLE.
async fn wait_resolved(channel: &Arc<ChannelShared>) -> Result<(), RpcError> {
    let mut rx = channel.current.subscribe();
    loop {
        if channel.is_closed() {
            return Err(RpcError::cancelled("channel closed"));
        }
        if rx.borrow_and_update().resolved {
            return Ok(());
        }
        channel.exit_idle();
        if rx.changed().await.is_err() {
            return Err(RpcError::cancelled("channel closed"));
        }
    }
}
