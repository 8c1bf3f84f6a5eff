//! Blocking client interceptors for all four kinds of call.
//!
//! # Implementation
//!
//! A blocking [`ClientInterceptor`] is adapted onto rpc-aio's async interceptor chain: when
//! a call reaches it, the adapter runs it on the private runtime's blocking pool (where
//! blocking is allowed) and awaits it. [`Next::run`] blocks on the rest of rpc-aio's chain;
//! the [`Responses`] it returns pass back to rpc-aio untouched unless the interceptor
//! replaces them. Details, short-circuits and errors mean what they mean in rpc-aio.

use crate::bridge;
use crate::runtime::{RuntimeHandle, panic_message};
use futures::StreamExt;
use futures::future::BoxFuture;
use rpc_aio::Responses as AsyncResponses;
use rpc_aio::RpcOutcome;
#[doc(no_inline)]
pub use rpc_aio::{AnyMessage, ClientCallDetails};
use rpc_core::{Metadata, RpcError};
use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;

/// A blocking client interceptor for all four kinds of call (gRPC Python's four
/// `*ClientInterceptor` classes in one).
///
/// It runs on the private runtime's blocking pool, so it may block and may make blocking
/// calls. It may change `details` (method, metadata, deadline, credentials, wait-for-ready,
/// compression, and the request of a unary-request call) and then call
/// [`next.run(details)`](Next::run), or return responses or an error of its own without
/// calling it (nothing is sent then). A panic fails the call with INTERNAL.
///
/// ```
/// use rpc_sync::{ClientCallDetails, ClientInterceptor, Next, Responses, RpcError};
///
/// fn add_user(mut details: ClientCallDetails, next: Next) -> Result<Responses, RpcError> {
///     details.metadata.add("x-user", "ada")?;
///     next.run(details)
/// }
/// fn assert_interceptor(_: impl ClientInterceptor) {}
/// assert_interceptor(add_user);
/// ```
pub trait ClientInterceptor: Send + Sync + 'static {
    /// Intercepts one call.
    fn intercept(&self, details: ClientCallDetails, next: Next) -> Result<Responses, RpcError>;
}

impl<F> ClientInterceptor for F
where
    F: Fn(ClientCallDetails, Next) -> Result<Responses, RpcError> + Send + Sync + 'static,
{
    fn intercept(&self, details: ClientCallDetails, next: Next) -> Result<Responses, RpcError> {
        self(details, next)
    }
}

impl<T: ClientInterceptor + ?Sized> ClientInterceptor for Arc<T> {
    fn intercept(&self, details: ClientCallDetails, next: Next) -> Result<Responses, RpcError> {
        (**self).intercept(details, next)
    }
}

/// The rest of the chain: the next interceptor, or the call itself. Cheap to clone; it may
/// be run more than once (a retry, a re-authentication): as in rpc-aio, a second run of a
/// unary-request call whose `details.request` is `None` (what
/// [`ClientCallDetails::again`] gives) sends the first run's request again, and a second
/// run of a request-streaming call fails with FAILED_PRECONDITION (its request stream was
/// read by the first run and is not kept).
///
/// # Drop behavior
/// Dropping it without [`run`](Self::run) sends nothing.
#[derive(Clone)]
pub struct Next {
    inner: rpc_aio::Next,
    runtime: RuntimeHandle,
    abandoned: watch::Receiver<()>,
}

impl fmt::Debug for Next {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next").field("inner", &self.inner).finish()
    }
}

impl Next {
    /// Continues the call with `details` and blocks until it has started (the server's
    /// response headers arrived, or a later interceptor answered); the responses are then
    /// read from the returned [`Responses`].
    ///
    /// # Errors
    /// The call's error if it failed before responding; CANCELLED if the call was
    /// cancelled meanwhile; FAILED_PRECONDITION when run on a thread inside an async runtime.
    pub fn run(&self, details: ClientCallDetails) -> Result<Responses, RpcError> {
        let run = self.inner.run(details);
        let mut abandoned = self.abandoned.clone();
        let started = bridge::wait(self.runtime.handle(), async move {
            tokio::select! {
                r = run => r,
                // Only an error can come: nothing is ever sent, the sender is dropped.
                _ = abandoned.changed() => Err(RpcError::cancelled("the call ended while its interceptor ran")),
            }
        })??;
        Ok(Responses {
            kind: Kind::Stream(started),
            runtime: Some(self.runtime.clone()),
        })
    }
}

