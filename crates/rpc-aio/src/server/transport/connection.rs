//! One HTTP/2 connection to a client (hyper's server connection), following the server's
//! lifecycle: serving, then GOAWAY and finishing the streams in flight once the server
//! drains, then closed once it closes. On its own the connection also ends (gRFC A9) when
//! its client does not complete the HTTP/2 handshake in time (`handshake_timeout`), when it
//! has had no RPC for `max_connection_idle`, or at `max_connection_age` (GOAWAY, then
//! closed after `max_connection_age_grace`); and a client that pings too often is told to
//! go away.

use super::coalesce::Coalesced;
use super::keepalive::WatchedIo;
use crate::server::dispatch::{ConnectionService, Peer, ServerShared};
use crate::server::lifecycle::Phase;
use crate::server::rpc::responses::ServerBody;
use futures::future::BoxFuture;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Notify;

/// How long a client told to go away for pinging too often keeps its connection.
const PING_ABUSE_GRACE: Duration = Duration::from_secs(1);

/// The random spread of `max_connection_age` per connection (gRFC A9: +/-10%).
const AGE_JITTER: f64 = 0.1;

/// Serves one connection until it ends or the server closes it.
pub(crate) async fn serve_connection<IO>(io: IO, peer: Peer, shared: Arc<ServerShared>)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let born = Instant::now();
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
    let open = Arc::new(Streams::new(born));
    // Idleness is watched only with `max_connection_idle`.
    let streams = o.max_connection_idle.map(|_| open.clone());
    let service = Tracked {
        service: ConnectionService {
            shared: shared.clone(),
            peer: Arc::new(peer),
        },
        streams: open.clone(),
    };
    let io = WatchedIo::new(io, o.keepalive_min_time);
    let (too_many_pings, handshaken) = (io.too_many_pings.clone(), io.handshaken.clone());
    let busy = move || open.open.load(Ordering::Relaxed) > 1;
    let io = Coalesced::new(io, busy);
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
    // The connection's own deadlines; `None` is never.
    let mut handshake_by = born.checked_add(o.handshake_timeout);
    let mut age_at = o.max_connection_age.and_then(|age| born.checked_add(jittered(age)));
    let mut idle_at = o.max_connection_idle.and_then(|idle| born.checked_add(idle));
    // Set once the connection has been told to go away on its own account (too many
    // pings, age, idleness): when it is closed whatever is still running.
    let mut cut_off: Option<Instant> = None;
    let go_away = |conn: Pin<&mut _>, draining: &mut bool, cut_off: &mut Option<Instant>, grace: Option<Duration>| {
        if !*draining {
            *draining = true;
            hyper::server::conn::http2::Connection::graceful_shutdown(conn);
        }
        if let Some(at) = grace.and_then(|g| Instant::now().checked_add(g)) {
            *cut_off = Some(cut_off.map_or(at, |c| c.min(at)));
        }
    };
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
            () = handshaken.notified(), if handshake_by.is_some() => handshake_by = None,
            () = until(handshake_by) => {
                tracing::debug!(peer = %peer_address, timeout = ?o.handshake_timeout, "no HTTP/2 handshake from the client in time: closing");
                return;
            }
            () = too_many_pings.notified() => {
                // The connection's IO has written GOAWAY ENHANCE_YOUR_CALM `too_many_pings`
                // (hyper's own GOAWAY would name a later last stream: it is not sent).
                tracing::info!(peer = %peer_address, "client pinged too often (keepalive_min_time): GOAWAY too_many_pings");
                draining = true;
                let at = Instant::now() + PING_ABUSE_GRACE;
                cut_off = Some(cut_off.map_or(at, |c| c.min(at)));
            }
            () = until(age_at) => {
                age_at = None;
                tracing::debug!(peer = %peer_address, "connection reached max_connection_age: sending GOAWAY");
                go_away(conn.as_mut(), &mut draining, &mut cut_off, o.max_connection_age_grace);
            }
            () = streams_idle(streams.as_deref()), if idle_at.is_none() && !draining => {
                idle_at = idle_deadline(streams.as_deref(), o.max_connection_idle);
            }
            () = until(idle_at), if !draining => {
                match streams.as_deref().and_then(Streams::idle_since) {
                    Some(since) if since.elapsed() >= o.max_connection_idle.unwrap_or(Duration::MAX) => {
                        tracing::debug!(peer = %peer_address, "connection idle for max_connection_idle: sending GOAWAY");
                        idle_at = None;
                        go_away(conn.as_mut(), &mut draining, &mut cut_off, o.max_connection_age_grace);
                    }
                    // Busy (the next end of the last stream sets the deadline again), or
                    // idle again since more recently.
                    _ => idle_at = idle_deadline(streams.as_deref(), o.max_connection_idle),
                }
            }
            () = until(cut_off) => {
                tracing::debug!(peer = %peer_address, "closing the connection: its grace after GOAWAY is over");
                return;
            }
        }
    }
}

