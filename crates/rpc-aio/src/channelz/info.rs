//! The snapshots the read functions return.

use rpc_core::ChannelConnectivity;
use std::net::SocketAddr;
use std::time::SystemTime;

/// How many recent events a channel's or subchannel's trace keeps (older ones are dropped;
/// [`Trace::events_logged`] counts them all).
pub const TRACE_EVENTS: usize = 32;

/// The most items one page holds; a larger `max_results` is cut to this.
pub const MAX_PAGE: usize = 100;

/// One page of a listing, in ascending id order.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The items, at most the page size asked for.
    pub items: Vec<T>,
    /// Whether this is the last page (no entity with a higher id existed when it was read).
    pub end: bool,
}

/// A reference to an entity: its id and a name for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntityRef {
    /// The entity's id.
    pub id: i64,
    /// A short description (a subchannel's address, a socket's ends).
    pub name: String,
}

/// Call counters of a channel, subchannel or server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CallCounts {
    /// Calls started.
    pub started: u64,
    /// Calls that ended with status OK.
    pub succeeded: u64,
    /// Calls that ended with another status (or were dropped before their end).
    pub failed: u64,
    /// When the last call started.
    pub last_call_started: Option<SystemTime>,
}

/// How much a trace event matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Normal operation.
    Info,
    /// Something went wrong that the channel recovers from (a failed connection attempt).
    Warning,
    /// An error.
    Error,
}

/// One event of a trace.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceEvent {
    /// What happened.
    pub description: String,
    /// How much it matters.
    pub severity: Severity,
    /// When.
    pub timestamp: SystemTime,
    /// The subchannel the event is about, if any (a subchannel created).
    pub child: Option<EntityRef>,
}

/// The recent events of a channel, subchannel or server.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// Events ever logged (more than `events.len()` once old ones were dropped).
    pub events_logged: u64,
    /// When the entity was created.
    pub created: SystemTime,
    /// The last [`TRACE_EVENTS`] events, oldest first.
    pub events: Vec<TraceEvent>,
}

/// A channel, as a snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelInfo {
    /// Its id.
    pub id: i64,
    /// The target it was made for, as given.
    pub target: String,
    /// Its connectivity state.
    pub state: ChannelConnectivity,
    /// Its calls.
    pub calls: CallCounts,
    /// Recent events.
    pub trace: Trace,
    /// Its live subchannels.
    pub subchannels: Vec<EntityRef>,
}

/// A subchannel, as a snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct SubchannelInfo {
    /// Its id.
    pub id: i64,
    /// The address it connects to.
    pub target: String,
    /// Its connectivity state.
    pub state: ChannelConnectivity,
    /// The calls that went out on its connections.
    pub calls: CallCounts,
    /// Recent events.
    pub trace: Trace,
    /// Its open connection, if any.
    pub sockets: Vec<EntityRef>,
}

/// A server, as a snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerInfo {
    /// Its id.
    pub id: i64,
    /// The RPCs it received.
    pub calls: CallCounts,
    /// Recent events.
    pub trace: Trace,
    /// The sockets it listens on.
    pub listen_sockets: Vec<EntityRef>,
}

/// One end of a socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocketAddress {
    /// An IP address and port.
    Tcp(SocketAddr),
    /// A Unix socket path (or `@name` for an abstract one).
    Unix(String),
    /// Anything else, as text.
    Other(String),
}

impl std::fmt::Display for SocketAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SocketAddress::Tcp(a) => write!(f, "{a}"),
            SocketAddress::Unix(p) => write!(f, "unix:{p}"),
            SocketAddress::Other(o) => f.write_str(o),
        }
    }
}

/// A socket, as a snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct SocketInfo {
    /// Its id.
    pub id: i64,
    /// Its ends, as text.
    pub name: String,
    /// The local end.
    pub local: Option<SocketAddress>,
    /// The remote end (none for a listening socket).
    pub remote: Option<SocketAddress>,
    /// Streams (calls) started on it.
    pub streams_started: u64,
    /// Streams that ended with status OK.
    pub streams_succeeded: u64,
    /// Streams that ended otherwise.
    pub streams_failed: u64,
    /// Messages sent: not counted yet, always 0.
    pub messages_sent: u64,
    /// Messages received: not counted yet, always 0.
    pub messages_received: u64,
    /// Keepalive pings sent: not known (hyper sends them), always `None`.
    pub keepalives_sent: Option<u64>,
    /// When this side last opened a stream (client sockets).
    pub last_local_stream_created: Option<SystemTime>,
    /// When the peer last opened a stream (server sockets).
    pub last_remote_stream_created: Option<SystemTime>,
    /// When a message was last sent: not recorded yet, always `None`.
    pub last_message_sent: Option<SystemTime>,
    /// When a message was last received: not recorded yet, always `None`.
    pub last_message_received: Option<SystemTime>,
}
