//! A subchannel: the connection to one address, with its own connectivity state
//! (IDLE, CONNECTING, READY, TRANSIENT_FAILURE, SHUTDOWN) and reconnect backoff. It
//! connects on demand (a call, `get_state(true)`, `channel_ready`), goes back to IDLE when
//! its connection ends, and waits out its backoff after a failed attempt.

use super::body::ClientBody;
use super::connect::{Connector, KillSwitch};
use super::target::Address;
use hyper::client::conn::http2::SendRequest;
use rpc_core::ChannelConnectivity;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How much longer each failed attempt makes the next wait (gRPC's connection backoff).
const BACKOFF_MULTIPLIER: f64 = 1.6;

/// Reconnect backoff settings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Backoff {
    pub(crate) initial: Duration,
    pub(crate) max: Duration,
}

#[derive(Debug)]
struct Live {
    sender: SendRequest<ClientBody>,
    kill: Arc<KillSwitch>,
}

#[derive(Debug)]
struct Inner {
    live: Option<Live>,
    connecting: bool,
    /// When the next attempt may start (after a failure).
    next_attempt: Option<Instant>,
    delay: Duration,
    last_error: Option<String>,
    /// Counts connections, so a stale end does not touch a newer one.
    generation: u64,
    shut_down: bool,
}

/// Told of every state change (the channel aggregates its subchannels' states).
pub(crate) type Listener = Arc<dyn Fn(ChannelConnectivity) + Send + Sync>;

/// The connection to one address.
pub(crate) struct Subchannel {
    address: Address,
    connector: Arc<Connector>,
    backoff: Backoff,
    state: watch::Sender<ChannelConnectivity>,
    inner: Mutex<Inner>,
    runtime: tokio::runtime::Handle,
    listener: Listener,
}

impl std::fmt::Debug for Subchannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subchannel")
            .field("address", &self.address.to_string())
            .field("state", &self.state())
            .finish()
    }
}

impl Subchannel {
    pub(crate) fn new(
        address: Address,
        connector: Arc<Connector>,
        backoff: Backoff,
        runtime: tokio::runtime::Handle,
        listener: Listener,
    ) -> Arc<Subchannel> {
        Arc::new(Subchannel {
            address,
            connector,
            backoff: Backoff {
                initial: backoff.initial,
                max: backoff.max.max(backoff.initial),
            },
            state: watch::channel(ChannelConnectivity::Idle).0,
            inner: Mutex::new(Inner {
                live: None,
                connecting: false,
                next_attempt: None,
                delay: backoff.initial,
                last_error: None,
                generation: 0,
                shut_down: false,
            }),
            runtime,
            listener,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing panics under this lock, so a poisoned one is still consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current state.
    pub(crate) fn state(&self) -> ChannelConnectivity {
        *self.state.borrow()
    }

    fn set(&self, new: ChannelConnectivity) {
        let changed = self.state.send_if_modified(|s| {
            if *s == new || *s == ChannelConnectivity::Shutdown {
                false
            } else {
                *s = new;
                true
            }
        });
        if changed {
            (self.listener)(new);
        }
    }

    /// The open connection's sender, when READY.
    pub(crate) fn sender(&self) -> Option<SendRequest<ClientBody>> {
        let inner = self.lock();
        let live = inner.live.as_ref()?;
        if live.sender.is_closed() {
            return None;
        }
        Some(live.sender.clone())
    }

    /// The last connect error, for messages.
    pub(crate) fn last_error(&self) -> Option<String> {
        self.lock().last_error.clone()
    }

    /// When the next attempt may start, if the subchannel is waiting out its backoff.
    pub(crate) fn next_attempt(&self) -> Option<Instant> {
        self.lock().next_attempt.filter(|t| *t > Instant::now())
    }

    /// Starts a connection attempt in the background unless one is running, the
    /// subchannel is connected or shut down, or its backoff has not passed.
    pub(crate) fn connect(self: &Arc<Self>) {
        {
            let mut inner = self.lock();
            if inner.shut_down || inner.connecting || inner.live.as_ref().is_some_and(|l| !l.sender.is_closed()) {
                return;
            }
            if inner.next_attempt.is_some_and(|t| t > Instant::now()) {
                return;
            }
            inner.connecting = true;
            inner.live = None;
        }
        self.set(ChannelConnectivity::Connecting);
        let this = self.clone();
        self.runtime.spawn(async move { this.run_attempt().await });
    }

    async fn run_attempt(self: Arc<Self>) {
        let result = self.connector.connect(&self.address).await;
        let ended = {
            let mut inner = self.lock();
            inner.connecting = false;
            match result {
                Ok(transport) if !inner.shut_down => {
                    inner.generation += 1;
                    inner.live = Some(Live {
                        sender: transport.sender,
                        kill: transport.kill,
                    });
                    inner.next_attempt = None;
                    inner.delay = self.backoff.initial;
                    inner.last_error = None;
                    Some((transport.ended, inner.generation))
                }
                Ok(transport) => {
                    transport.kill.kill();
                    None
                }
                Err(why) => {
                    tracing::debug!(address = %self.address, "connect failed: {why}");
                    inner.next_attempt = Instant::now().checked_add(inner.delay);
                    inner.delay = Duration::try_from_secs_f64(inner.delay.as_secs_f64() * BACKOFF_MULTIPLIER)
                        .unwrap_or(self.backoff.max)
                        .min(self.backoff.max);
                    inner.last_error = Some(why);
                    None
                }
            }
        };
        let Some((ended, generation)) = ended else {
            if self.lock().shut_down {
                return;
            }
            self.set(ChannelConnectivity::TransientFailure);
            return;
        };
        self.set(ChannelConnectivity::Ready);
        let _ = ended.await;
        let current = {
            let mut inner = self.lock();
            let current = inner.generation == generation && !inner.shut_down;
            if current {
                inner.live = None;
            }
            current
        };
        if current {
            tracing::debug!(address = %self.address, "connection ended; the subchannel is idle");
            if self.state() == ChannelConnectivity::Ready {
                self.set(ChannelConnectivity::Idle);
            }
        }
    }

    /// Closes the connection at once and refuses to connect again: SHUTDOWN.
    pub(crate) fn shutdown(&self) {
        let live = {
            let mut inner = self.lock();
            inner.shut_down = true;
            inner.live.take()
        };
        if let Some(live) = live {
            live.kill.kill();
        }
        if self.state.send_replace(ChannelConnectivity::Shutdown) != ChannelConnectivity::Shutdown {
            (self.listener)(ChannelConnectivity::Shutdown);
        }
    }
}
