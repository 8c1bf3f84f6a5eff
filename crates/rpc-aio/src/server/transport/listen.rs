//! Ports: binding listeners (TCP or Unix sockets, at `add_*_port`, so the port is known
//! at once), accept loops that run while the server is serving, local credentials' peer
//! check, TLS handshakes, and the count of live connections.

use super::connection::serve_connection;
use super::tls::TlsSource;
use crate::channelz::{SocketAddress, SocketNode};
use crate::client::resolver::address::Endpoint;
use crate::client::resolver::unix_endpoint;
use crate::server::dispatch::{Peer, ServerShared};
use crate::server::lifecycle::Phase;
use rpc_core::{AuthContext, RpcError};
use std::net::{SocketAddr, TcpListener as StdListener, ToSocketAddrs};
use std::os::unix::net::UnixListener as StdUnixListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::sync::Notify;

/// How long a connection whose TLS handshake failed is drained before it is closed.
const FAILED_HANDSHAKE_LINGER: Duration = Duration::from_secs(1);

/// How the connections of a port are secured: TLS or plaintext, and whether only local
/// peers are served (local credentials).
pub(crate) struct Security {
    pub(crate) tls: Option<TlsSource>,
    pub(crate) local_only: bool,
}

/// A bound port waiting for `start`.
pub(crate) struct Port {
    listener: Listener,
    tls: Option<Arc<TlsSource>>,
    local_only: bool,
}

enum Listener {
    Tcp(StdListener),
    Unix(StdUnixListener, Option<SocketFile>),
}

/// The port number `add_*_port` returns for a Unix socket, which has none: 1, as gRPC
/// returns (a port number of 0 means failure to gRPC Python code).
pub(crate) const UNIX_PORT_NUMBER: u16 = 1;

/// Binds `address`: `host:port`, `[::1]:port`, `0.0.0.0:0`..., or a Unix socket
/// (`unix:path`, `unix:///abs/path`, `unix-abstract:name`); returns the port and its port
/// number ([`UNIX_PORT_NUMBER`] for a Unix socket).
pub(crate) fn bind(address: &str, security: Security) -> Result<(Port, u16), RpcError> {
    let (tls, local_only) = (security.tls.map(Arc::new), security.local_only);
    if let Some(endpoint) = unix_endpoint(address) {
        let listener = bind_unix(address, &endpoint?)?;
        return Ok((Port { listener, tls, local_only }, UNIX_PORT_NUMBER));
    }
    let addrs: Vec<SocketAddr> = address
        .to_socket_addrs()
        .map_err(|e| RpcError::invalid_argument(format!("cannot resolve the server address {address:?}: {e}")))?
        .collect();
    let mut last = None;
    for addr in addrs {
        match StdListener::bind(addr).and_then(|l| l.set_nonblocking(true).map(|_| l)) {
            Ok(listener) => {
                let port = listener.local_addr().map(|a| a.port()).unwrap_or(addr.port());
                let listener = Listener::Tcp(listener);
                return Ok((Port { listener, tls, local_only }, port));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(RpcError::unavailable(match last {
        Some(e) => format!("could not bind {address}: {e}"),
        None => format!("could not bind {address}: it resolves to no address"),
    }))
}

/// Binds a Unix socket. A socket file already at the path is removed first, as gRPC does
/// (a server that died leaves one behind); any other kind of file there makes the bind fail.
fn bind_unix(address: &str, endpoint: &Endpoint) -> Result<Listener, RpcError> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let failed = |e: std::io::Error| RpcError::unavailable(format!("could not bind {address}: {e}"));
    let listener = match endpoint {
        Endpoint::Unix(path) => {
            if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
                tracing::info!(path = %path.display(), "removing the stale socket file before binding");
                std::fs::remove_file(path).map_err(failed)?;
            }
            let listener = StdUnixListener::bind(path).map_err(failed)?;
            let file = std::fs::symlink_metadata(path).ok().map(|m| SocketFile {
                path: path.clone(),
                dev: m.dev(),
                ino: m.ino(),
            });
            Listener::Unix(listener, file)
        }
        Endpoint::UnixAbstract(name) => Listener::Unix(bind_abstract(name).map_err(failed)?, None),
        Endpoint::Tcp(_) => return Err(RpcError::invalid_argument(format!("{address:?} is not a Unix socket address"))),
    };
    if let Listener::Unix(l, _) = &listener {
        l.set_nonblocking(true).map_err(failed)?;
    }
    Ok(listener)
}

#[cfg(target_os = "linux")]
fn bind_abstract(name: &[u8]) -> std::io::Result<StdUnixListener> {
    use std::os::linux::net::SocketAddrExt;
    StdUnixListener::bind_addr(&std::os::unix::net::SocketAddr::from_abstract_name(name)?)
}

#[cfg(not(target_os = "linux"))]
fn bind_abstract(_name: &[u8]) -> std::io::Result<StdUnixListener> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "abstract Unix sockets exist on Linux only",
    ))
}

