//! A subchannel's engine ([`Core`]): the connection to one address, with its own
//! connectivity state and reconnect backoff (gRPC's connection-backoff.md: 1.6x per
//! failure, 20% jitter, capped). It connects when its policy asks, reports every state
//! change to its channel, goes IDLE when its connection ends, and after a failed attempt
//! stays in TRANSIENT_FAILURE for its backoff, then goes IDLE (the policy reconnects it).
//! With health checking (gRFC A17) a connected subchannel is READY only while the backend
//! says SERVING (see [`super::health`]).

use super::backoff::Backoff;
use super::connect::Connector;
use super::driver::Ended;
use super::health;
use super::resolver::Address;
use super::resolver::address::Endpoint;
use super::stream::{ConnState, Sender};
use crate::channelz::{SocketAddress, SocketNode, SubchannelNode};
use rpc_core::ChannelConnectivity;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

struct Live {
    sender: Sender,
    /// The connection's channelz socket.
    socket: Arc<SocketNode>,
    /// The connection's shared state: `kill` cuts it, `release` lets it close when idle.
    state: Arc<ConnState>,
    health: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Live {
    /// The connection closes once its calls are done (at once if it was killed); its
    /// health check stops.
    fn drop(&mut self) {
        self.state.release();
        if let Some(h) = self.health.take() {
            h.abort();
        }
    }
}

struct Inner {
    state: ChannelConnectivity,
    live: Option<Live>,
    connecting: bool,
    /// When the backoff after a failure ends.
    next_attempt: Option<Instant>,
    delay: Duration,
    last_error: Option<String>,
    /// Counts connections, so a stale end does not touch a newer one.
    generation: u64,
    shut_down: bool,
}

/// Told of every state change (the channel passes them to its policy).
pub(crate) type Listener = Arc<dyn Fn(u64, ChannelConnectivity) + Send + Sync>;

/// The connection to one address.
pub(crate) struct Core {
    id: u64,
    address: Address,
    connector: Arc<Connector>,
    backoff: Backoff,
    inner: Mutex<Inner>,
    runtime: tokio::runtime::Handle,
    listener: Listener,
    /// The health check that decides READY (gRFC A17), if checked.
    health_service: Option<Arc<health::HealthCheck>>,
    channelz: Arc<SubchannelNode>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subchannel")
            .field("address", &self.address.to_string())
            .field("state", &self.state())
            .finish()
    }
}

