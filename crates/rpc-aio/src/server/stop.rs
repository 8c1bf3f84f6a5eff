//! `StopHandle`, what `Server::stop` returns, and the stop itself: stop accepting, drain
//! connections (GOAWAY), wait up to the grace for RPCs in flight, cancel the rest, close.

use super::dispatch::ServerShared;
use super::lifecycle::Phase;
use super::transport::listen::Connections;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long cancelled RPCs get to send their status before their connections are closed.
const FLUSH_LIMIT: Duration = Duration::from_secs(1);

/// A stop in progress, or done. Await it (or [`wait`](StopHandle::wait)) to learn when the
/// server has terminated; clones share the same stop.
///
/// # Drop behavior
/// The stop runs on the server's runtime whether or not the handle is awaited or kept.
#[derive(Clone)]
#[must_use = "the stop runs anyway; await the handle to wait for the server to terminate"]
pub struct StopHandle {
    done: Shared<BoxFuture<'static, ()>>,
    phase: watch::Receiver<Phase>,
}

impl StopHandle {
    pub(crate) fn new(phase: watch::Receiver<Phase>) -> StopHandle {
        let mut rx = phase.clone();
        let done = async move {
            let _ = rx.wait_for(|p| *p == Phase::Terminated).await;
        }
        .boxed()
        .shared();
        StopHandle { done, phase }
    }

    /// Whether the server has terminated.
    pub fn is_done(&self) -> bool {
        *self.phase.borrow() == Phase::Terminated
    }

    /// Waits until the server has terminated (`true`) or `timeout` passed (`false`).
    ///
    /// # Cancel safety
    /// Cancel safe: dropping the future only stops waiting.
    pub async fn wait(&self, timeout: Option<Duration>) -> bool {
        match timeout {
            None => {
                self.clone().await;
                true
            }
            Some(t) => tokio::time::timeout(t, self.clone()).await.is_ok(),
        }
    }
}

impl Future for StopHandle {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.done).poll(cx)
    }
}

impl fmt::Debug for StopHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StopHandle").field("done", &self.is_done()).finish()
    }
}

/// Runs a stop to the end: drain, wait up to the grace (a later, shorter stop moves its
/// end earlier), cancel what is left, close the connections, terminate.
pub(crate) async fn run(shared: Arc<ServerShared>, connections: Arc<Connections>) {
    let lifecycle = &shared.lifecycle;
    let admission = &shared.env.admission;
    // Draining began in `Server::stop` (new RPCs are refused from there on).
    tracing::debug!(in_flight = admission.active(), "server stopping: no new RPCs; draining");
    let drained = async {
        admission.wait_idle().await;
        connections.wait_closed().await;
    };
    tokio::pin!(drained);
    let mut grace_end = lifecycle.grace_end();
    let finished_in_grace = loop {
        let end = (*grace_end.borrow_and_update()).unwrap_or_else(Instant::now);
        tokio::select! {
            _ = &mut drained => break true,
            _ = tokio::time::sleep_until(end.into()) => break false,
            changed = grace_end.changed() => if changed.is_err() { break false },
        }
    };
    if !finished_in_grace {
        lifecycle.advance(Phase::Cancelling);
        let cancelled = admission.cancel_all();
        tracing::info!(cancelled, "grace period over: RPCs still in flight were cancelled");
        let _ = tokio::time::timeout(FLUSH_LIMIT, admission.wait_idle()).await;
    }
    lifecycle.advance(Phase::Closing);
    let _ = tokio::time::timeout(FLUSH_LIMIT, connections.wait_closed()).await;
    shared.env.pool.close();
    lifecycle.advance(Phase::Terminated);
    tracing::debug!("server terminated");
}
