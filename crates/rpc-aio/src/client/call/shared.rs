//! The state a call object shares with whatever runs its RPC (the call object's own
//! polling, or a task it moved to): initial metadata, the deadline, the outcome and the
//! done callbacks, under one lock with one `Notify`.

use crate::channelz::{ChannelNode, SocketNode};
use crate::client::signal::Signal;
use crate::wire::count::Totals;
use crate::wire::headers::{has_metadata, read_metadata};
use rpc_core::observe::{AttemptObserver, CallEnd, ClientCallObserver};
use rpc_core::{Metadata, RpcError, StatusCode};
use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;
use tokio::sync::Notify;

type DoneCallback = Box<dyn FnOnce(&CallOutcome) + Send>;

/// How a finished call ended: its metadata, code and details (gRPC Python's `Call`
/// accessors, as values). Given to done callbacks and returned by `with_call`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallOutcome {
    initial_metadata: Metadata,
    trailing_metadata: Metadata,
    code: StatusCode,
    details: String,
}

impl CallOutcome {
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
    /// The header map, as received.
    Raw(http::HeaderMap),
    /// Already converted (or made here).
    Converted(Metadata),
}

impl Headers {
    fn get(&self) -> Metadata {
        match self {
            Headers::Raw(map) => read_metadata(map),
            Headers::Converted(md) => md.clone(),
        }
    }

    /// Whether there is no application metadata (protocol headers do not count).
    fn is_empty(&self) -> bool {
        match self {
            // Only protocol headers: empty without converting; anything else (a binary
            // value may not decode) is settled by the conversion.
            Headers::Raw(map) => !has_metadata(map) || read_metadata(map).is_empty(),
            Headers::Converted(md) => md.is_empty(),
        }
    }
}

impl From<Metadata> for Headers {
    fn from(md: Metadata) -> Self {
        Headers::Converted(md)
    }
}

impl From<http::HeaderMap> for Headers {
    fn from(map: http::HeaderMap) -> Self {
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
    /// The channelz socket the current attempt's stream went out on.
    stream: Option<Arc<SocketNode>>,
    /// The pipe tasks sending this call's request streams: stopped when the call ends.
    pipes: Vec<Arc<Signal>>,
    /// The call's span (when a subscriber wants it), closed when the call ends.
    span: Option<tracing::Span>,
    /// The observed attempt that got response headers, ended with the call.
    attempt: Option<ObservedAttempt>,
}

/// An attempt of an observed call: its observer and its message byte counts. Dropped
/// without an end (a hedge that lost, an attempt cancelled with its call), it ends
/// CANCELLED.
pub(crate) struct ObservedAttempt {
    observer: Option<Box<dyn AttemptObserver>>,
    pub(crate) totals: Totals,
}

impl ObservedAttempt {
    /// Reports the attempt's end with `code`.
    pub(crate) fn end(mut self, code: StatusCode) {
        self.report(code);
    }

