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

use rpc_core::ChannelConnectivity;
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicI64, AtomicU8, AtomicU64};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How many recent events a channel's or subchannel's trace keeps (older ones are dropped;
/// [`Trace::events_logged`] counts them all).
pub const TRACE_EVENTS: usize = 32;

/// The most items one page holds; a larger `max_results` is cut to this.
pub const MAX_PAGE: usize = 100;

static NEXT_ID: AtomicI64 = AtomicI64::new(1);

fn next_id() -> i64 {
    NEXT_ID.fetch_add(1, Relaxed)
}

struct Registry {
    channels: BTreeMap<i64, Weak<ChannelNode>>,
    subchannels: BTreeMap<i64, Weak<SubchannelNode>>,
    servers: BTreeMap<i64, Weak<ServerNode>>,
    sockets: BTreeMap<i64, Weak<SocketNode>>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    channels: BTreeMap::new(),
    subchannels: BTreeMap::new(),
    servers: BTreeMap::new(),
    sockets: BTreeMap::new(),
});

// Upgraded entries are returned, never dropped, under this lock: a node's `Drop` takes it.
fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Nanoseconds since the Unix epoch (0 stands for "never").
fn now_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

fn time_of(nanos: i64) -> Option<SystemTime> {
    (nanos > 0).then(|| UNIX_EPOCH + Duration::from_nanos(nanos as u64))
}

fn state_code(state: ChannelConnectivity) -> u8 {
    match state {
        ChannelConnectivity::Idle => 0,
        ChannelConnectivity::Connecting => 1,
        ChannelConnectivity::Ready => 2,
        ChannelConnectivity::TransientFailure => 3,
        ChannelConnectivity::Shutdown => 4,
    }
}

fn state_of(code: u8) -> ChannelConnectivity {
    match code {
        0 => ChannelConnectivity::Idle,
        1 => ChannelConnectivity::Connecting,
        2 => ChannelConnectivity::Ready,
        3 => ChannelConnectivity::TransientFailure,
        _ => ChannelConnectivity::Shutdown,
    }
}

/// Call counters (relaxed atomics: each is exact, they are not read together atomically).
#[derive(Default)]
pub(crate) struct Calls {
    started: AtomicU64,
    succeeded: AtomicU64,
    failed: AtomicU64,
    last_started: AtomicI64,
}

impl Calls {
    pub(crate) fn start(&self) {
        self.started.fetch_add(1, Relaxed);
        self.last_started.store(now_nanos(), Relaxed);
    }

    pub(crate) fn end(&self, ok: bool) {
        if ok { &self.succeeded } else { &self.failed }.fetch_add(1, Relaxed);
    }

    fn snapshot(&self) -> CallCounts {
        CallCounts {
            started: self.started.load(Relaxed),
            succeeded: self.succeeded.load(Relaxed),
            failed: self.failed.load(Relaxed),
            last_call_started: time_of(self.last_started.load(Relaxed)),
        }
    }
}

/// A bounded ring of recent events.
struct TraceLog {
    created: SystemTime,
    logged: u64,
    events: VecDeque<TraceEvent>,
}

impl TraceLog {
    fn new() -> Mutex<TraceLog> {
        Mutex::new(TraceLog {
            created: SystemTime::now(),
            logged: 0,
            events: VecDeque::new(),
        })
    }
}

fn log(trace: &Mutex<TraceLog>, severity: Severity, description: String, child: Option<EntityRef>) {
    let mut t = lock(trace);
    t.logged += 1;
    if t.events.len() == TRACE_EVENTS {
        t.events.pop_front();
    }
    t.events.push_back(TraceEvent {
        description,
        severity,
        timestamp: SystemTime::now(),
        child,
    });
}

fn trace_of(trace: &Mutex<TraceLog>) -> Trace {
    let t = lock(trace);
    Trace {
        events_logged: t.logged,
        created: t.created,
        events: t.events.iter().cloned().collect(),
    }
}

/// A channel's entry.
pub(crate) struct ChannelNode {
    id: i64,
    target: String,
    state: AtomicU8,
    pub(crate) calls: Calls,
    trace: Mutex<TraceLog>,
    subchannels: Mutex<Vec<Weak<SubchannelNode>>>,
}

