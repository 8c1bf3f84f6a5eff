//! How the client reports what tonic says: tonic's statuses mapped to gRPC's codes
//! (DEADLINE_EXCEEDED for a local timeout, UNAVAILABLE for a lost or refused connection or
//! a GOAWAY before any response, RESOURCE_EXHAUSTED for an oversized message), with the
//! transport's reasons in the message.

use crate::channel::ChannelInner;
use rpc_core::{ChannelConnectivity, RpcError, StatusCode};

impl ChannelInner {
    /// Maps a tonic status: tonic's local timeout is DEADLINE_EXCEEDED; a transport failure
    /// before any response is UNAVAILABLE naming the target.
    pub(crate) fn map_status(&self, status: &tonic::Status, before_headers: bool) -> RpcError {
        let err = RpcError::from_tonic(status);
        if let Some(too_big) = received_too_large(status) {
            return too_big;
        }
        if err.code() == StatusCode::Cancelled && status.message() == "Timeout expired" {
            return RpcError::deadline_exceeded("deadline exceeded");
        }
        if err.code() == StatusCode::Cancelled && connection_dropped(status) {
            return RpcError::unavailable(format!("connection to {} lost: {}", self.target, describe(status)))
                .with_debug_error_string(format!("{status:?}"));
        }
        if before_headers && going_away(status) {
            // The server sent GOAWAY before it answered this stream (it is stopping): the
            // RPC was not processed, so it may be retried elsewhere (tonic says INTERNAL).
            return RpcError::unavailable(format!("the server at {} is going away: {}", self.target, describe(status)))
                .with_debug_error_string(format!("{status:?}"));
        }
        if before_headers && matches!(err.code(), StatusCode::Unavailable | StatusCode::Unknown) && status.metadata().is_empty() {
            let state = self.connectivity.get();
            // A status with a cause came from the transport, not from the server: e.g. a TLS
            // peer that refused the client's certificate after the client saw the handshake
            // done (TLS 1.3), while the channel already counted as READY.
            let from_transport = std::error::Error::source(status).is_some();
            if state != ChannelConnectivity::Ready || err.code() == StatusCode::Unavailable || from_transport {
                let why = match state {
                    ChannelConnectivity::Ready => describe(status),
                    _ => self.connectivity.last_error().unwrap_or_else(|| describe(status)),
                };
                return RpcError::unavailable(format!("failed to connect to {}: {why}", self.target))
                    .with_debug_error_string(status.message().to_owned());
            }
        }
        err
    }
}

/// Whether the status comes from the peer's GOAWAY.
fn going_away(status: &tonic::Status) -> bool {
    let mut source = std::error::Error::source(status);
    while let Some(e) = source {
        if let Some(h2) = e.downcast_ref::<h2::Error>() {
            return h2.is_go_away() && h2.is_remote();
        }
        source = e.source();
    }
    false
}

/// The status message with its chain of causes: tonic says only "transport error" when a
/// TLS peer refuses the handshake, the reason (e.g. `received fatal alert:
/// CertificateRequired`) is in the source chain.
fn describe(status: &tonic::Status) -> String {
    let mut text = status.message().to_owned();
    let mut source = std::error::Error::source(status);
    while let Some(e) = source {
        let cause = e.to_string();
        if !cause.is_empty() && !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = e.source();
    }
    text
}

/// Whether tonic's status comes from hyper giving up on a dropped connection (as opposed to
/// an HTTP/2 reset with CANCEL from the peer, which stays CANCELLED).
fn connection_dropped(status: &tonic::Status) -> bool {
    let mut source = std::error::Error::source(status);
    while let Some(e) = source {
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            return h.is_canceled() || h.is_closed() || h.is_incomplete_message();
        }
        source = e.source();
    }
    false
}

/// tonic's decoder refuses a message over `max_decoding_message_size` with OUT_OF_RANGE;
/// gRPC says RESOURCE_EXHAUSTED, naming both sizes.
fn received_too_large(status: &tonic::Status) -> Option<RpcError> {
    if status.code() != tonic::Code::OutOfRange {
        return None;
    }
    let rest = status.message().strip_prefix("Error, decoded message length too large: found ")?;
    let (found, rest) = rest.split_once(" bytes, the limit is: ")?;
    let limit = rest.strip_suffix(" bytes")?;
    Some(RpcError::resource_exhausted(format!(
        "received message larger than max ({found} vs. {limit} bytes)"
    )))
}

pub(super) fn too_large(len: usize, max: usize) -> RpcError {
    RpcError::resource_exhausted(format!("trying to send a message larger than the maximum ({len} vs. {max} bytes)"))
}