/// Sleeps until `at`; never ends for `None`.
async fn until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// `age` spread by a random +/-[`AGE_JITTER`].
fn jittered(age: Duration) -> Duration {
    let factor = 1.0 + AGE_JITTER * (fastrand::f64() * 2.0 - 1.0);
    Duration::try_from_secs_f64(age.as_secs_f64() * factor).unwrap_or(age)
}

/// When an idle connection is to be closed: `idle` after it became idle; `None` while it is busy.
fn idle_deadline(streams: Option<&Streams>, idle: Option<Duration>) -> Option<Instant> {
    streams?.idle_since()?.checked_add(idle?)
}

/// Completes when the connection's last open stream ends (never without tracking).
async fn streams_idle(streams: Option<&Streams>) {
    match streams {
        Some(s) => s.became_idle.notified().await,
        None => std::future::pending().await,
    }
}

/// The streams open on one connection and since when it has had none (gRFC A9's idleness:
/// since the last RPC ended, or since the connection started).
#[derive(Debug)]
struct Streams {
    open: AtomicUsize,
    born: Instant,
    /// When a stream last ended, in nanoseconds since `born`.
    last_end: AtomicU64,
    /// Notified when the last open stream ends.
    became_idle: Notify,
}

impl Streams {
    fn new(born: Instant) -> Streams {
        Streams {
            open: AtomicUsize::new(0),
            born,
            last_end: AtomicU64::new(0),
            became_idle: Notify::new(),
        }
    }

    fn opened(self: &Arc<Self>) -> StreamGuard {
        self.open.fetch_add(1, Ordering::AcqRel);
        StreamGuard(self.clone())
    }

    /// Since when the connection has had no open stream; `None` while it has one.
    fn idle_since(&self) -> Option<Instant> {
        if self.open.load(Ordering::Acquire) > 0 {
            return None;
        }
        Some(self.born + Duration::from_nanos(self.last_end.load(Ordering::Relaxed)))
    }
}

/// One open stream; dropped when hyper is done with it (its response sent, or reset).
#[derive(Debug)]
struct StreamGuard(Arc<Streams>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let s = &self.0;
        // The time is stored before the count falls, so whoever reads a count of zero reads
        // the end of the last stream too.
        let since_born = u64::try_from(s.born.elapsed().as_nanos()).unwrap_or(u64::MAX);
        s.last_end.store(since_born, Ordering::Relaxed);
        if s.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            s.became_idle.notify_one();
        }
    }
}

/// The connection's service with its streams counted.
#[derive(Clone)]
struct Tracked {
    service: ConnectionService,
    streams: Arc<Streams>,
}

impl hyper::service::Service<http::Request<Incoming>> for Tracked {
    type Response = http::Response<TrackedBody>;
    type Error = h2::Error;
    type Future = TrackedFuture;

    fn call(&self, request: http::Request<Incoming>) -> TrackedFuture {
        TrackedFuture {
            guard: Some(self.streams.opened()),
            inner: self.service.call(request),
        }
    }
}

/// The response of one stream, the stream counted open until the response is done.
struct TrackedFuture {
    inner: BoxFuture<'static, Result<http::Response<ServerBody>, h2::Error>>,
    guard: Option<StreamGuard>,
}

impl Future for TrackedFuture {
    type Output = Result<http::Response<TrackedBody>, h2::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let response = std::task::ready!(self.inner.as_mut().poll(cx));
        let guard = self.guard.take();
        Poll::Ready(response.map(|r| r.map(|body| TrackedBody { body, _guard: guard })))
    }
}

/// A response body that keeps its stream counted open until hyper drops it.
struct TrackedBody {
    body: ServerBody,
    _guard: Option<StreamGuard>,
}

impl Body for TrackedBody {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<bytes::Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_age_is_spread_by_at_most_a_tenth() {
        let age = Duration::from_secs(100);
        let spread: Vec<Duration> = (0..200).map(|_| jittered(age)).collect();
        assert!(
            spread
                .iter()
                .all(|d| *d >= Duration::from_secs(90) && *d <= Duration::from_secs(110))
        );
        assert!(spread.iter().any(|d| *d != spread[0]), "the jitter is random per connection");
    }

    #[test]
    fn idleness_counts_from_the_end_of_the_last_stream() {
        let born = Instant::now();
        let streams = Arc::new(Streams::new(born));
        assert_eq!(streams.idle_since(), Some(born), "idle since the start before any stream");
        let (a, b) = (streams.opened(), streams.opened());
        assert_eq!(streams.idle_since(), None);
        drop(a);
        assert_eq!(streams.idle_since(), None, "one stream still open");
        drop(b);
        let since = streams.idle_since().expect("idle once both ended");
        assert!(since >= born);
        let idle = Duration::from_secs(60);
        assert_eq!(idle_deadline(Some(&streams), Some(idle)), since.checked_add(idle));
        let _c = streams.opened();
        assert_eq!(idle_deadline(Some(&streams), Some(idle)), None);
    }
}