/// A socket file this server created: removed when its port closes (at `stop`), unless
/// the file at the path is no longer the one it made (another server bound there since).
struct SocketFile {
    path: std::path::PathBuf,
    dev: u64,
    ino: u64,
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        use std::os::unix::fs::MetadataExt;
        if std::fs::symlink_metadata(&self.path).is_ok_and(|m| m.dev() == self.dev && m.ino() == self.ino)
            && let Err(e) = std::fs::remove_file(&self.path)
        {
            tracing::debug!(path = %self.path.display(), "socket file not removed: {e}");
        }
    }
}

/// The live connections of a server, and its accept loops (each holds its listening
/// socket, and a Unix port its socket file, until it ends).
#[derive(Default)]
pub(crate) struct Connections {
    count: AtomicUsize,
    listening: AtomicUsize,
    gone: Notify,
}

impl Connections {
    pub(crate) fn count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// Waits until no connection is open and every accept loop has ended (so a stopped
    /// server's ports are closed and its socket files removed).
    pub(crate) async fn wait_closed(&self) {
        loop {
            let notified = self.gone.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.count() == 0 && self.listening.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// One connection (or, `listener`, one accept loop) counted open until dropped.
struct Counted {
    connections: Arc<Connections>,
    listener: bool,
}

impl Counted {
    fn new(c: &Arc<Connections>) -> Counted {
        Counted::of(c, false)
    }

    fn of(c: &Arc<Connections>, listener: bool) -> Counted {
        let counter = if listener { &c.listening } else { &c.count };
        counter.fetch_add(1, Ordering::AcqRel);
        Counted {
            connections: c.clone(),
            listener,
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let c = &self.connections;
        let counter = if self.listener { &c.listening } else { &c.count };
        if counter.fetch_sub(1, Ordering::AcqRel) == 1 {
            c.gone.notify_waiters();
        }
    }
}

/// Starts accepting on `port` while the server is serving. Must run inside a runtime.
pub(crate) fn serve_port(port: Port, shared: Arc<ServerShared>, connections: Arc<Connections>) -> Result<(), RpcError> {
    let failed = |e: std::io::Error| RpcError::unavailable(format!("cannot listen: {e}"));
    let listener = match port.listener {
        Listener::Tcp(l) => Bound::Tcp(TcpListener::from_std(l).map_err(failed)?),
        Listener::Unix(l, file) => Bound::Unix(UnixListener::from_std(l).map_err(failed)?, file),
    };
    let accepting = Accepting {
        tls: port.tls,
        local_only: port.local_only,
        shared,
        connections,
    };
    let counted = Counted::of(&accepting.connections, true);
    tokio::spawn(async move {
        accept_loop(listener, accepting).await;
        // After the listener (and a Unix port's socket file) is dropped.
        drop(counted);
    });
    Ok(())
}

/// A listening socket; a Unix one holds its socket file until the accept loop ends.
enum Bound {
    Tcp(TcpListener),
    Unix(UnixListener, #[allow(dead_code)] Option<SocketFile>),
}

/// What every connection of one port is served with.
#[derive(Clone)]
struct Accepting {
    tls: Option<Arc<TlsSource>>,
    local_only: bool,
    shared: Arc<ServerShared>,
    connections: Arc<Connections>,
}

impl Bound {
    /// The listening address, as channelz lists it.
    fn channelz_address(&self) -> Option<SocketAddress> {
        match self {
            Bound::Tcp(l) => l.local_addr().ok().map(SocketAddress::Tcp),
            Bound::Unix(l, _) => l.local_addr().ok().map(|a| SocketAddress::Unix(unix_peer(&a))),
        }
    }
}

async fn accept_loop(listener: Bound, port: Accepting) {
    let mut phase = port.shared.lifecycle.subscribe();
    // Listed while the loop runs.
    let local = listener.channelz_address();
    let _listening = local.clone().map(|a| port.shared.channelz.new_listen_socket(a));
    loop {
        let accepted = tokio::select! {
            a = accept(&listener) => a,
            _ = phase.wait_for(|p| *p > Phase::Serving) => return,
        };
        match accepted {
            Ok(Accepted::Tcp(stream, addr)) => {
                let _ = stream.set_nodelay(true);
                let address = match addr {
                    SocketAddr::V4(a) => format!("ipv4:{a}"),
                    SocketAddr::V6(a) => format!("ipv6:{a}"),
                };
                if let Some(why) = refusal(port.local_only, &addr) {
                    tracing::info!(peer = %address, "connection closed: {why}");
                    continue;
                }
                let socket = port
                    .shared
                    .channelz
                    .new_socket(stream.local_addr().ok().map(SocketAddress::Tcp), Some(SocketAddress::Tcp(addr)));
                serve_accepted(stream, address, socket, &port);
            }
            Ok(Accepted::Unix(stream, address)) => {
                let socket = port
                    .shared
                    .channelz
                    .new_socket(local.clone(), Some(SocketAddress::Unix(address.clone())));
                serve_accepted(stream, address, socket, &port);
            }
            Err(e) => {
                // Out of file descriptors and the like: back off a little, keep serving.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

enum Accepted {
    Tcp(TcpStream, SocketAddr),
    /// The stream and the peer's address as `peer()` reports it.
    Unix(UnixStream, String),
}

async fn accept(listener: &Bound) -> std::io::Result<Accepted> {
    match listener {
        Bound::Tcp(l) => l.accept().await.map(|(s, a)| Accepted::Tcp(s, a)),
        Bound::Unix(l, _) => l.accept().await.map(|(s, a)| Accepted::Unix(s, unix_peer(&a))),
    }
}

/// Why a TCP connection from `peer` is not served, if it is not: local credentials serve
/// loopback peers only.
fn refusal(local_only: bool, peer: &SocketAddr) -> Option<&'static str> {
    (local_only && !rpc_core::is_local_peer(peer.ip()))
        .then_some("local credentials serve only loopback and Unix-socket peers, and this peer is neither")
}

/// A Unix peer as gRPC names it: `unix:` and the client socket's own path, which is empty
/// for the usual unbound client (so `unix:`); `unix-abstract:name` for a client bound in
/// the abstract namespace.
fn unix_peer(addr: &tokio::net::unix::SocketAddr) -> String {
    if let Some(path) = addr.as_pathname() {
        return format!("unix:{}", path.display());
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(name) = addr.as_abstract_name() {
        return format!("unix-abstract:{}", String::from_utf8_lossy(name));
    }
    "unix:".to_owned()
}

/// Serves one accepted connection on a task of its own: the TLS handshake first on a TLS port.
fn serve_accepted<S>(stream: S, address: String, socket: Arc<SocketNode>, port: &Accepting)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let counted = Counted::new(&port.connections);
    let port = port.clone();
    tokio::spawn(async move {
        let _counted = counted;
        let shared = port.shared;
        match port.tls {
            None => {
                let mut auth = AuthContext::new();
                auth.add_property("transport_security_type", if port.local_only { "local" } else { "insecure" });
                let peer = Peer {
                    address: address.into(),
                    auth,
                    socket,
                };
                serve_connection(stream, peer, shared).await;
            }
            Some(source) => {
                let acceptor = tokio_rustls::TlsAcceptor::from(source.config());
                // The HTTP/2 handshake after it has a bound of its own (`serve_connection`).
                let handshake_timeout = shared.env.options.handshake_timeout;
                match tokio::time::timeout(handshake_timeout, acceptor.accept(stream).into_fallible()).await {
                    Ok(Ok(tls_stream)) => {
                        let auth = super::tls::auth_context(tls_stream.get_ref().1);
                        let peer = Peer {
                            address: address.into(),
                            auth,
                            socket,
                        };
                        serve_connection(tls_stream, peer, shared).await;
                    }
                    Ok(Err((e, stream))) => {
                        tracing::debug!(peer = %address, "TLS handshake failed: {e}");
                        close_gently(stream).await;
                    }
                    Err(_) => tracing::debug!(peer = %address, "TLS handshake timed out"),
                }
            }
        }
    });
}

/// Closes a connection whose TLS handshake failed (the alert saying why is sent) so that
/// the client reads that alert: the write side is shut, and what the client already sent
/// (with TLS 1.3 its first request may follow its half of the handshake) is read and
/// dropped for a moment, since closing a socket with unread data resets it and the client
/// would see only a broken pipe.
async fn close_gently<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout(FAILED_HANDSHAKE_LINGER, async {
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::refusal;

    #[test]
    fn local_credentials_close_connections_from_non_loopback_peers() {
        // Peer addresses as accept reports them; parsed only, never connected to (the
        // addresses outside loopback are documentation ranges).
        for peer in ["192.0.2.7:5000", "[2001:db8::1]:5000", "[::ffff:192.0.2.7]:5000", "[fe80::1]:1"] {
            let peer = peer.parse().unwrap();
            assert!(refusal(true, &peer).is_some(), "{peer}");
            assert!(refusal(false, &peer).is_none(), "{peer}: insecure ports serve anyone");
        }
        for peer in ["127.0.0.1:5000", "127.8.0.1:1", "[::1]:5000", "[::ffff:127.0.0.1]:5000"] {
            assert!(refusal(true, &peer.parse().unwrap()).is_none(), "{peer}");
        }
    }
}
