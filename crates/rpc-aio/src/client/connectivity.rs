//! Connectivity, as a channel's users see it: the state (IDLE, CONNECTING, READY,
//! TRANSIENT_FAILURE, SHUTDOWN), waiting for it to change, and waiting for READY.

use super::channel::Channel;
use super::pick;
use rpc_core::{ChannelConnectivity, RpcError};

impl Channel {
    /// The connectivity state (the aggregate of its subchannels', as its load-balancing
    /// policy reports it); with `try_to_connect`, an IDLE channel starts connecting (one in
    /// TRANSIENT_FAILURE keeps trying on its own, each address after its backoff).
    pub fn get_state(&self, try_to_connect: bool) -> ChannelConnectivity {
        let shared = self.shared();
        let state = shared.state();
        if try_to_connect && state == ChannelConnectivity::Idle {
            shared.exit_idle();
        }
        state
    }

    /// Waits until the state differs from `last` and returns the new state.
    ///
    /// # Cancel safety
    /// Cancel safe: dropping the future only stops waiting.
    pub async fn wait_for_state_change(&self, last: ChannelConnectivity) -> ChannelConnectivity {
        let mut rx = self.shared().subscribe();
        match rx.wait_for(|s| *s != last).await {
            Ok(s) => *s,
            Err(_) => ChannelConnectivity::Shutdown,
        }
    }

    /// Waits until the channel is READY, connecting (and reconnecting with backoff) as
    /// needed. Errors only when the channel is shut down.
    ///
    /// # Cancel safety
    /// Cancel safe: dropping the future stops waiting; an attempt already started goes on.
    pub async fn channel_ready(&self) -> Result<(), RpcError> {
        pick::wait_ready(self.shared())
            .await
            .map_err(|_| RpcError::cancelled(format!("channel to {} is shut down; it will never be ready", self.shared().target)))
    }
}
