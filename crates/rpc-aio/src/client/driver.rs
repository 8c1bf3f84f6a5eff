//! A client connection's task ([`spawn`]): it drives h2's connection, says when the
//! connection stops taking calls, and sends the channel's keepalive pings (gRFC A8).
//!
//! The connection stops taking calls when it ends or when the server sends GOAWAY: the
//! subchannel is told at once (it goes IDLE and its policy connects again), while the
//! calls in flight go on to their end on this connection, which then closes.
//!
//! A ping goes out once `keepalive_time` has passed with nothing read from the server, on
//! a connection with calls in flight (or on any, with `keepalive_permit_without_calls`);
//! an answer that does not come within `keepalive_timeout` closes the connection, failing
//! its calls with UNAVAILABLE.

use super::stream::ConnState;
use crate::unpark::{Batch, Deferred};
use bytes::Bytes;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::oneshot;
use tokio::time::{Instant, Sleep, sleep};

/// Why a connection stopped taking calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Closed (by either side), failed, or told to go away.
    Closed,
    /// The server sent GOAWAY ENHANCE_YOUR_CALM with `too_many_pings`: it wants fewer pings.
    TooManyPings,
}

impl Ended {
    fn of(error: &h2::Error) -> Ended {
        // h2 shows the GOAWAY's debug data in its message.
        if error.is_go_away() && error.reason() == Some(h2::Reason::ENHANCE_YOUR_CALM) && error.to_string().contains("too_many_pings") {
            Ended::TooManyPings
        } else {
            Ended::Closed
        }
    }
}

/// Drives `connection` on a task of its own; the receiver completes when it stops taking
/// calls. `probe` (a handle of the connection's own) finds out when the server sent
/// GOAWAY; it is let go once the subchannel releases the connection, so that h2 closes it
/// when its calls are done.
pub(crate) fn spawn<T>(
    connection: h2::client::Connection<T, Bytes>,
    keepalive: Option<Keepalive>,
    state: Arc<ConnState>,
    probe: h2::client::SendRequest<Bytes>,
) -> oneshot::Receiver<Ended>
where
    T: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let mut watch = Watch {
            probe: Some(probe),
            tx: Some(tx),
            state: &state,
        };
        let result = drive(connection, keepalive, &mut watch).await;
        if let Err(e) = &result {
            tracing::debug!("client connection ended: {e}");
        }
        watch.stop(result.as_ref().err().map_or(Ended::Closed, Ended::of));
    });
    rx
}

/// Watches a connection for the moment it stops taking calls.
struct Watch<'a> {
    probe: Option<h2::client::SendRequest<Bytes>>,
    tx: Option<oneshot::Sender<Ended>>,
    state: &'a ConnState,
}

impl Watch<'_> {
    /// Checks the connection after a poll of it.
    fn check(&mut self, cx: &mut Context<'_>) {
        let Some(probe) = self.probe.as_mut() else { return };
        // With no stream of its own pending, the probe is ready unless the connection
        // failed or the server sent GOAWAY.
        if let Poll::Ready(Err(e)) = probe.poll_ready(cx) {
            tracing::debug!("client connection takes no more calls: {e}");
            self.stop(Ended::of(&e));
        } else if self.state.watch_released(cx) {
            self.probe = None;
        }
    }

    fn stop(&mut self, how: Ended) {
        self.probe = None;
        self.state.set_ended();
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(how);
        }
    }
}

/// A connection's keepalive settings, with h2's ping handle.
pub(crate) struct Keepalive {
    pub(crate) time: Duration,
    pub(crate) timeout: Duration,
    pub(crate) without_calls: bool,
    pub(crate) pings: h2::PingPong,
}

/// Where the keepalive of a connection stands.
enum Phase {
    /// Waiting for `time` to pass; `reads` is the connection's read count at the start.
    Quiet { reads: u64 },
    /// A ping is out, sent when the timer was last set.
    Pinging,
    /// The ping went unanswered and the socket is cut: the connection is failing.
    Cut,
}

