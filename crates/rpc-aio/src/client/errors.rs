//! What a call reports when its HTTP/2 stream fails: gRPC's codes for stream resets
//! (CANCEL is CANCELLED, REFUSED_STREAM UNAVAILABLE, ENHANCE_YOUR_CALM RESOURCE_EXHAUSTED,
//! ...), UNAVAILABLE for a lost connection or a GOAWAY before any response (the RPC was
//! not processed, so it may be retried elsewhere), CANCELLED once the channel is closed,
//! with the transport's reasons in the message.

use super::channel::ChannelShared;
use super::connect::describe;
use rpc_core::{RpcError, StatusCode};

/// Where in the call the stream failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum When {
    /// Before the response headers.
    BeforeResponse,
    /// While reading the response.
    Reading,
}

/// The status of a call whose stream failed with `error`.
pub(crate) fn from_h2(shared: &ChannelShared, error: &h2::Error, when: When) -> RpcError {
    if shared.is_closed() {
        return RpcError::cancelled("channel closed while the call was in flight");
    }
    let text = describe(error);
    let debug = format!("{error:?}");
    if error.is_go_away() && error.is_remote() && when == When::BeforeResponse {
        return RpcError::unavailable(format!("the server at {} is going away: {text}", shared.target)).with_debug_error_string(debug);
    }
    if let Some(reason) = error.reason()
        && (error.is_reset() || error.is_go_away())
    {
        return from_reason(reason, &text).with_debug_error_string(debug);
    }
    if error.is_io() {
        return RpcError::unavailable(format!("connection to {} lost: {text}", shared.target)).with_debug_error_string(debug);
    }
    let code = if when == When::BeforeResponse {
        StatusCode::Unavailable
    } else {
        StatusCode::Internal
    };
    RpcError::new(code, format!("the call to {} failed: {text}", shared.target)).with_debug_error_string(debug)
}

/// gRPC's code for an HTTP/2 error code.
fn from_reason(reason: h2::Reason, text: &str) -> RpcError {
    let code = match reason {
        h2::Reason::REFUSED_STREAM => StatusCode::Unavailable,
        h2::Reason::CANCEL => StatusCode::Cancelled,
        h2::Reason::ENHANCE_YOUR_CALM => StatusCode::ResourceExhausted,
        h2::Reason::INADEQUATE_SECURITY => StatusCode::PermissionDenied,
        _ => StatusCode::Internal,
    };
    RpcError::new(code, format!("stream reset ({reason:?}): {text}"))
}

/// Whether a stream failed in a way that shows the server never processed it (gRFC A6's
/// transparent retries): it refused the stream (REFUSED_STREAM), or its graceful GOAWAY
/// (NO_ERROR) named a last stream before this one.
pub(crate) fn never_processed(error: &h2::Error) -> bool {
    error.is_remote()
        && match error.reason() {
            Some(h2::Reason::REFUSED_STREAM) => error.is_reset(),
            Some(h2::Reason::NO_ERROR) => error.is_go_away(),
            _ => false,
        }
}
