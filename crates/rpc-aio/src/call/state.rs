//! The state a call object shares with its task: initial metadata, outcome, done callbacks.

use futures::FutureExt;
use rpc_core::{Metadata, RpcError, StatusCode};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc};
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

/// Metadata as it came off the wire, converted to [`Metadata`] only when someone asks: most
/// calls never look at their headers or trailers.
#[derive(Debug)]
pub(crate) enum Headers {
    /// tonic's map, as received.
    Raw(tonic::metadata::MetadataMap),
    /// Already converted (or made here).
    Converted(Metadata),
}

impl Headers {
    fn get(&self) -> Metadata {
        match self {
            Headers::Raw(map) => Metadata::from_tonic(map),
            Headers::Converted(md) => md.clone(),
        }
    }

    /// Whether there is no application metadata (protocol headers do not count).
    fn is_empty(&self) -> bool {
        match self {
            // Only protocol headers: empty without converting; anything else (a binary
            // value may not decode) is settled by the conversion.
            Headers::Raw(map) => {
                map.keys().all(|k| match k {
                    tonic::metadata::KeyRef::Ascii(k) => rpc_core::metadata::is_protocol_key(k.as_str()),
                    tonic::metadata::KeyRef::Binary(_) => false,
                }) || Metadata::from_tonic(map).is_empty()
            }
            Headers::Converted(md) => md.is_empty(),
        }
    }
}

impl From<Metadata> for Headers {
    fn from(md: Metadata) -> Self {
        Headers::Converted(md)
    }
}

impl From<tonic::metadata::MetadataMap> for Headers {
    fn from(map: tonic::metadata::MetadataMap) -> Self {
        Headers::Raw(map)
    }
}

/// What changes over a call's life, under one lock.
#[derive(Default)]
struct State {
    initial: Option<Headers>,
    outcome: Option<Result<Headers, RpcError>>,
    callbacks: Vec<DoneCallback>,
    /// Trailers seen under interceptors (they consume the response stream).
    trailers: Option<Metadata>,
    deadline: Option<Instant>,
}

/// State shared by a call object, the future or task that runs the RPC, and accessor
/// futures: one allocation, one lock (never held across an await or a callback) and one
/// `Notify` that wakes waiters on every change.
pub(crate) struct CallShared {
    state: Mutex<State>,
    changed: Notify,
}

impl fmt::Debug for CallShared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallShared")
            .field("done", &self.is_done())
            .field("deadline", &self.deadline())
            .finish()
    }
}