/// A connection's keepalive, polled by its task after each poll of the connection.
struct Pinger {
    keepalive: Keepalive,
    timer: Pin<Box<Sleep>>,
    phase: Phase,
}

impl Pinger {
    fn new(keepalive: Keepalive, state: &ConnState) -> Pinger {
        Pinger {
            timer: Box::pin(sleep(keepalive.time)),
            keepalive,
            phase: Phase::Quiet { reads: state.reads() },
        }
    }

    /// Sends a ping when one is due, and cuts the connection when one goes unanswered.
    /// Always pending: the connection's own poll says when it ends.
    fn poll(&mut self, cx: &mut Context<'_>, state: &ConnState) {
        let k = &mut self.keepalive;
        loop {
            match self.phase {
                Phase::Quiet { reads } => {
                    if self.timer.as_mut().poll(cx).is_pending() {
                        return;
                    }
                    let now = state.reads();
                    if now != reads || (state.streams() == 0 && !k.without_calls) {
                        // The server spoke (or there is nothing to keep alive): wait again.
                        self.phase = Phase::Quiet { reads: now };
                        rearm(&mut self.timer, k.time);
                        continue;
                    }
                    if k.pings.send_ping(h2::Ping::opaque()).is_err() {
                        // The connection is going away; its own poll says how.
                        return;
                    }
                    tracing::trace!("keepalive ping sent");
                    self.phase = Phase::Pinging;
                    rearm(&mut self.timer, k.timeout);
                    // The ping is written by the connection's next poll.
                    cx.waker().wake_by_ref();
                    return;
                }
                Phase::Pinging => match k.pings.poll_pong(cx) {
                    Poll::Ready(Ok(_)) => {
                        self.phase = Phase::Quiet { reads: state.reads() };
                        rearm(&mut self.timer, k.time);
                    }
                    Poll::Ready(Err(_)) => return,
                    Poll::Pending => {
                        if self.timer.as_mut().poll(cx).is_pending() {
                            return;
                        }
                        tracing::debug!(timeout = ?k.timeout, "keepalive ping unanswered: closing the connection");
                        state.kill();
                        // The connection fails on its next poll (the socket is cut).
                        self.phase = Phase::Cut;
                        cx.waker().wake_by_ref();
                        return;
                    }
                },
                Phase::Cut => return,
            }
        }
    }
}

/// Drives `connection` until it ends, with `keepalive` pings if given, checking it with
/// `watch` after every poll.
///
/// # Errors
/// The connection's error (a GOAWAY with an error code, a lost socket, a keepalive ping
/// that went unanswered: the socket is then cut and the error is h2's I/O error).
async fn drive<T>(
    connection: h2::client::Connection<T, Bytes>,
    keepalive: Option<Keepalive>,
    watch: &mut Watch<'_>,
) -> Result<(), h2::Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let state = watch.state;
    let mut connection = pin!(connection);
    let mut pinger = keepalive.map(|k| Pinger::new(k, state));
    // h2 wakes the task through this waker, so that a caller queueing several frames
    // wakes it once (see `unpark.rs`).
    let deferred = Arc::new(Deferred::default());
    let waker = Waker::from(deferred.clone());
    std::future::poll_fn(|cx| {
        deferred.register(cx);
        // Blocking callers woken by this poll wake when it is over (see `unpark.rs`).
        let batch = Batch::start();
        let polled = connection.as_mut().poll(&mut Context::from_waker(&waker));
        drop(batch);
        watch.check(cx);
        if polled.is_pending()
            && let Some(p) = pinger.as_mut()
        {
            p.poll(cx, state);
        }
        polled
    })
    .await
}

fn rearm(timer: &mut Pin<Box<Sleep>>, after: Duration) {
    timer.as_mut().reset(Instant::now() + after);
}
