//! Real connectivity state: a watch of [`ChannelConnectivity`] fed by a connector that wraps
//! TCP/Unix connects (CONNECTING, READY, TRANSIENT_FAILURE with backoff) and by the socket
//! itself (back to IDLE when the peer closes it).

use crate::target::Target;
use hyper_util::rt::TokioIo;
use rpc_core::ChannelConnectivity;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio::sync::watch;

/// Backoff bookkeeping after failed attempts.
#[derive(Debug)]
struct Backoff {
    next_attempt: Option<Instant>,
    current: Duration,
    last_error: Option<String>,
}

/// The connectivity state of one channel and what its connector needs.
#[derive(Debug)]
pub(crate) struct Connectivity {
    state: watch::Sender<ChannelConnectivity>,
    backoff: Mutex<Backoff>,
    generation: AtomicU64,
    attempt: tokio::sync::Mutex<Option<Socket>>,
    target: Target,
    connect_timeout: Duration,
    initial_backoff: Duration,
    max_backoff: Duration,
    runtime: tokio::runtime::Handle,
}

impl Connectivity {
    pub(crate) fn new(
        target: Target,
        connect_timeout: Duration,
        initial_backoff: Duration,
        max_backoff: Duration,
        runtime: tokio::runtime::Handle,
    ) -> Arc<Connectivity> {
        Arc::new(Connectivity {
            state: watch::channel(ChannelConnectivity::Idle).0,
            backoff: Mutex::new(Backoff {
                next_attempt: None,
                current: initial_backoff,
                last_error: None,
            }),
            generation: AtomicU64::new(0),
            attempt: tokio::sync::Mutex::new(None),
            target,
            connect_timeout,
            initial_backoff,
            max_backoff: max_backoff.max(initial_backoff),
            runtime,
        })
    }

    /// The current state.
    pub(crate) fn get(&self) -> ChannelConnectivity {
        *self.state.borrow()
    }

    /// A receiver of state changes.
    pub(crate) fn subscribe(&self) -> watch::Receiver<ChannelConnectivity> {
        self.state.subscribe()
    }

    /// Sets the state, unless the channel is shut down (SHUTDOWN is final).
    pub(crate) fn set(&self, new: ChannelConnectivity) {
        self.state.send_if_modified(|s| {
            if *s == new || *s == ChannelConnectivity::Shutdown {
                false
            } else {
                *s = new;
                true
            }
        });
    }

    /// The last connect error, for messages.
    pub(crate) fn last_error(&self) -> Option<String> {
        self.backoff.lock().ok().and_then(|b| b.last_error.clone())
    }

    /// When the next attempt may be made (None: now).
    pub(crate) fn next_attempt(&self) -> Option<Instant> {
        self.backoff
            .lock()
            .ok()
            .and_then(|b| b.next_attempt)
            .filter(|t| *t > Instant::now())
    }

    /// Starts a connection attempt in the background (for `get_state(true)`, `channel_ready`
    /// and wait-for-ready); the socket is kept for the transport's next connect.
    pub(crate) fn try_connect(self: &Arc<Self>) {
        let state = self.get();
        if matches!(
            state,
            ChannelConnectivity::Ready | ChannelConnectivity::Connecting | ChannelConnectivity::Shutdown
        ) {
            return;
        }
        if self.next_attempt().is_some() {
            return;
        }
        let this = self.clone();
        self.runtime.spawn(async move {
            let mut slot = this.attempt.lock().await;
            if slot.is_some() || matches!(this.get(), ChannelConnectivity::Ready | ChannelConnectivity::Shutdown) {
                return;
            }
            if let Ok(sock) = this.attempt_connect().await {
                *slot = Some(sock);
            }
        });
    }

