//! The core every call object holds ([`Drive`]): the running call, polled inline by the
//! call object (no task, no channel: the fast path), or moved onto a task of the channel's
//! runtime when something must make progress without the call object being polled (an
//! accessor, a done callback, `start()`), which then passes the responses through a
//! bounded channel. Cancelling or dropping an unfinished call drops the running call (or
//! aborts its task): the HTTP/2 stream is reset and the server sees the RPC cancelled.

use super::run::CallStream;
use super::shared::CallShared;
use futures::StreamExt;
use rpc_core::RpcError;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

enum Mode<Resp> {
    /// Polled by the call object.
    Inline(CallStream<Resp>),
    /// Running on a task; responses arrive through the channel.
    Background { rx: mpsc::Receiver<Resp>, task: JoinHandle<()> },
    /// Over (or cancelled); `reported` once the end was returned to the reader.
    Finished { reported: bool },
}

/// A call's running RPC, wherever it runs.
pub(crate) struct Drive<Resp> {
    mode: Mutex<Mode<Resp>>,
    pub(crate) shared: Arc<CallShared>,
    runtime: tokio::runtime::Handle,
    /// How many responses a task may read ahead of the reader.
    buffer: usize,
    /// Responses (and the final error) read ahead by a writer waiting on the call, returned
    /// before anything else.
    ahead: VecDeque<Result<Resp, RpcError>>,
}

impl<Resp> std::fmt::Debug for Drive<Resp> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Drive").field("shared", &self.shared).finish()
    }
}

impl<Resp: Send + 'static> Drive<Resp> {
    /// A call that runs `stream` when polled (or started).
    pub(crate) fn new(stream: CallStream<Resp>, shared: Arc<CallShared>, runtime: tokio::runtime::Handle, buffer: usize) -> Drive<Resp> {
        Drive {
            mode: Mutex::new(Mode::Inline(stream)),
            shared,
            runtime,
            buffer: buffer.max(1),
            ahead: VecDeque::new(),
        }
    }

    /// A call that has failed already (the shared state holds its error).
    pub(crate) fn failed(shared: Arc<CallShared>, runtime: tokio::runtime::Handle) -> Drive<Resp> {
        Drive {
            mode: Mutex::new(Mode::Finished { reported: false }),
            shared,
            runtime,
            buffer: 1,
            ahead: VecDeque::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Mode<Resp>> {
        self.mode.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves an inline call onto a task of its own, so it runs without being polled.
    pub(crate) fn start(&self) {
        let mut mode = self.lock();
        if !matches!(*mode, Mode::Inline(_)) {
            return;
        }
        let Mode::Inline(mut stream) = std::mem::replace(&mut *mode, Mode::Finished { reported: false }) else {
            return;
        };
        let (tx, rx) = mpsc::channel(self.buffer);
        let task = self.runtime.spawn(async move {
            while let Some(item) = stream.next().await {
                // An error was recorded in the shared state: the reader finds it there
                // once the channel closes.
                let Ok(message) = item else { break };
                if tx.send(message).await.is_err() {
                    break;
                }
            }
        });
        *mode = Mode::Background { rx, task };
    }

    /// The runtime the call's timers and tasks belong to.
    pub(crate) fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }

    /// Reads responses ahead (kept for the reader) while fewer than `limit` are kept:
    /// `Ready` once the call has ended (its end is recorded in the shared state) or the
    /// limit is reached, `Pending` while the call runs with nothing more to read now. For a
    /// writer, so that the call makes progress (and its end is seen) while no one reads.
    pub(crate) fn poll_ahead(&mut self, cx: &mut Context<'_>, limit: usize) -> Poll<()> {
        loop {
            if self.shared.is_done() || self.ahead.len() >= limit {
                return Poll::Ready(());
            }
            match self.poll_inner(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(item)) => self.ahead.push_back(item),
                Poll::Ready(None) => return Poll::Ready(()),
            }
        }
    }

    /// The next response; at the end, the call's error (once) or `None`.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Resp, RpcError>>> {
        if let Some(item) = self.ahead.pop_front() {
            return Poll::Ready(Some(item));
        }
        self.poll_inner(cx)
    }

    fn poll_inner(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Resp, RpcError>>> {
        let mode = self.mode.get_mut().unwrap_or_else(PoisonError::into_inner);
        let item: Option<()> = match mode {
            Mode::Inline(stream) => match stream.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(m))) => return Poll::Ready(Some(Ok(m))),
                // The stream reports its error once and then ends.
                Poll::Ready(Some(Err(e))) => {
                    *mode = Mode::Finished { reported: true };
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => None,
            },
            Mode::Background { rx, .. } => match rx.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(m)) => return Poll::Ready(Some(Ok(m))),
                Poll::Ready(None) => None,
            },
            Mode::Finished { reported: true } => return Poll::Ready(None),
            Mode::Finished { reported: false } => None,
        };
        debug_assert!(item.is_none());
        *mode = Mode::Finished { reported: true };
        Poll::Ready(match self.shared.end_now() {
            Some(Ok(())) => None,
            Some(Err(e)) => Some(Err(e)),
            None => Some(Err(RpcError::internal("call ended without a status"))),
        })
    }

    /// Cancels the call; `false` if it had ended.
    pub(crate) fn cancel(&self) -> bool {
        if !self.shared.fail(RpcError::cancelled("call cancelled by the client")) {
            return false;
        }
        self.stop();
        true
    }

    /// Drops the running call (resetting its stream) or aborts its task.
    fn stop(&self) {
        let old = std::mem::replace(&mut *self.lock(), Mode::Finished { reported: false });
        if let Mode::Background { task, .. } = old {
            task.abort();
        }
    }
}

impl<Resp> Drop for Drive<Resp> {
    fn drop(&mut self) {
        let mode = self.mode.get_mut().unwrap_or_else(PoisonError::into_inner);
        if matches!(mode, Mode::Finished { .. }) {
            return;
        }
        self.shared.fail(RpcError::cancelled("call dropped before it finished"));
        if let Mode::Background { task, .. } = std::mem::replace(mode, Mode::Finished { reported: true }) {
            task.abort();
        }
    }
}
