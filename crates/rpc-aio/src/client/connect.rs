//! Opening one transport to one address: the socket (TCP or Unix), TLS when the channel
//! has TLS credentials, and the HTTP/2 connection on top (h2's client, driven by a task
//! of its own that also sends the keepalive pings: [`super::keepalive`]). A transport
//! counts as connected only once the server's HTTP/2 SETTINGS have arrived, so READY means
//! the connection can carry a call (gRPC's rule), not merely that a socket opened.

use super::driver::{self, Ended, Keepalive};
use super::resolver::Address;
use super::resolver::address::Endpoint;
use super::stream::{ConnState, Sender};
use rpc_core::ChannelOptions;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio::sync::oneshot;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::ServerName;

/// What an IO stream under the HTTP/2 connection must be.
trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// How a channel opens its transports; shared by its subchannels.
pub(crate) struct Connector {
    tls: Option<(tokio_rustls::TlsConnector, ServerName<'static>)>,
    /// Local credentials: only a peer on this machine (loopback or a Unix socket) is accepted.
    local_only: bool,
    http2: h2::client::Builder,
    connect_timeout: Duration,
    /// How long a keepalive ping waits for its answer, and whether pings go out on a
    /// connection with no calls.
    keepalive_timeout: Duration,
    keepalive_without_calls: bool,
    /// The keepalive time of new connections: the configured one, doubled after each
    /// `too_many_pings` GOAWAY (gRFC A8).
    keepalive_time: std::sync::Mutex<Option<Duration>>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector").field("tls", &self.tls.is_some()).finish()
    }
}

/// One open HTTP/2 connection.
pub(crate) struct Transport {
    pub(crate) sender: Sender,
    /// Completes when the connection takes no more calls: it ended (closed by either side,
    /// or failed), or the server sent GOAWAY (its calls in flight go on).
    pub(crate) ended: oneshot::Receiver<Ended>,
    /// What the connection's users share with its task; its `kill` closes it at once (h2
    /// keeps a connection with streams in flight open until they end; this cuts its socket
    /// instead, failing them).
    pub(crate) state: Arc<ConnState>,
    /// The local end of a TCP connection (for channelz).
    pub(crate) local: Option<std::net::SocketAddr>,
}

fn killed() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, "the channel closed the connection")
}

impl Connector {
    /// A connector for `options`, with TLS when `tls` is given (the config and the name to
    /// verify).
    pub(crate) fn new(
        options: &ChannelOptions,
        tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
        local_only: bool,
    ) -> Connector {
        let mut http2 = h2::client::Builder::new();
        http2
            .max_header_list_size(options.max_header_list_size)
            .initial_window_size(options.initial_stream_window_size.unwrap_or(DEFAULT_STREAM_WINDOW))
            .initial_connection_window_size(options.initial_connection_window_size.unwrap_or(DEFAULT_CONN_WINDOW))
            // Until the server's SETTINGS say how many streams it takes (hyper's choice).
            .initial_max_send_streams(100)
            .max_send_buffer_size(MAX_SEND_BUFFER)
            .max_local_error_reset_streams(Some(1024))
            .enable_push(false);
        Connector {
            tls: tls.map(|(config, name)| (tokio_rustls::TlsConnector::from(config), name)),
            local_only,
            http2,
            connect_timeout: options.connect_timeout,
            keepalive_timeout: options.keepalive_timeout,
            keepalive_without_calls: options.keepalive_permit_without_calls,
            keepalive_time: std::sync::Mutex::new(options.keepalive_time),
        }
    }

    /// The server said `too_many_pings`: new connections ping half as often (gRFC A8).
    pub(crate) fn too_many_pings(&self) {
        let mut time = self.keepalive_time.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = time.as_mut() {
            *t = t.saturating_mul(2);
            tracing::warn!(keepalive_time = ?*t, "the server sent GOAWAY too_many_pings: doubling the keepalive time of new connections");
        }
    }

