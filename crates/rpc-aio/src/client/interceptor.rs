//! Client interceptors with async continuations, for all four kinds of call.
//!
//! An interceptor sees a call's [`ClientCallDetails`] (method, metadata, deadline,
//! credentials, wait-for-ready, compression, the request of a unary-request call), may
//! change them, and then either calls the continuation ([`Next::run`]) or short-circuits
//! with its own responses or an error. It can also, for every kind of call:
//!
//! - see (and change) each request message as it is sent: [`ClientCallDetails::on_request`];
//! - see the response headers: [`Responses::initial_metadata`];
//! - see (and change) each response message: [`Responses::on_response`];
//! - see the final status with its code, details and trailing metadata, and how long the
//!   call took: [`Responses::on_status`];
//! - run the continuation again (retry, re-authenticate): [`Next`] is cheap to clone and
//!   [`Next::run`] takes `&self`; [`ClientCallDetails::again`] copies the details for a
//!   second run.
//!
//! Messages travel type-erased ([`AnyMessage`], `&mut dyn Any`) so one interceptor serves
//! every method. Interceptors run in the order given. A channel with no interceptors takes
//! a direct, typed path (no type erasure, none of the above costs).
//!
//! # Running the continuation again
//!
//! A unary-request call: the continuation keeps the request as it was encoded by the first
//! run, so a second run whose `details.request` is `None` (what [`ClientCallDetails::again`]
//! gives) sends the same request again; a second run with `Some(message)` sends that message
//! instead. Request hooks see the request once, when it is first encoded.
//!
//! A request-streaming call: its request stream is read once, by the first run, and is not
//! kept, so a second run fails with FAILED_PRECONDITION and sends nothing. Calls that must
//! be retried with their request streams use the channel's retry policy (service config
//! `retryPolicy`), which buffers the requests for replay.

use super::call::shared::CallShared;
use crate::outcome::RpcOutcome;
use futures::future::BoxFuture;
use rpc_core::{CallCredentials, Compression, Metadata, RpcError};
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// A response message of any type, as interceptors see it.
pub struct AnyMessage(Box<dyn Any + Send>);

impl AnyMessage {
    /// Wraps a message.
    pub fn new<T: Send + 'static>(message: T) -> AnyMessage {
        AnyMessage(Box::new(message))
    }
    /// The message, if it is a `T`.
    pub fn downcast<T: 'static>(self) -> Result<T, AnyMessage> {
        self.0.downcast::<T>().map(|b| *b).map_err(AnyMessage)
    }
    /// A reference to the message, if it is a `T`.
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        self.0.downcast_ref()
    }
    /// A mutable reference to the message, if it is a `T`.
    pub fn downcast_mut<T: 'static>(&mut self) -> Option<&mut T> {
        self.0.downcast_mut()
    }
    /// The message as `dyn Any` (what request and response hooks get).
    pub fn as_any_mut(&mut self) -> &mut (dyn Any + Send) {
        &mut *self.0
    }
}

impl fmt::Debug for AnyMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AnyMessage(..)")
    }
}

/// The responses of an intercepted call: a `Stream` of type-erased messages ending with the
/// call's error (if any). A unary-response call uses its first message.
///
/// Return the `Responses` of [`Next::run`] as they are, watch or change them with
/// [`on_response`](Self::on_response) and [`on_status`](Self::on_status) (which keep the
/// response headers and the call's final status), wrap them in a stream of your own
/// (`Responses::from_stream(responses.map(..))`: the call still gets its headers and
/// trailers, but later interceptors see them no more), or make your own
/// ([`single`](Self::single), [`from_stream`](Self::from_stream)).
///
/// # Drop behavior
/// Dropping the responses of a run unread abandons that run (the server sees it cancelled);
/// a status hook then sees the call's status, or CANCELLED.
pub struct Responses {
    inner: Pin<Box<dyn futures::Stream<Item = Result<AnyMessage, RpcError>> + Send>>,
    /// The response headers of the run that made them.
    initial: Option<Metadata>,
    /// The call, for its trailers and how it ended.
    call: Option<Arc<CallShared>>,
    /// When the run that made them started.
    started: Option<Instant>,
}

