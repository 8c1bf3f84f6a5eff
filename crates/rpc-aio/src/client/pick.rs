//! Choosing the connection a call goes out on: the channel's READY subchannel, after
//! waiting for it to connect (a call on an IDLE channel connects it), or failing fast with
//! UNAVAILABLE on TRANSIENT_FAILURE unless the call waits for ready.

use super::body::ClientBody;
use super::channel::ChannelShared;
use hyper::client::conn::http2::SendRequest;
use rpc_core::{ChannelConnectivity, RpcError};
use std::sync::Arc;

/// The sender of a READY connection for a call.
///
/// # Errors
/// CANCELLED once the channel is closed; UNAVAILABLE (naming the target and why the last
/// attempt failed) when the channel is in TRANSIENT_FAILURE and the call does not wait for
/// ready.
pub(crate) async fn pick(shared: &Arc<ChannelShared>, wait_for_ready: bool) -> Result<SendRequest<ClientBody>, RpcError> {
    if let Some(sender) = shared.subchannel.sender() {
        return Ok(sender);
    }
    if wait_for_ready {
        return wait_ready(shared).await;
    }
    let mut rx = shared.subscribe();
    let mut attempted = false;
    loop {
        // The state first, then the connection: a connection is stored before its READY is
        // published, so a READY seen here finds it, and a change after this is not missed.
        let state = *rx.borrow_and_update();
        if let Some(sender) = shared.subchannel.sender() {
            return Ok(sender);
        }
        match state {
            ChannelConnectivity::Shutdown => return Err(closed()),
            // A failure seen after this call's own attempt (or with no attempt possible
            // before the backoff ends) fails the call.
            ChannelConnectivity::TransientFailure if attempted || shared.subchannel.next_attempt().is_some() => {
                return Err(unavailable(shared));
            }
            ChannelConnectivity::Idle | ChannelConnectivity::TransientFailure => {
                shared.subchannel.connect();
                attempted = true;
            }
            ChannelConnectivity::Connecting => attempted = true,
            ChannelConnectivity::Ready => {}
        }
        if rx.changed().await.is_err() {
            return Err(closed());
        }
    }
}

/// Waits until the channel is READY, triggering connection attempts (with backoff), and
/// returns the connection's sender.
pub(crate) async fn wait_ready(shared: &Arc<ChannelShared>) -> Result<SendRequest<ClientBody>, RpcError> {
    let mut rx = shared.subscribe();
    loop {
        // As in `pick`: the state first, then the connection.
        let state = *rx.borrow_and_update();
        if let Some(sender) = shared.subchannel.sender() {
            return Ok(sender);
        }
        match state {
            ChannelConnectivity::Shutdown => return Err(closed()),
            ChannelConnectivity::Ready => {}
            _ => shared.subchannel.connect(),
        }
        let wake = shared.subchannel.next_attempt();
        tokio::select! {
            r = rx.changed() => if r.is_err() { return Err(closed()) },
            _ = async { match wake { Some(w) => tokio::time::sleep_until(w.into()).await, None => std::future::pending().await } } => {}
        }
    }
}

fn closed() -> RpcError {
    RpcError::cancelled("channel closed")
}

/// The error of a call on a channel that cannot connect.
pub(crate) fn unavailable(shared: &ChannelShared) -> RpcError {
    let why = shared.subchannel.last_error().unwrap_or_else(|| "no connection".to_owned());
    RpcError::unavailable(format!("failed to connect to {}: {why}", shared.target))
}