/// The responses of an intercepted call, as a blocking iterator of type-erased messages
/// ending with the call's error, if any (a unary-response call uses the first message).
///
/// Return the `Responses` of [`Next::run`] as they are (they go back to the call untouched),
/// wrap them (`Responses::from_iter(responses.map(..))`), or make your own
/// ([`single`](Self::single), [`from_iter`](Self::from_iter)).
///
/// # Drop behavior
/// Dropping the responses of [`Next::run`] unread, without returning them, abandons the call
/// (the server sees it cancelled).
pub struct Responses {
    kind: Kind,
    runtime: Option<RuntimeHandle>,
}

enum Kind {
    Stream(AsyncResponses),
    Iter(Box<dyn Iterator<Item = Result<AnyMessage, RpcError>> + Send>),
    Done,
}

impl fmt::Debug for Responses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            Kind::Stream(_) => "Responses(call)",
            Kind::Iter(_) => "Responses(iterator)",
            Kind::Done => "Responses(done)",
        })
    }
}

impl Responses {
    /// One response message (a short-circuit).
    pub fn single<T: Send + 'static>(message: T) -> Responses {
        Responses {
            kind: Kind::Stream(AsyncResponses::single(message)),
            runtime: None,
        }
    }

    /// Responses from an iterator (pulled on the runtime's blocking pool as the call's
    /// reader asks for them; it may block).
    #[allow(clippy::should_implement_trait)] // also takes iterators that are not `Responses`
    pub fn from_iter<I>(responses: I) -> Responses
    where
        I: IntoIterator<Item = Result<AnyMessage, RpcError>>,
        I::IntoIter: Send + 'static,
    {
        Responses {
            kind: Kind::Iter(Box::new(responses.into_iter())),
            runtime: None,
        }
    }

    /// No responses (the call ends when they do).
    pub fn empty() -> Responses {
        Responses {
            kind: Kind::Done,
            runtime: None,
        }
    }

    /// The response headers (initial metadata) the server sent, for the responses of
    /// [`Next::run`]; `None` for a trailers-only response and for responses an interceptor
    /// made.
    pub fn initial_metadata(&self) -> Option<&Metadata> {
        match &self.kind {
            Kind::Stream(s) => s.initial_metadata(),
            _ => None,
        }
    }

    /// Runs `hook` on each response message as it arrives, before the call (or the
    /// interceptors before this one) get it; it may read it or change it in place. It runs
    /// on the thread that reads the responses (a runtime thread for the responses of
    /// [`Next::run`]), so it must not block.
    pub fn on_response(self, mut hook: impl FnMut(&mut (dyn Any + Send)) + Send + 'static) -> Responses {
        let Responses { kind, runtime } = self;
        let kind = match kind {
            Kind::Stream(s) => Kind::Stream(s.on_response(hook)),
            Kind::Iter(iter) => Kind::Iter(Box::new(iter.map(move |item| {
                item.map(|mut m| {
                    hook(m.as_any_mut());
                    m
                })
            }))),
            Kind::Done => Kind::Done,
        };
        Responses { kind, runtime }
    }

    /// Runs `hook` once with the call's final status when these responses end (OK with the
    /// trailing metadata, or the error), or when they are dropped before their end (the
    /// call's status if it has one, CANCELLED if not). It must not block.
    pub fn on_status(self, hook: impl FnOnce(&RpcOutcome) + Send + 'static) -> Responses {
        let Responses { kind, runtime } = self;
        let kind = match kind {
            Kind::Stream(s) => Kind::Stream(s.on_status(hook)),
            Kind::Done => Kind::Stream(AsyncResponses::empty().on_status(hook)),
            Kind::Iter(iter) => Kind::Iter(Box::new(WatchedIter {
                iter,
                hook: Some(Box::new(hook)),
                started: Instant::now(),
            })),
        };
        Responses { kind, runtime }
    }

    /// Converts for rpc-aio: streams pass through; iterators are pumped on the blocking pool.
    fn into_stream(self, runtime: &RuntimeHandle) -> AsyncResponses {
        match self.kind {
            Kind::Stream(s) => s,
            Kind::Done => AsyncResponses::empty(),
            Kind::Iter(iter) => {
                let runtime = runtime.clone();
                AsyncResponses::from_stream(futures::stream::unfold(Some(iter), move |iter| {
                    let runtime = runtime.clone();
                    async move {
                        let mut iter = iter?;
                        match runtime
                            .spawn_blocking(move || {
                                let item = iter.next();
                                (iter, item)
                            })
                            .await
                        {
                            Ok((iter, Some(item))) => Some((item, Some(iter))),
                            Ok((_, None)) => None,
                            Err(e) => Some((Err(join_error("a response iterator of a client interceptor", e)), None)),
                        }
                    }
                }))
            }
        }
    }
}