    fn report(&mut self, code: StatusCode) {
        if let Some(o) = self.observer.take() {
            let (sent, received) = self.totals.get();
            o.attempt_ended(&CallEnd::new(code, sent, received));
        }
    }
}

impl Drop for ObservedAttempt {
    fn drop(&mut self) {
        self.report(StatusCode::Cancelled);
    }
}

/// State shared by a call object, the future or task that runs the RPC, and accessor
/// futures: one allocation, one lock (never held across an await or a callback) and one
/// `Notify` that wakes waiters on every change.
pub(crate) struct CallShared {
    state: Mutex<State>,
    changed: Notify,
    /// Bumped when the deadline changes (an interceptor moved it), so the running call
    /// re-arms its timer.
    deadline_generation: AtomicU64,
    /// The call's observer, if the channel has one.
    observer: OnceLock<Box<dyn ClientCallObserver>>,
    /// The span current where the call was made: the parent of the call's span, wherever
    /// the call then runs (a task of its own, say).
    parent: tracing::Span,
    /// The channel's channelz entry: the call counts there once, when it ends.
    channelz: Arc<ChannelNode>,
    /// The encoded size of the last streamed request (0 before the first), so that a
    /// request iterator's thread runs about as many bytes ahead whatever their size.
    request_size: OnceLock<Arc<AtomicUsize>>,
    /// An encoding (`wire::encoding::Encoding` of the call's request type) for the thread
    /// of a blocking request iterator to take, so that it encodes the requests it pulls.
    request_encoding: OnceLock<EncodingSlot>,
    /// Interceptors' hooks run on the requests as they are sent: they stay messages until
    /// the body encodes them (no encoding is offered).
    requests_hooked: AtomicBool,
}

/// Where a call's request encoding waits for the thread that pulls its requests.
pub(crate) type EncodingSlot = Arc<Mutex<Option<Box<dyn Any + Send>>>>;

/// A call dropped before its end (its future or object went away) failed.
impl Drop for CallShared {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        if state.outcome.is_none() {
            self.channelz.calls.end(false);
            if let Some(stream) = state.stream.take() {
                stream.stream_ended(false);
            }
        }
    }
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
    /// A call's state; it counts as started on `channelz`, its channel's entry.
    pub(crate) fn new(deadline: Option<Instant>, channelz: Arc<ChannelNode>) -> Arc<CallShared> {
        channelz.calls.start();
        Arc::new(CallShared {
            channelz,
            state: Mutex::new(State {
                deadline,
                ..State::default()
            }),
            changed: Notify::new(),
            deadline_generation: AtomicU64::new(0),
            observer: OnceLock::new(),
            parent: tracing::Span::current(),
            // Made when a request stream first needs it: a unary call allocates nothing.
            request_size: OnceLock::new(),
            request_encoding: OnceLock::new(),
            requests_hooked: AtomicBool::new(false),
        })
    }

    /// Interceptors' hooks see the requests as they are sent: no encoding is offered.
    pub(crate) fn hook_requests(&self) {
        self.requests_hooked.store(true, Ordering::Release);
    }

    /// Where a request iterator's thread finds the call's request encoding (see
    /// [`offer_request_encoding`](Self::offer_request_encoding)).
    pub(crate) fn request_encoding(&self) -> EncodingSlot {
        self.request_encoding.get_or_init(Arc::default).clone()
    }

    /// Offers the encoding `make` makes to the thread of a blocking request iterator, if
    /// the call has one (nothing is made otherwise).
    pub(crate) fn offer_request_encoding(&self, make: impl FnOnce() -> Box<dyn Any + Send>) {
        if self.requests_hooked.load(Ordering::Acquire) {
            return;
        }
        if let Some(slot) = self.request_encoding.get() {
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(make());
        }
    }

    /// Ties the pipe task sending one of this call's request streams to the call: it is
    /// stopped when the call ends (at once if it has ended).
    pub(crate) fn attach_pipe(&self, pipe: Arc<Signal>) {
        let mut state = self.lock();
        if state.outcome.is_some() {
            drop(state);
            return pipe.raise();
        }
        state.pipes.push(pipe);
    }

    /// Notes the encoded size of a streamed request.
    pub(crate) fn note_request_size(&self, bytes: usize) {
        // Written only when it changes: the request iterator's thread reads it per request.
        let size = self.request_size.get_or_init(Arc::default);
        if size.load(Ordering::Relaxed) != bytes {
            size.store(bytes, Ordering::Relaxed);
        }
    }

    /// Where the encoded size of the last streamed request is noted (0 before the first),
    /// for whoever produces the requests (without keeping the call alive).
    pub(crate) fn request_size(&self) -> Arc<AtomicUsize> {
        self.request_size.get_or_init(Arc::default).clone()
    }

    /// The span current where the call was made.
    pub(crate) fn parent_span(&self) -> &tracing::Span {
        &self.parent
    }

    /// Observes the call: `span` is closed and `observer` told when it ends.
    pub(crate) fn observe(&self, span: &tracing::Span, observer: Option<Box<dyn ClientCallObserver>>) {
        if !span.is_disabled() {
            self.lock().span = Some(span.clone());
        }
        if let Some(o) = observer {
            let _ = self.observer.set(o);
        }
    }

    /// A new attempt of an observed call (`None`: the call is not observed).
    pub(crate) fn attempt_started(&self) -> Option<ObservedAttempt> {
        let observer = self.observer.get()?;
        Some(ObservedAttempt {
            observer: Some(observer.attempt_started()),
            totals: Totals::default(),
        })
    }

