//! Channelz (gRFC A14): what this process's channels, subchannels, servers and sockets are
//! doing, read as snapshots.
//!
//! Every channel, subchannel, server, listening socket and connection registers here when
//! it is made, under an id unique in the process (one id space for all kinds, starting at
//! 1), and leaves when it goes away (a channel when it is closed or dropped, a subchannel
//! when its channel lets go of it, a server when it is dropped, a socket when its
//! connection ends). The functions of this module read copies of their state; nothing
//! here changes what they do. The `rpc-channelz` crate serves these snapshots as the
//! `grpc.channelz.v1.Channelz` service.
//!
//! What is counted:
//! - channels: calls started, succeeded (status OK) and failed (any other status, or
//!   dropped before their end), the last start, the connectivity state, and a trace of the
//!   last [`TRACE_EVENTS`] events (state changes, resolver results, subchannels created);
//! - subchannels: their address and state, the calls (attempts) that went out on them, a
//!   trace of state changes, and their open connection;
//! - servers: calls started, succeeded and failed, their listening sockets and open
//!   connections;
//! - sockets: local and remote address, streams started, succeeded and failed, and when the
//!   last stream was created. Messages sent and received and keepalives sent are not
//!   counted (reported as 0).
//!
//! ```
//! // Every live channel of the process, first page.
//! let page = rpc_aio::channelz::top_channels(0, 100);
//! for channel in &page.items {
//!     println!("{} {} {:?} started={}", channel.id, channel.target, channel.state, channel.calls.started);
//! }
//! ```

use nodes::registry;
use std::collections::BTreeMap;
use std::sync::{Arc, Weak};

mod info;
mod nodes;
mod trace;

pub use info::*;
pub(crate) use nodes::{ChannelNode, ServerCall, ServerNode, SocketNode, SubchannelNode};

/// The page of live entries from `start` on, at most `max` (0: [`MAX_PAGE`]).
fn page<T>(map: &BTreeMap<i64, Weak<T>>, start: i64, max: usize) -> (Vec<Arc<T>>, bool) {
    let max = if max == 0 { MAX_PAGE } else { max.min(MAX_PAGE) };
    let mut items = Vec::new();
    for w in map.range(start.max(0)..).map(|(_, w)| w) {
        // Never upgrade one too many: a node dropped here would take the registry's lock.
        if w.strong_count() == 0 {
            continue;
        }
        if items.len() == max {
            return (items, false);
        }
        if let Some(node) = w.upgrade() {
            items.push(node);
        }
    }
    (items, true)
}

fn listed<T, I>(nodes: (Vec<Arc<T>>, bool), info: impl Fn(&T) -> I) -> Page<I> {
    let (nodes, end) = nodes;
    Page {
        items: nodes.iter().map(|n| info(n)).collect(),
        end,
    }
}

/// The live channels with an id of at least `start_id`, at most `max_results` of them (0:
/// up to [`MAX_PAGE`]). For the next page, pass the last id plus one.
pub fn top_channels(start_id: i64, max_results: usize) -> Page<ChannelInfo> {
    let nodes = page(&registry().channels, start_id, max_results);
    listed(nodes, ChannelNode::snapshot)
}

/// The channel with `id`, if it is live.
pub fn channel(id: i64) -> Option<ChannelInfo> {
    let node = registry().channels.get(&id).and_then(Weak::upgrade);
    node.map(|n| n.snapshot())
}

/// The subchannel with `id`, if it is live.
pub fn subchannel(id: i64) -> Option<SubchannelInfo> {
    let node = registry().subchannels.get(&id).and_then(Weak::upgrade);
    node.map(|n| n.snapshot())
}

/// The live servers with an id of at least `start_id`, at most `max_results` (0: up to
/// [`MAX_PAGE`]).
pub fn servers(start_id: i64, max_results: usize) -> Page<ServerInfo> {
    let nodes = page(&registry().servers, start_id, max_results);
    listed(nodes, ServerNode::snapshot)
}

/// The server with `id`, if it is live.
pub fn server(id: i64) -> Option<ServerInfo> {
    let node = registry().servers.get(&id).and_then(Weak::upgrade);
    node.map(|n| n.snapshot())
}

/// The open connections of server `server_id` with a socket id of at least
/// `start_socket_id`, at most `max_results` (0: up to [`MAX_PAGE`]); `None` for an unknown
/// server.
pub fn server_sockets(server_id: i64, start_socket_id: i64, max_results: usize) -> Option<Page<EntityRef>> {
    let server = registry().servers.get(&server_id).and_then(Weak::upgrade)?;
    let nodes = page(&server.open_sockets(), start_socket_id, max_results);
    Some(listed(nodes, SocketNode::reference))
}

/// The socket with `id`, if it is open.
pub fn socket(id: i64) -> Option<SocketInfo> {
    let node = registry().sockets.get(&id).and_then(Weak::upgrade);
    node.map(|n| n.snapshot())
}