impl Core {
    pub(crate) fn new(
        id: u64,
        address: Address,
        connector: Arc<Connector>,
        backoff: Backoff,
        runtime: tokio::runtime::Handle,
        listener: Listener,
        health_service: Option<Arc<health::HealthCheck>>,
    ) -> Arc<Core> {
        Arc::new(Core {
            id,
            connector,
            backoff: Backoff {
                initial: backoff.initial,
                max: backoff.max.max(backoff.initial),
            },
            inner: Mutex::new(Inner {
                state: ChannelConnectivity::Idle,
                live: None,
                connecting: false,
                next_attempt: None,
                delay: backoff.initial,
                last_error: None,
                generation: 0,
                shut_down: false,
            }),
            channelz: SubchannelNode::register(address.to_string()),
            address,
            runtime,
            listener,
            health_service,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing panics under this lock, so a poisoned one is still consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn address(&self) -> &Address {
        &self.address
    }

    /// Its channelz entry.
    pub(crate) fn channelz(&self) -> &Arc<SubchannelNode> {
        &self.channelz
    }

    /// The current state.
    pub(crate) fn state(&self) -> ChannelConnectivity {
        self.lock().state
    }

    /// Sets the state (under the lock) and reports a change (after it).
    fn set_locked(&self, mut inner: MutexGuard<'_, Inner>, new: ChannelConnectivity) {
        if inner.state == new || inner.state == ChannelConnectivity::Shutdown {
            return;
        }
        inner.state = new;
        drop(inner);
        self.channelz.set_state(new);
        (self.listener)(self.id, new);
    }

    /// The open connection's sender and its channelz socket, when READY.
    pub(crate) fn sender(&self) -> Option<(Sender, Arc<SocketNode>)> {
        let inner = self.lock();
        if inner.state != ChannelConnectivity::Ready {
            return None;
        }
        let live = inner.live.as_ref()?;
        if live.sender.is_closed() {
            return None;
        }
        Some((live.sender.clone(), live.socket.clone()))
    }

    /// The last connect error, for messages.
    pub(crate) fn last_error(&self) -> Option<String> {
        self.lock().last_error.clone()
    }

    /// Starts a connection attempt in the background if the subchannel is IDLE.
    pub(crate) fn connect(self: &Arc<Self>) {
        let inner = self.lock();
        if inner.shut_down || inner.connecting || inner.state != ChannelConnectivity::Idle {
            return;
        }
        let mut inner = inner;
        inner.connecting = true;
        inner.live = None;
        self.set_locked(inner, ChannelConnectivity::Connecting);
        let this = self.clone();
        self.runtime.spawn(async move { this.run_attempt().await });
    }

    async fn run_attempt(self: Arc<Self>) {
        let result = self.connector.connect(&self.address).await;
        let Some((ended, generation)) = self.connected(result) else {
            return;
        };
        // Also when the server sent GOAWAY: calls in flight go on, new ones need a new
        // connection.
        let ended = ended.await.unwrap_or(Ended::Closed);
        if ended == Ended::TooManyPings {
            self.connector.too_many_pings();
        }
        let mut inner = self.lock();
        if inner.generation != generation || inner.shut_down {
            return;
        }
        inner.live = None;
        tracing::debug!(address = %self.address, "connection ended; the subchannel is idle");
        self.set_locked(inner, ChannelConnectivity::Idle);
    }

    /// Records an attempt's result: the connection's end to wait for and its generation, or
    /// `None` after a failure (TRANSIENT_FAILURE, then IDLE once the backoff has passed).
    fn connected(
        self: &Arc<Self>,
        result: Result<super::connect::Transport, String>,
    ) -> Option<(tokio::sync::oneshot::Receiver<Ended>, u64)> {
        let mut inner = self.lock();
        inner.connecting = false;
        let transport = match result {
            Ok(transport) if !inner.shut_down => transport,
            Ok(transport) => {
                transport.state.kill();
                return None;
            }
            Err(_) if inner.shut_down => return None,
            Err(why) => {
                tracing::debug!(address = %self.address, "connect failed: {why}");
                let (wait, next) = self.backoff.step(inner.delay);
                inner.delay = next;
                inner.next_attempt = Instant::now().checked_add(wait);
                self.channelz.connect_failed(&why);
                inner.last_error = Some(why);
                self.set_locked(inner, ChannelConnectivity::TransientFailure);
                // After the backoff, IDLE again: the policy decides whether to reconnect.
                let this = self.clone();
                self.runtime.spawn(async move {
                    tokio::time::sleep(wait).await;
                    let mut inner = this.lock();
                    if inner.state == ChannelConnectivity::TransientFailure && inner.live.is_none() && !inner.connecting {
                        inner.next_attempt = None;
                        this.set_locked(inner, ChannelConnectivity::Idle);
                    }
                });
                return None;
            }
        };
        inner.generation += 1;
        let generation = inner.generation;
        inner.next_attempt = None;
        inner.delay = self.backoff.initial;
        inner.last_error = None;
        let health = self.health_service.clone().map(|service| {
            let watched: Arc<dyn health::Watched> = self.clone();
            self.runtime
                .spawn(health::watch(watched, self.backoff, generation, transport.sender.clone(), service))
        });
        let checked = health.is_some();
        let remote = match &self.address.endpoint {
            Endpoint::Tcp(a) => SocketAddress::Tcp(*a),
            Endpoint::Unix(p) => SocketAddress::Unix(p.display().to_string()),
            Endpoint::UnixAbstract(n) => SocketAddress::Unix(format!("@{}", String::from_utf8_lossy(n))),
        };
        let socket = self.channelz.new_socket(transport.local.map(SocketAddress::Tcp), Some(remote));
        inner.live = Some(Live {
            sender: transport.sender,
            socket,
            state: transport.state,
            health,
        });
        // With health checks: CONNECTING until the first report (gRFC A17).
        if !checked {
            self.set_locked(inner, ChannelConnectivity::Ready);
        }
        Some((transport.ended, generation))
    }

    /// Closes the connection at once (its calls fail) and never connects again: SHUTDOWN.
    pub(crate) fn shutdown(&self) {
        let mut inner = self.lock();
        inner.shut_down = true;
        if let Some(live) = inner.live.take() {
            live.state.kill();
        }
        self.set_locked(inner, ChannelConnectivity::Shutdown);
    }

    /// Its policy let go of it: never connects again; the connection closes once the
    /// calls on it are done (see `Live`'s drop).
    pub(crate) fn release(&self) {
        let mut inner = self.lock();
        inner.shut_down = true;
        inner.live = None;
        inner.state = ChannelConnectivity::Shutdown;
        drop(inner);
        self.channelz.set_state(ChannelConnectivity::Shutdown);
    }
}

impl health::Watched for Core {
    fn address(&self) -> String {
        self.address.to_string()
    }

    /// SERVING makes the subchannel READY, anything else TRANSIENT_FAILURE (`why` says
    /// what). Reports about an older connection are ignored.
    fn serving(&self, generation: u64, serving: Result<(), String>) {
        let mut inner = self.lock();
        if inner.generation != generation || inner.live.is_none() || inner.shut_down {
            return;
        }
        match serving {
            Ok(()) => self.set_locked(inner, ChannelConnectivity::Ready),
            Err(why) => {
                inner.last_error = Some(why);
                self.set_locked(inner, ChannelConnectivity::TransientFailure);
            }
        }
    }

    /// A new health-check call started on connection `generation`: CONNECTING.
    fn retrying(&self, generation: u64) {
        let inner = self.lock();
        if inner.generation == generation && inner.live.is_some() {
            self.set_locked(inner, ChannelConnectivity::Connecting);
        }
    }
}