impl ChannelNode {
    pub(crate) fn register(target: String) -> Arc<ChannelNode> {
        let node = Arc::new(ChannelNode {
            id: next_id(),
            target,
            state: AtomicU8::new(state_code(ChannelConnectivity::Idle)),
            calls: Calls::default(),
            trace: TraceLog::new(),
            subchannels: Mutex::default(),
        });
        log(&node.trace, Severity::Info, "Channel created".to_owned(), None);
        registry().channels.insert(node.id, Arc::downgrade(&node));
        node
    }

    /// Records a state change.
    pub(crate) fn set_state(&self, state: ChannelConnectivity) {
        if self.state.swap(state_code(state), Relaxed) != state_code(state) {
            log(
                &self.trace,
                Severity::Info,
                format!("Channel state changed to {}", state.name()),
                None,
            );
        }
    }

    /// Records an event (a resolver result, a config change ...).
    pub(crate) fn event(&self, severity: Severity, description: String) {
        log(&self.trace, severity, description, None);
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
        log(
            &self.trace,
            Severity::Info,
            format!("Created subchannel for {}", sub.address),
            Some(child),
        );
    }

    /// Leaves the registry (the channel was closed); it stays readable by no id.
    pub(crate) fn deregister(&self) {
        self.set_state(ChannelConnectivity::Shutdown);
        registry().channels.remove(&self.id);
    }

    fn snapshot(&self) -> ChannelInfo {
        let subchannels = lock(&self.subchannels).iter().filter_map(Weak::upgrade).collect::<Vec<_>>();
        ChannelInfo {
            id: self.id,
            target: self.target.clone(),
            state: state_of(self.state.load(Relaxed)),
            calls: self.calls.snapshot(),
            trace: trace_of(&self.trace),
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
    state: AtomicU8,
    /// Shared with its connections' sockets, which count the calls that go out on them.
    calls: Arc<Calls>,
    trace: Mutex<TraceLog>,
    socket: Mutex<Weak<SocketNode>>,
}

impl SubchannelNode {
    pub(crate) fn register(address: String) -> Arc<SubchannelNode> {
        let node = Arc::new(SubchannelNode {
            id: next_id(),
            address,
            state: AtomicU8::new(state_code(ChannelConnectivity::Idle)),
            calls: Arc::default(),
            trace: TraceLog::new(),
            socket: Mutex::default(),
        });
        log(&node.trace, Severity::Info, "Subchannel created".to_owned(), None);
        registry().subchannels.insert(node.id, Arc::downgrade(&node));
        node
    }

    pub(crate) fn set_state(&self, state: ChannelConnectivity) {
        if self.state.swap(state_code(state), Relaxed) != state_code(state) {
            log(
                &self.trace,
                Severity::Info,
                format!("Subchannel state changed to {}", state.name()),
                None,
            );
        }
    }

    /// Records a failed connection attempt.
    pub(crate) fn connect_failed(&self, why: &str) {
        log(&self.trace, Severity::Warning, format!("Connect failed: {why}"), None);
    }

    /// The socket of a new connection: its streams count as this subchannel's calls.
    pub(crate) fn new_socket(&self, local: Option<SocketAddress>, remote: Option<SocketAddress>) -> Arc<SocketNode> {
        let socket = SocketNode::register(local, remote, Some(self.calls.clone()));
        *lock(&self.socket) = Arc::downgrade(&socket);
        socket
    }

    fn snapshot(&self) -> SubchannelInfo {
        let socket = lock(&self.socket).upgrade();
        SubchannelInfo {
            id: self.id,
            target: self.address.clone(),
            state: state_of(self.state.load(Relaxed)),
            calls: self.calls.snapshot(),
            trace: trace_of(&self.trace),
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

    fn snapshot(&self) -> ServerInfo {
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

    fn reference(&self) -> EntityRef {
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

    fn snapshot(&self) -> SocketInfo {
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
    let mut sockets: BTreeMap<i64, Weak<SocketNode>> = BTreeMap::new();
    {
        let mut list = lock(&server.sockets);
        list.retain(|s| s.strong_count() > 0);
        for s in list.iter() {
            if let Some(node) = s.upgrade() {
                sockets.insert(node.id, s.clone());
            }
        }
    }
    let nodes = page(&sockets, start_socket_id, max_results);
    Some(listed(nodes, SocketNode::reference))
}

/// The socket with `id`, if it is open.
pub fn socket(id: i64) -> Option<SocketInfo> {
    let node = registry().sockets.get(&id).and_then(Weak::upgrade);
    node.map(|n| n.snapshot())
}
