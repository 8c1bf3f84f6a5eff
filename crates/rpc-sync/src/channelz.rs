//! Channelz (gRFC A14): snapshots of the process's channels, subchannels, servers and
//! sockets. The blocking face runs on rpc-aio's engine, so this is the same registry as
//! `rpc_aio::channelz`: its channels and servers are listed here too, with the same ids.
//! The `rpc-channelz` crate serves these snapshots as the `grpc.channelz.v1.Channelz` service.
//!
//! ```
//! let servers = rpc_sync::channelz::servers(0, 100);
//! for server in &servers.items {
//!     println!("server {} started={}", server.id, server.calls.started);
//! }
//! ```

pub use rpc_aio::channelz::{
    CallCounts, ChannelInfo, EntityRef, MAX_PAGE, Page, ServerInfo, Severity, SocketAddress, SocketInfo, SubchannelInfo, TRACE_EVENTS,
    Trace, TraceEvent, channel, server, server_sockets, servers, socket, subchannel, top_channels,
};