    /// The attempt that got response headers: it ends with the call.
    pub(crate) fn commit_attempt(&self, attempt: ObservedAttempt) {
        let mut state = self.lock();
        match &state.outcome {
            None => state.attempt = Some(attempt),
            Some(outcome) => {
                let code = outcome.as_ref().map_or_else(RpcError::code, |_| StatusCode::Ok);
                drop(state);
                attempt.end(code);
            }
        }
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
            self.deadline_generation.fetch_add(1, Ordering::AcqRel);
            self.changed.notify_waiters();
        }
    }

    /// Counts deadline changes.
    pub(crate) fn deadline_generation(&self) -> u64 {
        self.deadline_generation.load(Ordering::Acquire)
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
        let ended;
        let callbacks = {
            let mut state = self.lock();
            if state.outcome.is_some() {
                return false;
            }
            let outcome = match (&state.initial, outcome) {
                (None, outcome) => {
                    state.initial = Some(Headers::Converted(match &outcome {
                        Err(e) => e.initial_metadata().clone(),
                        Ok(_) => Metadata::new(),
                    }));
                    outcome
                }
                // The error carries the headers the server sent before it.
                (Some(initial), Err(e)) if e.initial_metadata().is_empty() && !initial.is_empty() => {
                    Err(e.with_initial_metadata(initial.get()))
                }
                (Some(_), outcome) => outcome,
            };
            let ok = outcome.is_ok();
            let code = outcome.as_ref().map_or_else(RpcError::code, |_| StatusCode::Ok);
            state.outcome = Some(outcome);
            self.channelz.calls.end(ok);
            if let Some(stream) = state.stream.take() {
                stream.stream_ended(ok);
            }
            ended = (state.span.take(), state.attempt.take(), code, std::mem::take(&mut state.pipes));
            std::mem::take(&mut state.callbacks)
        };
        let (span, attempt, code, pipes) = ended;
        // A request stream still being sent stops (its stream is reset) with the call.
        for pipe in pipes {
            pipe.raise();
        }
        if let Some(a) = attempt {
            a.end(code);
        }
        if let Some(o) = self.observer.get() {
            o.call_ended(code);
        }
        if let Some(span) = span {
            crate::observe::record_status(&span, code);
        }
        self.changed.notify_waiters();
        if !callbacks.is_empty()
            && let Some(details) = self.outcome_now()
        {
            for cb in callbacks {
                cb(&details);
            }
        }
        true
    }

    /// An attempt's stream went out on `socket`: it ends with the call, or failed when a
    /// later attempt replaces it.
    pub(crate) fn stream_started(&self, socket: Arc<SocketNode>) {
        socket.local_stream_started();
        let mut state = self.lock();
        let ended = if state.outcome.is_some() {
            Some(socket)
        } else {
            state.stream.replace(socket)
        };
        drop(state);
        if let Some(s) = ended {
            s.stream_ended(false);
        }
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

    pub(crate) fn outcome_now(&self) -> Option<CallOutcome> {
        let state = self.lock();
        let initial_metadata = state.initial.as_ref().map(Headers::get).unwrap_or_default();
        Some(match state.outcome.as_ref()? {
            Ok(trailing) => CallOutcome {
                initial_metadata,
                trailing_metadata: trailing.get(),
                code: StatusCode::Ok,
                details: String::new(),
            },
            Err(e) => CallOutcome {
                initial_metadata,
                trailing_metadata: e.trailing_metadata().clone(),
                code: e.code(),
                details: e.details().to_owned(),
            },
        })
    }

    /// Waits for the end: the trailing metadata, or the error.
    pub(crate) async fn end(&self) -> Result<Metadata, RpcError> {
        self.wait_for(|s| match s.outcome.as_ref()? {
            Ok(trailers) => Some(Ok(trailers.get())),
            Err(e) => Some(Err(e.clone())),
        })
        .await
    }

    /// Waits for the finished call's outcome.
    pub(crate) async fn finished(&self) -> CallOutcome {
        self.wait_for(|s| s.outcome.as_ref().map(|_| ())).await;
        self.outcome_now().unwrap_or(CallOutcome {
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

    /// A copy of the trailers kept by [`put_trailers`](Self::put_trailers) (for interceptors'
    /// status hooks, which see them before the call takes them).
    pub(crate) fn peek_trailers(&self) -> Option<Metadata> {
        self.lock().trailers.clone()
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
        if let Some(d) = self.outcome_now() {
            cb(&d);
        }
    }
}
