//! The state a call object shares with its task: initial metadata, outcome, done callbacks.

use futures::FutureExt;
use rpc_core::{Metadata, RpcError, StatusCode};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

type DoneCallback = Box<dyn FnOnce(&CallDetails) + Send>;

/// What a finished call reports: its metadata, code and details (gRPC Python's `Call`
/// accessors, as values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallDetails {
    initial_metadata: Metadata,
    trailing_metadata: Metadata,
    code: StatusCode,
    details: String,
}

impl CallDetails {
    /// The initial metadata (response headers) the server sent.
    pub fn initial_metadata(&self) -> &Metadata {
        &self.initial_metadata
    }
    /// The trailing metadata the server sent.
    pub fn trailing_metadata(&self) -> &Metadata {
        &self.trailing_metadata
    }
    /// The status code.
    pub fn code(&self) -> StatusCode {
        self.code
    }
    /// The status details (empty on success, usually).
    pub fn details(&self) -> &str {
        &self.details
    }
}

/// State shared by a call object and its task.
pub(crate) struct CallShared {
    initial: watch::Sender<Option<Metadata>>,
    outcome: watch::Sender<Option<Result<Metadata, RpcError>>>,
    callbacks: Mutex<Vec<DoneCallback>>,
    pub(crate) trailers: Mutex<Option<Metadata>>,
    deadline: watch::Sender<Option<Instant>>,
}

impl fmt::Debug for CallShared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallShared")
            .field("done", &self.is_done())
            .field("deadline", &*self.deadline.borrow())
            .finish()
    }
}

impl CallShared {
    pub(crate) fn new(deadline: Option<Instant>) -> Arc<CallShared> {
        Arc::new(CallShared {
            initial: watch::channel(None).0,
            outcome: watch::channel(None).0,
            callbacks: Mutex::new(Vec::new()),
            trailers: Mutex::new(None),
            deadline: watch::channel(deadline).0,
        })
    }

    /// The call's deadline (an interceptor may have changed it).
    pub(crate) fn deadline(&self) -> Option<Instant> {
        *self.deadline.borrow()
    }

    /// Changes the deadline (after interceptors ran).
    pub(crate) fn set_deadline(&self, deadline: Option<Instant>) {
        self.deadline.send_if_modified(|d| {
            let changed = *d != deadline;
            *d = deadline;
            changed
        });
    }

    /// Resolves when the deadline (as it is at the time) passes.
    pub(crate) async fn expired(&self) {
        let mut rx = self.deadline.subscribe();
        loop {
            let d = *rx.borrow_and_update();
            tokio::select! {
                _ = async { match d { Some(d) => tokio::time::sleep_until(d.into()).await, None => std::future::pending().await } } => return,
                r = rx.changed() => if r.is_err() { std::future::pending::<()>().await },
            }
        }
    }

    pub(crate) fn set_initial(&self, md: Metadata) {
        self.initial.send_if_modified(|s| {
            if s.is_none() {
                *s = Some(md);
                true
            } else {
                false
            }
        });
    }

    /// Records the outcome; the first one wins. Returns whether this one won.
    pub(crate) fn finish(&self, outcome: Result<Metadata, RpcError>) -> bool {
        let initial_from_error = match &outcome {
            Err(e) => e.initial_metadata().clone(),
            Ok(_) => Metadata::new(),
        };
        let mut slot = Some(outcome);
        let won = self.outcome.send_if_modified(|s| {
            if s.is_none() {
                *s = slot.take();
                true
            } else {
                false
            }
        });
        if won {
            self.set_initial(initial_from_error);
            let callbacks = self.callbacks.lock().map(|mut c| std::mem::take(&mut *c)).unwrap_or_default();
            if !callbacks.is_empty()
                && let Some(details) = self.details_now()
            {
                for cb in callbacks {
                    cb(&details);
                }
            }
        }
        won
    }

    pub(crate) fn is_done(&self) -> bool {
        self.outcome.borrow().is_some()
    }

    pub(crate) fn outcome_now(&self) -> Option<Result<Metadata, RpcError>> {
        self.outcome.borrow().clone()
    }

    pub(crate) fn details_now(&self) -> Option<CallDetails> {
        let outcome = self.outcome_now()?;
        let initial_metadata = self.initial.borrow().clone().unwrap_or_default();
        Some(match outcome {
            Ok(trailing) => CallDetails {
                initial_metadata,
                trailing_metadata: trailing,
                code: StatusCode::Ok,
                details: String::new(),
            },
            Err(e) => CallDetails {
                initial_metadata,
                trailing_metadata: e.trailing_metadata().clone(),
                code: e.code(),
                details: e.details().to_owned(),
            },
        })
    }

    /// Waits for the outcome.
    pub(crate) async fn outcome(&self) -> Result<Metadata, RpcError> {
        let mut rx = self.outcome.subscribe();
        match rx.wait_for(Option::is_some).await {
            Ok(v) => v.clone().unwrap_or_else(|| Err(RpcError::internal("call state lost"))),
            Err(_) => Err(RpcError::internal("call state lost")),
        }
    }