impl CallShared {
    pub(crate) fn new(deadline: Option<Instant>) -> Arc<CallShared> {
        Arc::new(CallShared {
            state: Mutex::new(State {
                deadline,
                ..State::default()
            }),
            changed: Notify::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits until `ready` returns a value (checked at once and after every change).
    async fn wait_for<T>(&self, mut ready: impl FnMut(&State) -> Option<T>) -> T {
        loop {
            let notified = self.changed.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if let Some(v) = ready(&self.lock()) {
                return v;
            }
            notified.await;
        }
    }

    /// The call's deadline (an interceptor may have changed it).
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.lock().deadline
    }

    /// Changes the deadline (after interceptors ran).
    pub(crate) fn set_deadline(&self, deadline: Option<Instant>) {
        let changed = {
            let mut state = self.lock();
            std::mem::replace(&mut state.deadline, deadline) != deadline
        };
        if changed {
            self.changed.notify_waiters();
        }
    }

    /// Resolves when the deadline (as it is at the time) passes.
    pub(crate) async fn expired(&self) {
        loop {
            let notified = self.changed.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            let deadline = self.deadline();
            tokio::select! {
                _ = async { match deadline { Some(d) => tokio::time::sleep_until(d.into()).await, None => std::future::pending().await } } => return,
                _ = notified => {}
            }
        }
    }

    /// Records the initial metadata unless some were recorded already.
    pub(crate) fn set_initial(&self, md: impl Into<Headers>) {
        {
            let mut state = self.lock();
            if state.initial.is_some() {
                return;
            }
            state.initial = Some(md.into());
        }
        self.changed.notify_waiters();
    }

    /// Records a failure as the outcome unless the call has ended; whether it won.
    pub(crate) fn fail(&self, error: RpcError) -> bool {
        self.finish(Err(error))
    }

    /// Records the outcome; the first one wins. Returns whether this one won. Done
    /// callbacks run here, outside the lock.
    pub(crate) fn finish(&self, outcome: Result<Headers, RpcError>) -> bool {
        let callbacks = {
            let mut state = self.lock();
            if state.outcome.is_some() {
                return false;
            }
            if state.initial.is_none() {
                state.initial = Some(Headers::Converted(match &outcome {
                    Err(e) => e.initial_metadata().clone(),
                    Ok(_) => Metadata::new(),
                }));
            }
            state.outcome = Some(outcome);
            std::mem::take(&mut state.callbacks)
        };
        self.changed.notify_waiters();
        if !callbacks.is_empty()
            && let Some(details) = self.details_now()
        {
            for cb in callbacks {
                cb(&details);
            }
        }
        true
    }

    pub(crate) fn is_done(&self) -> bool {
        self.lock().outcome.is_some()
    }

    /// The error the call ended with, if it failed.
    pub(crate) fn error_now(&self) -> Option<RpcError> {
        match &self.lock().outcome {
            Some(Err(e)) => Some(e.clone()),
            _ => None,
        }
    }

    /// Whether the call ended with CANCELLED.
    pub(crate) fn ended_cancelled(&self) -> bool {
        matches!(&self.lock().outcome, Some(Err(e)) if e.code() == StatusCode::Cancelled)
    }

    /// How the call ended, without its trailers: `None` while it runs.
    pub(crate) fn end_now(&self) -> Option<Result<(), RpcError>> {
        match self.lock().outcome.as_ref()? {
            Ok(_) => Some(Ok(())),
            Err(e) => Some(Err(e.clone())),
        }
    }

    pub(crate) fn details_now(&self) -> Option<CallDetails> {
        let state = self.lock();
        let initial_metadata = state.initial.as_ref().map(Headers::get).unwrap_or_default();
        Some(match state.outcome.as_ref()? {
            Ok(trailing) => CallDetails {
                initial_metadata,
                trailing_metadata: trailing.get(),
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
        self.wait_for(|s| match s.outcome.as_ref()? {
            Ok(trailers) => Some(Ok(trailers.get())),
            Err(e) => Some(Err(e.clone())),
        })
        .await
    }

    /// Waits for the finished call's details.
    pub(crate) async fn details(&self) -> CallDetails {
        self.wait_for(|s| s.outcome.as_ref().map(|_| ())).await;
        self.details_now().unwrap_or(CallDetails {
            initial_metadata: Metadata::new(),
            trailing_metadata: Metadata::new(),
            code: StatusCode::Internal,
            details: "call state lost".to_owned(),
        })
    }

    /// Waits for the initial metadata; the call's error if it failed without any.
    pub(crate) async fn initial(&self) -> Result<Metadata, RpcError> {
        self.wait_for(|s| {
            let md = s.initial.as_ref()?;
            Some(match &s.outcome {
                Some(Err(e)) if md.is_empty() => Err(e.clone()),
                _ => Ok(md.get()),
            })
        })
        .await
    }

    /// Keeps the trailers an interceptor-wrapped response stream ended with.
    pub(crate) fn put_trailers(&self, md: Metadata) {
        self.lock().trailers = Some(md);
    }

    /// Takes the trailers kept by [`put_trailers`](Self::put_trailers).
    pub(crate) fn take_trailers(&self) -> Option<Metadata> {
        self.lock().trailers.take()
    }

    /// Runs `cb` when the call ends, or at once (on this thread) if it has ended.
    pub(crate) fn add_callback(&self, cb: DoneCallback) {
        {
            let mut state = self.lock();
            if state.outcome.is_none() {
                state.callbacks.push(cb);
                return;
            }
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
            self.shared.fail(RpcError::cancelled("call dropped before it finished"));
            task.abort();
        }
    }
}

impl<Resp> CallCore<Resp> {
    pub(crate) fn cancel(&self) -> bool {
        if self.shared.fail(RpcError::cancelled("call cancelled by the client")) {
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
        self.shared.ended_cancelled()
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
                match self.shared.end_now() {
                    Some(Ok(())) => Poll::Ready(None),
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
                    return Poll::Ready(slot.take().ok_or_else(|| match self.shared.end_now() {
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
