//! Ports: binding listeners (at `add_*_port`, so the port is known at once), accept loops
//! that run while the server is serving, TLS handshakes, and the count of live connections.

use super::connection::serve_connection;
use crate::channelz::SocketAddress;
use crate::server::dispatch::{Peer, ServerShared};
use crate::server::lifecycle::Phase;
use rpc_core::{AuthContext, RpcError};
use std::net::{SocketAddr, TcpListener as StdListener, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_rustls::rustls;

/// How long a connection whose TLS handshake failed is drained before it is closed.
const FAILED_HANDSHAKE_LINGER: Duration = Duration::from_secs(1);

/// How long a TLS handshake may take before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A bound port waiting for `start`.
pub(crate) struct Port {
    listener: StdListener,
    tls: Option<Arc<rustls::ServerConfig>>,
}

/// Binds `address` (`host:port`, `[::1]:port`, `0.0.0.0:0`...); returns the port and its port number.
pub(crate) fn bind(address: &str, tls: Option<Arc<rustls::ServerConfig>>) -> Result<(Port, u16), RpcError> {
    let addrs: Vec<SocketAddr> = address
        .to_socket_addrs()
        .map_err(|e| RpcError::invalid_argument(format!("cannot resolve the server address {address:?}: {e}")))?
        .collect();
    let mut last = None;
    for addr in addrs {
        match StdListener::bind(addr).and_then(|l| l.set_nonblocking(true).map(|_| l)) {
            Ok(listener) => {
                let port = listener.local_addr().map(|a| a.port()).unwrap_or(addr.port());
                return Ok((Port { listener, tls }, port));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(RpcError::unavailable(match last {
        Some(e) => format!("could not bind {address}: {e}"),
        None => format!("could not bind {address}: it resolves to no address"),
    }))
}

/// The live connections of a server.
#[derive(Default)]
pub(crate) struct Connections {
    count: AtomicUsize,
    gone: Notify,
}

impl Connections {
    pub(crate) fn count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// Waits until no connection is open.
    pub(crate) async fn wait_closed(&self) {
        loop {
            let notified = self.gone.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

struct Counted(Arc<Connections>);

impl Counted {
    fn new(c: &Arc<Connections>) -> Counted {
        c.count.fetch_add(1, Ordering::AcqRel);
        Counted(c.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.gone.notify_waiters();
        }
    }
}

/// Starts accepting on `port` while the server is serving. Must run inside a runtime.
pub(crate) fn serve_port(port: Port, shared: Arc<ServerShared>, connections: Arc<Connections>) -> Result<(), RpcError> {
    let listener = TcpListener::from_std(port.listener).map_err(|e| RpcError::unavailable(format!("cannot listen: {e}")))?;
    let tls = port.tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(accept_loop(listener, tls, shared, connections));
    Ok(())
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<ServerShared>,
    connections: Arc<Connections>,
) {
    let mut phase = shared.lifecycle.subscribe();
    // Listed while the loop runs.
    let _listening = listener
        .local_addr()
        .ok()
        .map(|a| shared.channelz.new_listen_socket(SocketAddress::Tcp(a)));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = phase.wait_for(|p| *p > Phase::Serving) => return,
        };
        let (stream, addr) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: back off a little, keep serving.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let address = match addr {
            SocketAddr::V4(a) => format!("ipv4:{a}"),
            SocketAddr::V6(a) => format!("ipv6:{a}"),
        };
        let socket = shared
            .channelz
            .new_socket(stream.local_addr().ok().map(SocketAddress::Tcp), Some(SocketAddress::Tcp(addr)));
        let counted = Counted::new(&connections);
        let (shared, tls) = (shared.clone(), tls.clone());
        tokio::spawn(async move {
            let _counted = counted;
            match tls {
                None => {
                    let mut auth = AuthContext::new();
                    auth.add_property("transport_security_type", "insecure");
                    serve_connection(stream, Peer { address, auth, socket }, shared).await;
                }
                Some(acceptor) => match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream).into_fallible()).await {
                    Ok(Ok(tls_stream)) => {
                        let auth = super::tls::auth_context(tls_stream.get_ref().1);
                        serve_connection(tls_stream, Peer { address, auth, socket }, shared).await;
                    }
                    Ok(Err((e, stream))) => {
                        tracing::debug!(peer = %address, "TLS handshake failed: {e}");
                        close_gently(stream).await;
                    }
                    Err(_) => tracing::debug!(peer = %address, "TLS handshake timed out"),
                },
            }
        });
    }
}

/// Closes a connection whose TLS handshake failed (the alert saying why is sent) so that
/// the client reads that alert: the write side is shut, and what the client already sent
/// (with TLS 1.3 its first request may follow its half of the handshake) is read and
/// dropped for a moment, since closing a socket with unread data resets it and the client
/// would see only a broken pipe.
async fn close_gently(mut stream: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout(FAILED_HANDSHAKE_LINGER, async {
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}