    /// One attempt, honouring backoff, updating the state.
    async fn attempt_connect(&self) -> io::Result<Socket> {
        if self.get() == ChannelConnectivity::Shutdown {
            return Err(io::Error::other("channel closed"));
        }
        if self.next_attempt().is_some() {
            let last = self.last_error().unwrap_or_default();
            return Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                format!("failed to connect to {}: {last} (in backoff)", self.target),
            ));
        }
        self.set(ChannelConnectivity::Connecting);
        let connect = async {
            match &self.target {
                Target::Tcp { host, port } => {
                    let s = TcpStream::connect((host.as_str(), *port)).await?;
                    let _ = s.set_nodelay(true);
                    Ok(Socket::Tcp(s))
                }
                Target::Unix(path) => Ok(Socket::Unix(UnixStream::connect(path).await?)),
            }
        };
        let result = match tokio::time::timeout(self.connect_timeout, connect).await {
            Ok(r) => r,
            Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out")),
        };
        match result {
            Ok(sock) => {
                if let Ok(mut b) = self.backoff.lock() {
                    *b = Backoff {
                        next_attempt: None,
                        current: self.initial_backoff,
                        last_error: None,
                    };
                }
                self.set(ChannelConnectivity::Ready);
                Ok(sock)
            }
            Err(e) => {
                if let Ok(mut b) = self.backoff.lock() {
                    b.next_attempt = Instant::now().checked_add(b.current);
                    b.current = Duration::try_from_secs_f64(b.current.as_secs_f64() * 1.6)
                        .unwrap_or(self.max_backoff)
                        .min(self.max_backoff);
                    b.last_error = Some(e.to_string());
                }
                self.set(ChannelConnectivity::TransientFailure);
                Err(io::Error::new(e.kind(), format!("failed to connect to {}: {e}", self.target)))
            }
        }
    }

    /// Called when a connection ends: READY becomes IDLE if it was the current connection.
    fn connection_lost(&self, generation: u64) {
        if self.generation.load(Ordering::Acquire) == generation {
            self.state.send_if_modified(|s| {
                if *s == ChannelConnectivity::Ready {
                    *s = ChannelConnectivity::Idle;
                    true
                } else {
                    false
                }
            });
        }
    }
}

/// The connector tonic's transport calls; it reports what happens to [`Connectivity`].
#[derive(Clone, Debug)]
pub(crate) struct ObservedConnector {
    pub(crate) conn: Arc<Connectivity>,
}

impl tower::Service<http::Uri> for ObservedConnector {
    type Response = TokioIo<ObservedIo>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<TokioIo<ObservedIo>>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: http::Uri) -> Self::Future {
        let conn = self.conn.clone();
        Box::pin(async move {
            let mut slot = conn.attempt.lock().await;
            let sock = match slot.take() {
                Some(s) => s,
                None => conn.attempt_connect().await?,
            };
            drop(slot);
            conn.set(ChannelConnectivity::Ready);
            let generation = conn.generation.fetch_add(1, Ordering::AcqRel) + 1;
            Ok(TokioIo::new(ObservedIo {
                sock,
                conn,
                generation,
                lost: AtomicBool::new(false),
            }))
        })
    }
}

/// A TCP or Unix socket.
#[derive(Debug)]
enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// A socket that reports EOF, errors and drop as a lost connection.
#[derive(Debug)]
pub(crate) struct ObservedIo {
    sock: Socket,
    conn: Arc<Connectivity>,
    generation: u64,
    lost: AtomicBool,
}

impl ObservedIo {
    fn lost(&self) {
        if !self.lost.swap(true, Ordering::AcqRel) {
            self.conn.connection_lost(self.generation);
        }
    }
}

impl Drop for ObservedIo {
    fn drop(&mut self) {
        self.lost();
    }
}

impl AsyncRead for ObservedIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let had_room = buf.remaining() > 0;
        let r = match &mut self.sock {
            Socket::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Socket::Unix(s) => Pin::new(s).poll_read(cx, buf),
        };
        match &r {
            Poll::Ready(Ok(())) if had_room && buf.filled().len() == before => self.lost(),
            Poll::Ready(Err(_)) => self.lost(),
            _ => {}
        }
        r
    }
}

impl AsyncWrite for ObservedIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let r = match &mut self.sock {
            Socket::Tcp(s) => Pin::new(s).poll_write(cx, data),
            Socket::Unix(s) => Pin::new(s).poll_write(cx, data),
        };
        if let Poll::Ready(Err(_)) = &r {
            self.lost();
        }
        r
    }

    // Vectored writes pass through: without them h2 copies every frame into one buffer
    // before writing (tonic's own connector writes vectored).
    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let r = match &mut self.sock {
            Socket::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Socket::Unix(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        };
        if let Poll::Ready(Err(_)) = &r {
            self.lost();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        match &self.sock {
            Socket::Tcp(s) => s.is_write_vectored(),
            Socket::Unix(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.sock {
            Socket::Tcp(s) => Pin::new(s).poll_flush(cx),
            Socket::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.sock {
            Socket::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Socket::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
