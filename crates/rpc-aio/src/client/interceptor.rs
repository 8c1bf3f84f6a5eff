//! Client interceptors with async continuations, for all four kinds of call.
//!
//! An interceptor sees a call's [`ClientCallDetails`] (method, metadata, deadline,
//! credentials, wait-for-ready, compression), may change them, and then either calls the
//! continuation ([`Next::run`]) or short-circuits with its own responses or an error. The
//! responses travel type-erased ([`AnyMessage`]) so one interceptor serves every method;
//! wrapping the response stream is mapping over [`Responses`]. Interceptors run in the
//! order given. A channel with no interceptors takes a direct, typed path (no type erasure).

use futures::future::BoxFuture;
use rpc_core::{CallCredentials, Compression, Metadata, RpcError};
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
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
}

impl fmt::Debug for AnyMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AnyMessage(..)")
    }
}

/// The responses of an intercepted call: a `Stream` of type-erased messages ending with the
/// call's error (if any). A unary-response call uses its first message.
///
/// Return the `Responses` of [`Next::run`] as they are, wrap them
/// (`Responses::from_stream(responses.map(..))`), or make your own
/// ([`single`](Self::single), [`from_stream`](Self::from_stream)).
pub struct Responses {
    inner: Pin<Box<dyn futures::Stream<Item = Result<AnyMessage, RpcError>> + Send>>,
}

impl Responses {
    /// One response message (a short-circuit).
    pub fn single<T: Send + 'static>(message: T) -> Responses {
        Responses::from_stream(futures::stream::once(std::future::ready(Ok(AnyMessage::new(message)))))
    }

    /// Responses from any stream of type-erased messages.
    pub fn from_stream(stream: impl futures::Stream<Item = Result<AnyMessage, RpcError>> + Send + 'static) -> Responses {
        Responses { inner: Box::pin(stream) }
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
}

impl futures::Stream for Responses {
    type Item = Result<AnyMessage, RpcError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl fmt::Debug for Responses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Responses(..)")
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
    pub request: Option<AnyMessage>,
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
}

type Terminal = Box<dyn FnOnce(ClientCallDetails) -> BoxFuture<'static, Result<Responses, RpcError>> + Send>;

/// The rest of the chain: the next interceptor, or the call itself.
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

    /// Continues the call with `details`: runs the next interceptor or sends the RPC.
    ///
    /// # Cancel safety
    /// Dropping the future before it completes abandons the call (nothing more is sent).
    pub fn run(self, details: ClientCallDetails) -> BoxFuture<'static, Result<Responses, RpcError>> {
        match self.chain.get(self.index).cloned() {
            Some(interceptor) => {
                let next = Next {
                    chain: self.chain,
                    index: self.index + 1,
                    terminal: self.terminal,
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
