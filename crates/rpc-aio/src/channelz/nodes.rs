//! The entries the engine registers: channels, subchannels, servers, sockets, and the
//! tally of one server call.

use super::info::*;
use super::trace::{Calls, StateTrace, TraceLog, lock, log, now_nanos, time_of, trace_of};
use rpc_core::ChannelConnectivity;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicI64, AtomicU64};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

static NEXT_ID: AtomicI64 = AtomicI64::new(1);

fn next_id() -> i64 {
    NEXT_ID.fetch_add(1, Relaxed)
}

pub(super) struct Registry {
    pub(super) channels: BTreeMap<i64, Weak<ChannelNode>>,
    pub(super) subchannels: BTreeMap<i64, Weak<SubchannelNode>>,
    pub(super) servers: BTreeMap<i64, Weak<ServerNode>>,
    pub(super) sockets: BTreeMap<i64, Weak<SocketNode>>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    channels: BTreeMap::new(),
    subchannels: BTreeMap::new(),
    servers: BTreeMap::new(),
    sockets: BTreeMap::new(),
});

// Upgraded entries are returned, never dropped, under this lock: a node's `Drop` takes it.
pub(super) fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// A channel's entry.
pub(crate) struct ChannelNode {
    id: i64,
    target: String,
    state: StateTrace,
    pub(crate) calls: Calls,
    subchannels: Mutex<Vec<Weak<SubchannelNode>>>,
}

impl ChannelNode {
    pub(crate) fn register(target: String) -> Arc<ChannelNode> {
        let node = Arc::new(ChannelNode {
            id: next_id(),
            target,
            state: StateTrace::new("Channel"),
            calls: Calls::default(),
            subchannels: Mutex::default(),
        });
        registry().channels.insert(node.id, Arc::downgrade(&node));
        node
    }

    /// Records a state change.
    pub(crate) fn set_state(&self, state: ChannelConnectivity) {
        self.state.set(state);
    }

    /// Records an event (a resolver result, a config change ...).
    pub(crate) fn event(&self, severity: Severity, description: String) {
        self.state.log(severity, description, None);
    }

    pub(crate) fn add_subchannel(&self, sub: &Arc<SubchannelNode>) {
        let mut subs = lock(&self.subchannels);
        subs.retain(|s| s.strong_count() > 0);
        subs.push(Arc::downgrade(sub));
        drop(subs);
        let child = EntityRef {
            id: sub.id,
            name: sub.address.clone(),
        };
        self.state
            .log(Severity::Info, format!("Created subchannel for {}", sub.address), Some(child));
    }

    /// Leaves the registry (the channel was closed); it stays readable by no id.
    pub(crate) fn deregister(&self) {
        self.set_state(ChannelConnectivity::Shutdown);
        registry().channels.remove(&self.id);
    }

    pub(super) fn snapshot(&self) -> ChannelInfo {
        let subchannels = lock(&self.subchannels).iter().filter_map(Weak::upgrade).collect::<Vec<_>>();
        ChannelInfo {
            id: self.id,
            target: self.target.clone(),
            state: self.state.state(),
            calls: self.calls.snapshot(),
            trace: self.state.trace(),
            subchannels: subchannels
                .iter()
                .map(|s| EntityRef {
                    id: s.id,
                    name: s.address.clone(),
                })
                .collect(),
        }
    }
}

impl Drop for ChannelNode {
    fn drop(&mut self) {
        registry().channels.remove(&self.id);
    }
}

/// A subchannel's entry.
pub(crate) struct SubchannelNode {
    id: i64,
    address: String,
    state: StateTrace,
    /// Shared with its connections' sockets, which count the calls that go out on them.
    calls: Arc<Calls>,
    socket: Mutex<Weak<SocketNode>>,
}

impl SubchannelNode {
    pub(crate) fn register(address: String) -> Arc<SubchannelNode> {
        let node = Arc::new(SubchannelNode {
            id: next_id(),
            address,
            state: StateTrace::new("Subchannel"),
            calls: Arc::default(),
            socket: Mutex::default(),
        });
        registry().subchannels.insert(node.id, Arc::downgrade(&node));
        node
    }