impl Responses {
    /// One response message (a short-circuit).
    pub fn single<T: Send + 'static>(message: T) -> Responses {
        Responses::from_stream(futures::stream::once(std::future::ready(Ok(AnyMessage::new(message)))))
    }

    /// Responses from any stream of type-erased messages.
    pub fn from_stream(stream: impl futures::Stream<Item = Result<AnyMessage, RpcError>> + Send + 'static) -> Responses {
        Responses {
            inner: Box::pin(stream),
            initial: None,
            call: None,
            started: None,
        }
    }

    /// The responses of a run of the call: the stream, with the headers and the call.
    pub(crate) fn of_call(
        stream: impl futures::Stream<Item = Result<AnyMessage, RpcError>> + Send + 'static,
        initial: Option<Metadata>,
        call: Arc<CallShared>,
        started: Instant,
    ) -> Responses {
        Responses {
            inner: Box::pin(stream),
            initial,
            call: Some(call),
            started: Some(started),
        }
    }

    /// Responses from an iterator (it must not block: it is read on the runtime).
    #[allow(clippy::should_implement_trait)] // also takes iterators that are not `Responses`
    pub fn from_iter<I>(responses: I) -> Responses
    where
        I: IntoIterator<Item = Result<AnyMessage, RpcError>>,
        I::IntoIter: Send + 'static,
    {
        Responses::from_stream(futures::stream::iter(responses))
    }

    /// No responses (the call ends when they do).
    pub fn empty() -> Responses {
        Responses::from_stream(futures::stream::empty())
    }

    /// The response headers (initial metadata) the server sent, for the responses of a run
    /// of the call; `None` for a trailers-only response (the server answered with its status
    /// at once) and for responses an interceptor made.
    pub fn initial_metadata(&self) -> Option<&Metadata> {
        self.initial.as_ref()
    }

    /// Runs `hook` on each response message as it arrives, before the call (or the
    /// interceptors before this one) get it; it may read the message or change it in place
    /// (`message.downcast_mut::<Reply>()`). It runs on whichever thread reads the call, so
    /// it must not block.
    pub fn on_response(self, mut hook: impl FnMut(&mut (dyn Any + Send)) + Send + 'static) -> Responses {
        use futures::StreamExt;
        Responses {
            inner: Box::pin(self.inner.map(move |item| {
                item.map(|mut m| {
                    hook(m.as_any_mut());
                    m
                })
            })),
            ..self
        }
    }

    /// Runs `hook` once with the call's final status, when these responses end: OK with the
    /// trailing metadata, or the error the call ended with (its code, details and trailing
    /// metadata). Responses dropped before their end (the call was cancelled, its deadline
    /// passed, or its reader went away) give the call's status if it has one, CANCELLED if
    /// not. It must not block.
    pub fn on_status(self, hook: impl FnOnce(&RpcOutcome) + Send + 'static) -> Responses {
        let watched = Watched {
            hook: Some(Box::new(hook)),
            call: self.call.clone(),
            started: self.started.unwrap_or_else(Instant::now),
            inner: self.inner,
        };
        Responses {
            inner: Box::pin(watched),
            ..self
        }
    }
}

impl futures::Stream for Responses {
    type Item = Result<AnyMessage, RpcError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl fmt::Debug for Responses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Responses").field("initial_metadata", &self.initial).finish()
    }
}

type StatusHook = Box<dyn FnOnce(&RpcOutcome) + Send>;

/// Responses whose end is reported to a status hook.
struct Watched {
    inner: Pin<Box<dyn futures::Stream<Item = Result<AnyMessage, RpcError>> + Send>>,
    hook: Option<StatusHook>,
    call: Option<Arc<CallShared>>,
    started: Instant,
}

impl Watched {
    fn report(&mut self, result: Result<Metadata, RpcError>) {
        if let Some(hook) = self.hook.take() {
            hook(&RpcOutcome::new(result, self.started.elapsed()));
        }
    }
}

impl futures::Stream for Watched {
    type Item = Result<AnyMessage, RpcError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let item = std::task::ready!(this.inner.as_mut().poll_next(cx));
        match &item {
            Some(Ok(_)) => {}
            Some(Err(e)) => this.report(Err(e.clone())),
            None => {
                let trailers = this.call.as_ref().and_then(|c| c.peek_trailers()).unwrap_or_default();
                this.report(Ok(trailers));
            }
        }
        Poll::Ready(item)
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if self.hook.is_some() {
            let ended = self.call.as_ref().and_then(|c| c.end_now()).and_then(Result::err);
            self.report(Err(
                ended.unwrap_or_else(|| RpcError::cancelled("the call was cancelled before it ended"))
            ));
        }
    }
}

/// A hook on each request message of a call.
pub(crate) type RequestHook = Arc<dyn Fn(&mut (dyn Any + Send)) + Send + Sync>;

/// The request hooks of a call's details.
#[derive(Clone, Default)]
pub(crate) struct RequestHooks(pub(crate) Vec<RequestHook>);

impl fmt::Debug for RequestHooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} request hooks", self.0.len())
    }
}

