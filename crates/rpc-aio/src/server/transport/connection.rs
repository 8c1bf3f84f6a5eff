//! One HTTP/2 connection to a client (hyper's server connection), following the server's
//! lifecycle: serving, then GOAWAY and finishing the streams in flight once the server
//! drains, then closed once it closes. A client that pings too often is told to go away.

use super::keepalive::WatchedIo;
use crate::server::dispatch::{ConnectionService, Peer, ServerShared};
use crate::server::lifecycle::Phase;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// How long a client told to go away for pinging too often keeps its connection.
const PING_ABUSE_GRACE: Duration = Duration::from_secs(1);

/// Serves one connection until it ends or the server closes it.
pub(crate) async fn serve_connection<IO>(io: IO, peer: Peer, shared: Arc<ServerShared>)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut phase = shared.lifecycle.subscribe();
    let o = &shared.env.options;
    let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        // gRPC has no use for a `date` header, and in a trailers-only response the client
        // would read it as trailing metadata.
        .auto_date_header(false)
        .max_concurrent_streams(o.max_concurrent_streams)
        .max_header_list_size(o.max_header_list_size)
        .initial_stream_window_size(o.initial_stream_window_size)
        .initial_connection_window_size(o.initial_connection_window_size)
        .keep_alive_interval(o.keepalive_time)
        .keep_alive_timeout(o.keepalive_timeout);
    let peer_address = peer.address.clone();
    let service = ConnectionService {
        shared: shared.clone(),
        peer: Arc::new(peer),
    };
    let io = WatchedIo::new(io, o.keepalive_min_time);
    let too_many_pings = io.too_many_pings.clone();
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let mut draining = false;
    match *phase.borrow_and_update() {
        p if p >= Phase::Closing => return,
        p if p >= Phase::Draining => {
            draining = true;
            conn.as_mut().graceful_shutdown();
        }
        _ => {}
    }
    // Set once the client pinged too often: by then it has been sent GOAWAY.
    let mut cut_off: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!("connection ended: {e}");
                }
                return;
            }
            changed = phase.changed() => {
                let now = *phase.borrow_and_update();
                if changed.is_err() || now >= Phase::Closing {
                    return;
                }
                if now >= Phase::Draining && !draining {
                    draining = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
            () = too_many_pings.notified(), if cut_off.is_none() => {
                tracing::info!(peer = %peer_address, "client pinged too often (keepalive_min_time): sending GOAWAY");
                conn.as_mut().graceful_shutdown();
                cut_off = Some(Box::pin(tokio::time::sleep(PING_ABUSE_GRACE)));
            }
            () = async { if let Some(s) = cut_off.as_mut() { s.await } else { std::future::pending().await } } => return,
        }
    }
}