    pub(crate) fn set_state(&self, state: ChannelConnectivity) {
        self.state.set(state);
    }

    /// Records a failed connection attempt.
    pub(crate) fn connect_failed(&self, why: &str) {
        self.state.log(Severity::Warning, format!("Connect failed: {why}"), None);
    }

    /// The socket of a new connection: its streams count as this subchannel's calls.
    pub(crate) fn new_socket(&self, local: Option<SocketAddress>, remote: Option<SocketAddress>) -> Arc<SocketNode> {
        let socket = SocketNode::register(local, remote, Some(self.calls.clone()));
        *lock(&self.socket) = Arc::downgrade(&socket);
        socket
    }

    pub(super) fn snapshot(&self) -> SubchannelInfo {
        let socket = lock(&self.socket).upgrade();
        SubchannelInfo {
            id: self.id,
            target: self.address.clone(),
            state: self.state.state(),
            calls: self.calls.snapshot(),
            trace: self.state.trace(),
            sockets: socket.iter().map(|s| s.reference()).collect(),
        }
    }
}

impl Drop for SubchannelNode {
    fn drop(&mut self) {
        registry().subchannels.remove(&self.id);
    }
}

/// A server's entry.
pub(crate) struct ServerNode {
    id: i64,
    pub(crate) calls: Calls,
    trace: Mutex<TraceLog>,
    listen: Mutex<Vec<Weak<SocketNode>>>,
    sockets: Mutex<Vec<Weak<SocketNode>>>,
}

impl ServerNode {
    /// Its open connections by id.
    pub(super) fn open_sockets(&self) -> BTreeMap<i64, Weak<SocketNode>> {
        let mut sockets = BTreeMap::new();
        let mut list = lock(&self.sockets);
        list.retain(|s| s.strong_count() > 0);
        for s in list.iter() {
            if let Some(node) = s.upgrade() {
                sockets.insert(node.id, s.clone());
            }
        }
        sockets
    }

    pub(crate) fn register() -> Arc<ServerNode> {
        let node = Arc::new(ServerNode {
            id: next_id(),
            calls: Calls::default(),
            trace: TraceLog::new(),
            listen: Mutex::default(),
            sockets: Mutex::default(),
        });
        log(&node.trace, Severity::Info, "Server created".to_owned(), None);
        registry().servers.insert(node.id, Arc::downgrade(&node));
        node
    }

    fn keep(list: &Mutex<Vec<Weak<SocketNode>>>, socket: &Arc<SocketNode>) {
        let mut list = lock(list);
        list.retain(|s| s.strong_count() > 0);
        list.push(Arc::downgrade(socket));
    }

    /// A listening socket, registered for as long as the caller keeps it.
    pub(crate) fn new_listen_socket(&self, local: SocketAddress) -> Arc<SocketNode> {
        let socket = SocketNode::register(Some(local), None, None);
        Self::keep(&self.listen, &socket);
        socket
    }

    /// An accepted connection's socket, registered for as long as the caller keeps it.
    pub(crate) fn new_socket(&self, local: Option<SocketAddress>, remote: Option<SocketAddress>) -> Arc<SocketNode> {
        let socket = SocketNode::register(local, remote, None);
        Self::keep(&self.sockets, &socket);
        socket
    }

    pub(super) fn snapshot(&self) -> ServerInfo {
        let listen = lock(&self.listen).iter().filter_map(Weak::upgrade).collect::<Vec<_>>();
        ServerInfo {
            id: self.id,
            calls: self.calls.snapshot(),
            trace: trace_of(&self.trace),
            listen_sockets: listen.iter().map(|s| s.reference()).collect(),
        }
    }
}

impl Drop for ServerNode {
    fn drop(&mut self) {
        registry().servers.remove(&self.id);
    }
}

/// A socket's entry: a listener or one connection.
pub(crate) struct SocketNode {
    id: i64,
    local: Option<SocketAddress>,
    remote: Option<SocketAddress>,
    streams_started: AtomicU64,
    streams_succeeded: AtomicU64,
    streams_failed: AtomicU64,
    last_local_stream: AtomicI64,
    last_remote_stream: AtomicI64,
    /// The calls of the subchannel the connection belongs to (client side).
    parent: Option<Arc<Calls>>,
}

