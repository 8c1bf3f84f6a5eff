//! `ChannelConnectivity`: the five states of a channel's connection.

use std::fmt;

/// The connectivity state of a channel, as in gRPC's connectivity semantics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChannelConnectivity {
    /// No connection and none being made; a call or `try_to_connect` starts one.
    Idle,
    /// A connection is being established.
    Connecting,
    /// Connected; calls go out at once.
    Ready,
    /// The last attempt failed; the channel retries with backoff.
    TransientFailure,
    /// The channel was closed; it will not connect again.
    Shutdown,
}

impl ChannelConnectivity {
    /// The canonical upper-case name, e.g. `"TRANSIENT_FAILURE"`.
    pub const fn name(self) -> &'static str {
        match self {
            ChannelConnectivity::Idle => "IDLE",
            ChannelConnectivity::Connecting => "CONNECTING",
            ChannelConnectivity::Ready => "READY",
            ChannelConnectivity::TransientFailure => "TRANSIENT_FAILURE",
            ChannelConnectivity::Shutdown => "SHUTDOWN",
        }
    }
}

impl fmt::Display for ChannelConnectivity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