impl Iterator for Responses {
    type Item = Result<AnyMessage, RpcError>;

    /// The next response; blocks until it arrives.
    fn next(&mut self) -> Option<Self::Item> {
        match std::mem::replace(&mut self.kind, Kind::Done) {
            Kind::Done => None,
            Kind::Iter(mut iter) => {
                let item = iter.next();
                if item.is_some() {
                    self.kind = Kind::Iter(iter);
                }
                item
            }
            Kind::Stream(mut stream) => {
                let runtime = match &self.runtime {
                    Some(rt) => rt.clone(),
                    None => match RuntimeHandle::shared() {
                        Ok(rt) => rt,
                        Err(e) => return Some(Err(e)),
                    },
                };
                match bridge::wait(runtime.handle(), stream.next()) {
                    Ok(Some(item)) => {
                        self.kind = Kind::Stream(stream);
                        Some(item)
                    }
                    Ok(None) => None,
                    Err(e) => Some(Err(e)),
                }
            }
        }
    }
}

type StatusHook = Box<dyn FnOnce(&RpcOutcome) + Send>;

/// An interceptor's own response iterator whose end is reported to a status hook.
struct WatchedIter {
    iter: Box<dyn Iterator<Item = Result<AnyMessage, RpcError>> + Send>,
    hook: Option<StatusHook>,
    started: Instant,
}

impl WatchedIter {
    fn report(&mut self, result: Result<Metadata, RpcError>) {
        if let Some(hook) = self.hook.take() {
            hook(&RpcOutcome::new(result, self.started.elapsed()));
        }
    }
}

impl Iterator for WatchedIter {
    type Item = Result<AnyMessage, RpcError>;
    fn next(&mut self) -> Option<Self::Item> {
        let item = self.iter.next();
        match &item {
            Some(Ok(_)) => {}
            Some(Err(e)) => self.report(Err(e.clone())),
            None => self.report(Ok(Metadata::new())),
        }
        item
    }
}

impl Drop for WatchedIter {
    fn drop(&mut self) {
        self.report(Err(RpcError::cancelled("the call was cancelled before it ended")));
    }
}

/// Runs a blocking interceptor as a link of rpc-aio's async chain.
struct Adapter {
    interceptor: Arc<dyn ClientInterceptor>,
    runtime: RuntimeHandle,
}

impl rpc_aio::ClientInterceptor for Adapter {
    fn intercept(&self, details: ClientCallDetails, next: rpc_aio::Next) -> BoxFuture<'static, Result<AsyncResponses, RpcError>> {
        let (abandon, abandoned) = watch::channel(());
        let (interceptor, runtime) = (self.interceptor.clone(), self.runtime.clone());
        let task = self.runtime.spawn_blocking(move || {
            let next = Next {
                inner: next,
                runtime: runtime.clone(),
                abandoned,
            };
            interceptor.intercept(details, next).map(|r| r.into_stream(&runtime))
        });
        Box::pin(async move {
            // Dropped with this future (the call ended): a blocked `Next::run` gives up.
            let _abandon = abandon;
            task.await.unwrap_or_else(|e| Err(join_error("client interceptor", e)))
        })
    }
}

fn join_error(what: &str, e: tokio::task::JoinError) -> RpcError {
    match e.try_into_panic() {
        Ok(panic) => RpcError::internal(format!("{what} panicked: {}", panic_message(panic.as_ref()))),
        Err(_) => RpcError::cancelled(format!("{what} was cancelled (the rpc-sync runtime shut down)")),
    }
}

/// Adds blocking interceptors (run first, in order) to an aio channel.
pub(crate) fn wrap(aio: &rpc_aio::Channel, runtime: &RuntimeHandle, interceptors: Vec<Arc<dyn ClientInterceptor>>) -> rpc_aio::Channel {
    if interceptors.is_empty() {
        return aio.clone();
    }
    aio.with_interceptors(interceptors.into_iter().map(|interceptor| {
        Arc::new(Adapter {
            interceptor,
            runtime: runtime.clone(),
        }) as Arc<dyn rpc_aio::ClientInterceptor>
    }))
}
