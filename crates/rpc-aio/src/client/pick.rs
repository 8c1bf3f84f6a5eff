//! Choosing the connection a call goes out on: the channel's picker (published by its
//! load-balancing policy) chooses a READY subchannel. A call that finds none waits for the
//! next picker (a call on an IDLE channel connects it first); a picker that fails the call
//! (TRANSIENT_FAILURE) fails it fast with UNAVAILABLE, unless the call waits for ready.

use super::channel::ChannelShared;
use super::lb::{Pick, PickInfo};
use super::stream::Sender;
use crate::channelz::SocketNode;
use rpc_core::{ChannelConnectivity, Metadata, RpcError};
use std::sync::Arc;

/// The sender of a READY connection for a call to `method`, with the connection's
/// channelz socket.
///
/// # Errors
/// CANCELLED once the channel is closed; the picker's error (UNAVAILABLE, naming the
/// address and why it failed) when the call does not wait for ready.
pub(crate) async fn pick(
    shared: &Arc<ChannelShared>,
    wait_for_ready: bool,
    method: &str,
    metadata: &Metadata,
) -> Result<(Sender, Arc<SocketNode>), RpcError> {
    let info = PickInfo { method, metadata };
    // The common case: a READY subchannel at once, with no subscription.
    let fast = match shared.current.borrow().picker.pick(&info) {
        Pick::Ready(s) => s.core().sender(),
        _ => None,
    };
    if let Some(sender) = fast {
        return Ok(sender);
    }
    let mut rx = shared.current.subscribe();
    loop {
        if shared.is_closed() {
            return Err(closed());
        }
        // The picker and the state it was published with, read together: an IDLE state
        // published after this read changes `current`, so it is not missed.
        let (pick, idle) = {
            let current = rx.borrow_and_update();
            (current.picker.pick(&info), current.state == ChannelConnectivity::Idle)
        };
        match pick {
            Pick::Ready(s) => match s.core().sender() {
                Some(sender) => return Ok(sender),
                // Picked as its connection ended: the policy publishes a new picker.
                None => s.connect(),
            },
            Pick::Fail(e) if !wait_for_ready => return Err(e),
            Pick::Queue | Pick::Fail(_) => {
                if idle {
                    shared.exit_idle();
                }
            }
        }
        if rx.changed().await.is_err() {
            return Err(closed());
        }
    }
}

/// Waits until the channel is READY, asking it to connect when it is IDLE.
///
/// # Errors
/// CANCELLED once the channel is shut down.
pub(crate) async fn wait_ready(shared: &Arc<ChannelShared>) -> Result<(), RpcError> {
    let mut rx = shared.subscribe();
    loop {
        match *rx.borrow_and_update() {
            ChannelConnectivity::Ready => return Ok(()),
            ChannelConnectivity::Shutdown => return Err(closed()),
            ChannelConnectivity::Idle => shared.exit_idle(),
            _ => {}
        }
        if rx.changed().await.is_err() {
            return Err(closed());
        }
    }
}

fn closed() -> RpcError {
    RpcError::cancelled("channel closed")
}