/// What an interceptor may read and change about a call.
#[derive(Debug)]
#[non_exhaustive]
pub struct ClientCallDetails {
    /// The method path, e.g. `/helloworld.Greeter/SayHello`.
    pub method: String,
    /// The request metadata.
    pub metadata: Metadata,
    /// The absolute deadline (sent as `grpc-timeout`).
    pub deadline: Option<Instant>,
    /// Per-call credentials.
    pub credentials: Option<CallCredentials>,
    /// Wait-for-ready (`None`: the channel's default).
    pub wait_for_ready: Option<bool>,
    /// Request compression (`None`: the channel's default).
    pub compression: Option<Compression>,
    /// The request message of a unary-request call (`None` for request-streaming calls);
    /// an interceptor may read it or replace it with another message of the same type.
    /// `None` in a second run of the continuation: the request the first run sent.
    pub request: Option<AnyMessage>,
    pub(crate) request_hooks: RequestHooks,
}

impl ClientCallDetails {
    /// The time left until the deadline.
    pub fn timeout(&self) -> Option<Duration> {
        self.deadline.map(|d| d.saturating_duration_since(Instant::now()))
    }
    /// Sets the deadline to `timeout` from now.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.deadline = Instant::now().checked_add(timeout);
    }

    /// Runs `hook` on each request message as it is sent, for every kind of call (the one
    /// request of a unary-request call, each message of a request stream, as the call's
    /// writer or source produces it); it may read the message or change it in place
    /// (`message.downcast_mut::<Request>()`). Hooks run in the order they were added, the
    /// outer interceptors' first. They run on the runtime (or the thread that writes), so
    /// they must not block.
    pub fn on_request(&mut self, hook: impl Fn(&mut (dyn Any + Send)) + Send + Sync + 'static) {
        self.request_hooks.0.push(Arc::new(hook));
    }

    /// A copy of these details for running the continuation again (a retry, a
    /// re-authentication): method, metadata, deadline, credentials, wait-for-ready,
    /// compression and request hooks are copied; the request is not (a message is not
    /// cloneable): `request` is `None`, which a second [`Next::run`] of a unary-request call
    /// takes as "the request the first run sent". See the [module docs](self) for
    /// request-streaming calls.
    pub fn again(&self) -> ClientCallDetails {
        ClientCallDetails {
            method: self.method.clone(),
            metadata: self.metadata.clone(),
            deadline: self.deadline,
            credentials: self.credentials.clone(),
            wait_for_ready: self.wait_for_ready,
            compression: self.compression,
            request: None,
            request_hooks: self.request_hooks.clone(),
        }
    }
}

type Terminal = Arc<dyn Fn(ClientCallDetails) -> BoxFuture<'static, Result<Responses, RpcError>> + Send + Sync>;

/// The rest of the chain: the next interceptor, or the call itself. Cheap to clone; it may
/// be run more than once (see the [module docs](self) for what a second run sends).
#[derive(Clone)]
pub struct Next {
    chain: Arc<[Arc<dyn ClientInterceptor>]>,
    index: usize,
    terminal: Terminal,
}

impl fmt::Debug for Next {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next").field("remaining", &(self.chain.len() - self.index)).finish()
    }
}

impl Next {
    pub(crate) fn new(chain: Arc<[Arc<dyn ClientInterceptor>]>, terminal: Terminal) -> Next {
        Next { chain, index: 0, terminal }
    }

    /// Continues the call with `details`: runs the next interceptor or sends the RPC. It
    /// completes when the call has started (the response headers arrived, or a later
    /// interceptor answered) or failed before that: a server that answers with an error at
    /// once (trailers-only) gives `Err`; an error after responses ends the [`Responses`].
    ///
    /// # Cancel safety
    /// Dropping the future before it completes abandons this run (nothing more is sent).
    pub fn run(&self, details: ClientCallDetails) -> BoxFuture<'static, Result<Responses, RpcError>> {
        match self.chain.get(self.index).cloned() {
            Some(interceptor) => {
                let next = Next {
                    chain: self.chain.clone(),
                    index: self.index + 1,
                    terminal: self.terminal.clone(),
                };
                interceptor.intercept(details, next)
            }
            None => (self.terminal)(details),
        }
    }
}

/// A client interceptor for all four kinds of call (grpc.aio's four interceptor classes in one).
pub trait ClientInterceptor: Send + Sync + 'static {
    /// Intercepts one call: change `details`, then `next.run(details).await`, or return
    /// responses or an error of your own without calling it.
    fn intercept(&self, details: ClientCallDetails, next: Next) -> BoxFuture<'static, Result<Responses, RpcError>>;
}

impl<F, Fut> ClientInterceptor for F
where
    F: Fn(ClientCallDetails, Next) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Responses, RpcError>> + Send + 'static,
{
    fn intercept(&self, details: ClientCallDetails, next: Next) -> BoxFuture<'static, Result<Responses, RpcError>> {
        Box::pin(self(details, next))
    }
}