    /// Waits for the finished call's details.
    pub(crate) async fn details(&self) -> CallDetails {
        let _ = self.outcome().await;
        self.details_now().unwrap_or(CallDetails {
            initial_metadata: Metadata::new(),
            trailing_metadata: Metadata::new(),
            code: StatusCode::Internal,
            details: "call state lost".to_owned(),
        })
    }

    async fn initial(&self) -> Result<Metadata, RpcError> {
        let mut rx = self.initial.subscribe();
        let md = match rx.wait_for(Option::is_some).await {
            Ok(v) => v.clone().unwrap_or_default(),
            Err(_) => Metadata::new(),
        };
        match self.outcome_now() {
            Some(Err(e)) if md.is_empty() => Err(e),
            _ => Ok(md),
        }
    }

    fn add_callback(&self, cb: DoneCallback) {
        if let Ok(mut cbs) = self.callbacks.lock()
            && !self.is_done()
        {
            cbs.push(cb);
            return;
        }
        if let Some(d) = self.details_now() {
            cb(&d);
        }
    }
}

/// What every call object holds: the shared state, the response receiver and the task.
#[derive(Debug)]
pub(crate) struct CallCore<Resp> {
    pub(crate) shared: Arc<CallShared>,
    pub(crate) rx: mpsc::Receiver<Resp>,
    pub(crate) task: Option<JoinHandle<()>>,
    pub(crate) terminated: bool,
    pub(crate) cancelled_locally: std::sync::atomic::AtomicBool,
}

impl<Resp> Drop for CallCore<Resp> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take()
            && !task.is_finished()
        {
            self.shared.finish(Err(RpcError::cancelled("call dropped before it finished")));
            task.abort();
        }
    }
}

impl<Resp> CallCore<Resp> {
    pub(crate) fn cancel(&self) -> bool {
        if self.shared.finish(Err(RpcError::cancelled("call cancelled by the client"))) {
            self.cancelled_locally.store(true, std::sync::atomic::Ordering::Release);
            if let Some(task) = &self.task {
                task.abort();
            }
            true
        } else {
            false
        }
    }

    pub(crate) fn cancelled(&self) -> bool {
        matches!(self.shared.outcome_now(), Some(Err(e)) if e.code() == StatusCode::Cancelled)
    }

    pub(crate) fn done(&self) -> bool {
        self.shared.is_done()
    }

    pub(crate) fn time_remaining(&self) -> Option<Duration> {
        self.shared.deadline().map(|d| d.saturating_duration_since(Instant::now()))
    }

    pub(crate) fn add_done_callback(&self, cb: impl FnOnce(&CallDetails) + Send + 'static) {
        self.shared.add_callback(Box::new(cb));
    }

    pub(crate) async fn initial_metadata(&self) -> Result<Metadata, RpcError> {
        self.shared.initial().await
    }

    pub(crate) async fn trailing_metadata(&self) -> Metadata {
        self.shared.details().await.trailing_metadata
    }

    pub(crate) async fn code(&self) -> StatusCode {
        self.shared.details().await.code
    }

    pub(crate) async fn details(&self) -> String {
        self.shared.details().await.details
    }

    /// Polls for the next message; at the end, the call's error (once) or `None`.
    pub(crate) fn poll_next_message(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Resp, RpcError>>> {
        if self.terminated {
            return Poll::Ready(None);
        }
        if self.cancelled_locally.load(std::sync::atomic::Ordering::Acquire) {
            self.terminated = true;
            return Poll::Ready(Some(Err(RpcError::cancelled("call cancelled by the client"))));
        }
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(m)) => Poll::Ready(Some(Ok(m))),
            Poll::Ready(None) => {
                self.terminated = true;
                match self.shared.outcome_now() {
                    Some(Ok(_)) => Poll::Ready(None),
                    Some(Err(e)) => Poll::Ready(Some(Err(e))),
                    None => Poll::Ready(Some(Err(RpcError::internal("call ended without a status")))),
                }
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// Polls for the single response of a unary-response call.
    pub(crate) fn poll_unary(&mut self, slot: &mut Option<Resp>, cx: &mut Context<'_>) -> Poll<Result<Resp, RpcError>> {
        loop {
            match self.poll_next_message(cx) {
                Poll::Ready(Some(Ok(m))) => {
                    if slot.is_none() {
                        *slot = Some(m);
                    }
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e)),
                Poll::Ready(None) => {
                    return Poll::Ready(slot.take().ok_or_else(|| match self.shared.outcome_now() {
                        Some(Err(e)) => e,
                        _ => RpcError::internal("the server sent no response message (or the call was already awaited)"),
                    }));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    pub(crate) async fn read(&mut self) -> Result<Option<Resp>, RpcError> {
        futures::future::poll_fn(|cx| self.poll_next_message(cx))
            .map(|r| r.transpose())
            .await
    }
}