impl SocketNode {
    fn register(local: Option<SocketAddress>, remote: Option<SocketAddress>, parent: Option<Arc<Calls>>) -> Arc<SocketNode> {
        let node = Arc::new(SocketNode {
            id: next_id(),
            local,
            remote,
            streams_started: AtomicU64::new(0),
            streams_succeeded: AtomicU64::new(0),
            streams_failed: AtomicU64::new(0),
            last_local_stream: AtomicI64::new(0),
            last_remote_stream: AtomicI64::new(0),
            parent,
        });
        registry().sockets.insert(node.id, Arc::downgrade(&node));
        node
    }

    fn name(&self) -> String {
        let text = |a: &Option<SocketAddress>| a.as_ref().map_or_else(|| "?".to_owned(), ToString::to_string);
        match &self.remote {
            Some(_) => format!("{} -> {}", text(&self.local), text(&self.remote)),
            None => format!("listening on {}", text(&self.local)),
        }
    }

    pub(super) fn reference(&self) -> EntityRef {
        EntityRef {
            id: self.id,
            name: self.name(),
        }
    }

    /// A stream this side opened (a client's call attempt).
    pub(crate) fn local_stream_started(&self) {
        self.streams_started.fetch_add(1, Relaxed);
        self.last_local_stream.store(now_nanos(), Relaxed);
        if let Some(p) = &self.parent {
            p.start();
        }
    }

    /// A stream the peer opened (a server's RPC).
    pub(crate) fn remote_stream_started(&self) {
        self.streams_started.fetch_add(1, Relaxed);
        self.last_remote_stream.store(now_nanos(), Relaxed);
    }

    /// A stream ended: with status OK or not.
    pub(crate) fn stream_ended(&self, ok: bool) {
        if ok { &self.streams_succeeded } else { &self.streams_failed }.fetch_add(1, Relaxed);
        if let Some(p) = &self.parent {
            p.end(ok);
        }
    }

    pub(super) fn snapshot(&self) -> SocketInfo {
        SocketInfo {
            id: self.id,
            name: self.name(),
            local: self.local.clone(),
            remote: self.remote.clone(),
            streams_started: self.streams_started.load(Relaxed),
            streams_succeeded: self.streams_succeeded.load(Relaxed),
            streams_failed: self.streams_failed.load(Relaxed),
            messages_sent: 0,
            messages_received: 0,
            keepalives_sent: None,
            last_local_stream_created: time_of(self.last_local_stream.load(Relaxed)),
            last_remote_stream_created: time_of(self.last_remote_stream.load(Relaxed)),
            last_message_sent: None,
            last_message_received: None,
        }
    }
}

impl std::fmt::Debug for SocketNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketNode")
            .field("id", &self.id)
            .field("name", &self.name())
            .finish()
    }
}

impl Drop for SocketNode {
    fn drop(&mut self) {
        registry().sockets.remove(&self.id);
    }
}

/// A server side's tally of one RPC: started when made, ended once with its status (an
/// RPC dropped before its status went out failed).
pub(crate) struct ServerCall {
    server: Arc<ServerNode>,
    socket: Arc<SocketNode>,
    ok: Option<bool>,
}

impl ServerCall {
    pub(crate) fn start(server: &Arc<ServerNode>, socket: &Arc<SocketNode>) -> ServerCall {
        server.calls.start();
        socket.remote_stream_started();
        ServerCall {
            server: server.clone(),
            socket: socket.clone(),
            ok: None,
        }
    }

    /// Records the status the RPC ended with (from its `grpc-status` header, absent = not OK).
    pub(crate) fn ended(mut self, status: Option<&http::HeaderValue>) {
        self.ok = Some(status.is_some_and(|s| s.as_bytes() == b"0"));
    }
}

impl Drop for ServerCall {
    fn drop(&mut self) {
        let ok = self.ok.unwrap_or(false);
        self.server.calls.end(ok);
        self.socket.stream_ended(ok);
    }
}

// ----- the read API -----
