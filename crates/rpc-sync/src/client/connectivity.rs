//! Connectivity, as a channel's users see it: the state, `subscribe`/`unsubscribe`
//! (callbacks on each state change), `wait_for_state_change`, and `channel_ready_future`,
//! over rpc-aio's connectivity.

use super::channel::Channel;
use crate::WaitError;
use crate::bridge;
use crate::runtime::RuntimeHandle;
use rpc_core::{ChannelConnectivity, RpcError};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// Identifies a [`Channel::subscribe`] subscription, for [`Channel::unsubscribe`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SubscriptionId(u64);

impl Channel {
    /// The connectivity state; with `try_to_connect`, an IDLE channel starts connecting.
    /// Never blocks.
    pub fn get_state(&self, try_to_connect: bool) -> ChannelConnectivity {
        self.inner.aio.get_state(try_to_connect)
    }

    /// Blocks until the state differs from `last` and returns the new state, for at most
    /// `timeout` (`None`: no limit).
    ///
    /// # Errors
    /// [`WaitError::Timeout`] when the timeout passed first; FAILED_PRECONDITION (as
    /// [`WaitError::Rpc`]) on a thread inside an async runtime.
    pub fn wait_for_state_change(&self, last: ChannelConnectivity, timeout: Option<Duration>) -> Result<ChannelConnectivity, WaitError> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        match bridge::wait_until(self.runtime().handle(), self.inner.aio.wait_for_state_change(last), deadline)? {
            Some(state) => Ok(state),
            None => Err(WaitError::timed_out(timeout)),
        }
    }

    /// Calls `callback` with the current connectivity state and then with each new state,
    /// until [`unsubscribe`](Self::unsubscribe), the channel's SHUTDOWN (the last call), or
    /// the drop of the last clone of this channel. With `try_to_connect`, an IDLE channel
    /// starts connecting.
    ///
    /// Callbacks run one at a time, in order, on the private runtime's blocking pool: they
    /// may block and may make blocking calls. Quick successive changes may be coalesced
    /// (the callback then sees the latest state). Never blocks the caller.
    pub fn subscribe(&self, callback: impl Fn(ChannelConnectivity) + Send + Sync + 'static, try_to_connect: bool) -> SubscriptionId {
        let aio = self.inner.aio.clone();
        let runtime = self.runtime().clone();
        let callback = std::sync::Arc::new(callback);
        let first = aio.get_state(try_to_connect);
        let mut subs = self.inner.subscriptions.lock().unwrap_or_else(|p| p.into_inner());
        subs.next += 1;
        let id = subs.next;
        let task = self.runtime().spawn(async move {
            let mut state = first;
            loop {
                let cb = callback.clone();
                if runtime.spawn_blocking(move || cb(state)).await.is_err() {
                    tracing::warn!("a connectivity callback panicked");
                }
                if state == ChannelConnectivity::Shutdown {
                    return;
                }
                state = aio.wait_for_state_change(state).await;
            }
        });
        subs.tasks.insert(id, task);
        SubscriptionId(id)
    }

    /// Stops a subscription (a callback already running finishes). Returns whether it was
    /// still subscribed.
    pub fn unsubscribe(&self, id: SubscriptionId) -> bool {
        let task = self
            .inner
            .subscriptions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .tasks
            .remove(&id.0);
        match task {
            Some(task) => {
                let live = !task.is_finished();
                task.abort();
                live
            }
            None => false,
        }
    }
}

/// Waits for a channel to be READY in the background (gRPC Python's
/// `grpc.channel_ready_future(channel)`). It connects, and reconnects with backoff, until
/// the channel is ready, it is cancelled, or the channel is closed.
///
/// Never blocks; the returned future may be created anywhere.
pub fn channel_ready_future(channel: &Channel) -> ChannelReadyFuture {
    let aio = channel.inner.aio.clone();
    ChannelReadyFuture {
        task: channel.runtime().spawn(async move { aio.channel_ready().await }),
        outcome: None,
        cancelled: AtomicBool::new(false),
        target: channel.target(),
        runtime: channel.runtime().clone(),
    }
}

/// A channel becoming ready, in the background; made by [`channel_ready_future`].
///
/// # Drop behavior
/// Dropping it stops waiting (connection attempts already started go on). While it waits,
/// it holds the channel open.
#[must_use = "dropping the future stops waiting for the channel"]
pub struct ChannelReadyFuture {
    task: JoinHandle<Result<(), RpcError>>,
    outcome: Option<Result<(), RpcError>>,
    cancelled: AtomicBool,
    target: String,
    runtime: RuntimeHandle,
}

impl fmt::Debug for ChannelReadyFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelReadyFuture")
            .field("target", &self.target)
            .field("done", &self.done())
            .finish()
    }
}

impl ChannelReadyFuture {
    /// Blocks until the channel is ready (`Ok`), for at most `timeout` (`None`: no limit).
    /// Once finished, it answers the same every time.
    ///
    /// # Errors
    /// - [`WaitError::Timeout`] when `timeout` passes first (the future goes on waiting;
    ///   call `result` again or [`cancel`](Self::cancel) it);
    /// - CANCELLED (as [`WaitError::Rpc`]) if it was cancelled or the channel was closed;
    /// - FAILED_PRECONDITION on a thread inside an async runtime (see
    ///   [`RuntimeHandle::block_on`]).
    pub fn result(&mut self, timeout: Option<Duration>) -> Result<(), WaitError> {
        if let Some(outcome) = &self.outcome {
            return outcome.clone().map_err(WaitError::Rpc);
        }
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let Some(joined) = bridge::wait_until(self.runtime.handle(), &mut self.task, deadline)? else {
            return Err(WaitError::timed_out(timeout));
        };
        let outcome = joined.unwrap_or_else(|e| {
            Err(if e.is_cancelled() {
                RpcError::cancelled("channel_ready_future was cancelled")
            } else {
                RpcError::internal("channel_ready_future task panicked")
            })
        });
        self.outcome = Some(outcome.clone());
        outcome.map_err(WaitError::Rpc)
    }

    /// Stops waiting; `result` then fails with CANCELLED. Returns `false` if it had
    /// already finished.
    pub fn cancel(&self) -> bool {
        if self.task.is_finished() {
            return false;
        }
        self.cancelled.store(true, Ordering::Release);
        self.task.abort();
        true
    }

    /// Whether [`cancel`](Self::cancel) stopped it.
    pub fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Whether it has finished (ready, cancelled or the channel closed).
    pub fn done(&self) -> bool {
        self.outcome.is_some() || self.task.is_finished()
    }
}

impl Drop for ChannelReadyFuture {
    fn drop(&mut self) {
        self.task.abort();
    }
}