    /// The keepalive time new connections use now.
    pub(crate) fn keepalive_time(&self) -> Option<Duration> {
        *self.keepalive_time.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens a transport to `address`, within the connect timeout. Must run on a runtime.
    ///
    /// # Errors
    /// Why it failed, in words (refused, timed out, the TLS handshake's reason, a peer
    /// that does not speak HTTP/2).
    pub(crate) async fn connect(&self, address: &Address) -> Result<Transport, String> {
        match tokio::time::timeout(self.connect_timeout, self.open(address)).await {
            Ok(r) => r,
            Err(_) => Err(format!("connect timed out after {:?}", self.connect_timeout)),
        }
    }

    async fn open(&self, address: &Address) -> Result<Transport, String> {
        let mut local = None;
        let socket: Box<dyn Io> = match &address.endpoint {
            Endpoint::Tcp(addr) => {
                let s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
                let _ = s.set_nodelay(true);
                local = s.local_addr().ok();
                if self.local_only {
                    let peer = s.peer_addr().map_err(|e| e.to_string())?;
                    if !rpc_core::is_local_peer(peer.ip()) {
                        return Err(format!(
                            "local credentials accept only a local peer (a loopback address or a Unix socket), and {peer} is not one"
                        ));
                    }
                }
                Box::new(s)
            }
            Endpoint::Unix(path) => Box::new(UnixStream::connect(path).await.map_err(|e| e.to_string())?),
            Endpoint::UnixAbstract(name) => Box::new(connect_abstract(name).map_err(|e| e.to_string())?),
        };
        let io: Box<dyn Io> = match &self.tls {
            None => socket,
            Some((connector, name)) => {
                let stream = connector.connect(name.clone(), socket).await.map_err(|e| describe_tls(&e))?;
                if stream.get_ref().1.alpn_protocol() != Some(b"h2") {
                    return Err("the server did not agree to HTTP/2 (ALPN h2) in the TLS handshake".to_owned());
                }
                Box::new(stream)
            }
        };
        let (settings_tx, settings_rx) = oneshot::channel();
        let state = Arc::new(ConnState::default());
        let io = SettingsWatch {
            inner: io,
            header: [0; 9],
            seen: 0,
            signal: Some(settings_tx),
            state: state.clone(),
        };
        let (sender, mut connection) = self.http2.handshake::<_, bytes::Bytes>(io).await.map_err(|e| describe(&e))?;
        // h2 hands out the ping handle once: it is there for a new connection.
        let keepalive = match (self.keepalive_time(), connection.ping_pong()) {
            (Some(time), Some(pings)) => Some(Keepalive {
                time,
                timeout: self.keepalive_timeout,
                without_calls: self.keepalive_without_calls,
                pings,
            }),
            _ => None,
        };
        let ended = driver::spawn(connection, keepalive, state.clone(), sender.clone());
        match settings_rx.await {
            Ok(Ok(())) => Ok(Transport {
                sender: Sender::new(sender, state.clone()),
                ended,
                state,
                local,
            }),
            Ok(Err(why)) => {
                state.kill();
                Err(why)
            }
            Err(_) => {
                state.kill();
                Err("the connection closed before the server's HTTP/2 settings arrived".to_owned())
            }
        }
    }
}

/// How many bytes of DATA h2 buffers per stream beyond what the peer's window lets out.
const MAX_SEND_BUFFER: usize = 1024 * 1024;
/// The receive windows when the options leave them unset (hyper's client defaults, which
/// the channel used before it drove h2 itself): 2 MiB per stream, 5 MiB per connection.
pub(crate) const DEFAULT_STREAM_WINDOW: u32 = 2 * 1024 * 1024;
pub(crate) const DEFAULT_CONN_WINDOW: u32 = 5 * 1024 * 1024;

/// Connects to a Unix socket in the abstract namespace (Linux only).
#[cfg(target_os = "linux")]
fn connect_abstract(name: &[u8]) -> io::Result<UnixStream> {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
    // Connecting a local socket does not wait on the network.
    let std = std::os::unix::net::UnixStream::connect_addr(&addr)?;
    std.set_nonblocking(true)?;
    UnixStream::from_std(std)
}

#[cfg(not(target_os = "linux"))]
fn connect_abstract(_name: &[u8]) -> io::Result<UnixStream> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "abstract Unix sockets exist only on Linux",
    ))
}

/// The message of a TLS failure, with its causes (rustls's reason, e.g. an unknown issuer).
fn describe_tls(e: &io::Error) -> String {
    let mut text = format!("TLS handshake failed: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let cause = s.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = s.source();
    }
    text
}

/// A read error before the server's settings, with its causes.
fn describe_tls_read(e: &io::Error) -> String {
    let mut text = format!("the connection failed before the server's HTTP/2 settings: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let cause = s.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = s.source();
    }
    text
}

/// An error's message with its chain of causes.
pub(crate) fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let cause = s.to_string();
        if !cause.is_empty() && !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = s.source();
    }
    text
}

/// Reads the first frame the server sends and reports whether it is SETTINGS (every
/// HTTP/2 server starts with one): the transport is ready once it is. After that it only
/// passes bytes through.
/// It also watches the connection's kill switch, and counts its reads (for keepalive).
struct SettingsWatch {
    inner: Box<dyn Io>,
    header: [u8; 9],
    seen: usize,
    signal: Option<oneshot::Sender<Result<(), String>>>,
    state: Arc<ConnState>,
}

impl AsyncRead for SettingsWatch {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        if this.state.watch_killed(cx) {
            return Poll::Ready(Err(killed()));
        }
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &polled
            && buf.filled().len() > before
        {
            this.state.note_read();
        }
        if let Poll::Ready(Err(e)) = &polled
            && let Some(signal) = this.signal.take()
        {
            // E.g. the server's TLS alert refusing this client's certificate (TLS 1.3 ends
            // the client's half of the handshake before the server has checked it).
            let _ = signal.send(Err(describe_tls_read(e)));
        }
        if this.signal.is_some()
            && let Poll::Ready(Ok(())) = &polled
        {
            let fresh = &buf.filled()[before..];
            let take = fresh.len().min(9 - this.seen);
            this.header[this.seen..this.seen + take].copy_from_slice(&fresh[..take]);
            this.seen += take;
            if this.seen == 9 || fresh.is_empty() {
                let verdict = if this.seen == 9 && this.header[3] == 0x4 {
                    Ok(())
                } else if fresh.is_empty() {
                    Err("the server closed the connection before its HTTP/2 settings".to_owned())
                } else {
                    Err("the server does not speak HTTP/2 (its first frame is not SETTINGS)".to_owned())
                };
                if let Some(signal) = this.signal.take() {
                    let _ = signal.send(verdict);
                }
            }
        }
        polled
    }
}

impl AsyncWrite for SettingsWatch {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        if self.state.is_killed() {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    // Vectored writes pass through: without them h2 copies every frame into one buffer.
    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        if self.state.is_killed() {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
