//! `Request`: a message (or a source of messages) with its per-call options.

use crate::compression::Compression;
use crate::credentials::CallCredentials;
use crate::metadata::Metadata;
use futures_core::Stream;
use std::fmt;
use std::pin::Pin;
use std::time::{Duration, Instant};

/// Per-call options: timeout, metadata, credentials, wait-for-ready and compression.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct CallOptions {
    /// How long the call may take; it becomes an absolute deadline when the call starts.
    pub timeout: Option<Duration>,
    /// An absolute deadline (the earlier of this and `timeout` wins).
    pub deadline: Option<Instant>,
    /// Metadata sent with the request headers.
    pub metadata: Metadata,
    /// Credentials for this call only.
    pub credentials: Option<CallCredentials>,
    /// Whether to wait for the channel to be ready instead of failing fast with UNAVAILABLE;
    /// `None` takes the channel's default.
    pub wait_for_ready: Option<bool>,
    /// Compression of the request messages; `None` takes the channel's default.
    pub compression: Option<Compression>,
    /// Whether to ignore the deadline of the RPC being served on this task or thread
    /// (by default a call made inside a handler inherits the handler's deadline).
    pub ignore_inherited_deadline: bool,
}

impl CallOptions {
    /// The absolute deadline these options give, for a call starting at `now`.
    pub fn deadline_from(&self, now: Instant) -> Option<Instant> {
        let from_timeout = self.timeout.and_then(|t| now.checked_add(t));
        match (from_timeout, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// A request: a message (or a request source, for request-streaming calls) and its [`CallOptions`].
///
/// Stub methods accept a bare message as well; wrap it in a `Request` to set options:
///
/// ```
/// # use rpc_core::{Request, Metadata};
/// # use std::time::Duration;
/// let req = Request::new("ping")
///     .timeout(Duration::from_secs(2))
///     .metadata(Metadata::from_pairs([("x-user", "ada")]).unwrap())
///     .wait_for_ready(true);
/// assert_eq!(req.options().timeout, Some(Duration::from_secs(2)));
/// ```
#[derive(Clone)]
pub struct Request<T> {
    message: T,
    options: CallOptions,
}

impl<T> Request<T> {
    /// A request with default options.
    pub fn new(message: T) -> Request<T> {
        Request {
            message,
            options: CallOptions::default(),
        }
    }

    /// A request with the given options.
    pub fn from_parts(message: T, options: CallOptions) -> Request<T> {
        Request { message, options }
    }

    /// The message.
    pub fn get_ref(&self) -> &T {
        &self.message
    }

    /// The message, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.message
    }

    /// The options.
    pub fn options(&self) -> &CallOptions {
        &self.options
    }

    /// The options, mutably (interceptors use this to alter a call).
    pub fn options_mut(&mut self) -> &mut CallOptions {
        &mut self.options
    }

    /// Splits into message and options.
    pub fn into_parts(self) -> (T, CallOptions) {
        (self.message, self.options)
    }

    /// The message, dropping the options.
    pub fn into_inner(self) -> T {
        self.message
    }

    /// Changes the message, keeping the options.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Request<U> {
        Request {
            message: f(self.message),
            options: self.options,
        }
    }

    /// Sets the timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }

    /// Sets an absolute deadline.
    pub fn deadline(mut self, deadline: Instant) -> Self {
        self.options.deadline = Some(deadline);
        self
    }

    /// Sets the metadata (replacing any set before).
    pub fn metadata(mut self, metadata: Metadata) -> Self {
        self.options.metadata = metadata;
        self
    }

    /// Sets call credentials.
    pub fn credentials(mut self, credentials: CallCredentials) -> Self {
        self.options.credentials = Some(credentials);
        self
    }

    /// Sets wait-for-ready.
    pub fn wait_for_ready(mut self, wait: bool) -> Self {
        self.options.wait_for_ready = Some(wait);
        self
    }

    /// Sets the compression of request messages.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.options.compression = Some(compression);
        self
    }

    /// Opts out of inheriting the deadline of the RPC being served.
    pub fn ignore_inherited_deadline(mut self) -> Self {
        self.options.ignore_inherited_deadline = true;
        self
    }
}

impl<T: fmt::Debug> fmt::Debug for Request<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("message", &self.message)
            .field("options", &self.options)
            .finish()
    }
}

/// Something that can be the request of a unary-request call: a message or a [`Request`].
pub trait IntoRequest<T> {
    /// Wraps into a [`Request`].
    fn into_request(self) -> Request<T>;
}

impl<T> IntoRequest<T> for T {
    fn into_request(self) -> Request<T> {
        Request::new(self)
    }
}

impl<T> IntoRequest<T> for Request<T> {
    fn into_request(self) -> Request<T> {
        self
    }
}

/// Where the requests of a request-streaming call come from.
pub enum RequestSource<T> {
    /// A (possibly blocking) iterator; the blocking face pumps it on a thread of its own.
    Iter(Box<dyn Iterator<Item = T> + Send>),
    /// An async stream.
    Stream(Pin<Box<dyn Stream<Item = T> + Send>>),
    /// No source: the caller writes requests through the call object and then says done.
    Writer,
}

impl<T> fmt::Debug for RequestSource<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RequestSource::Iter(_) => "RequestSource::Iter",
            RequestSource::Stream(_) => "RequestSource::Stream",
            RequestSource::Writer => "RequestSource::Writer",
        })
    }
}

/// Something that can supply the requests of a request-streaming call.
///
/// Implemented for every `IntoIterator` (a `Vec`, an iterator, a generator-like
/// closure iterator), for [`StreamRequests`] (made by [`stream`]) and for
/// [`WriteRequests`] (requests written through the call object).
pub trait IntoRequestSource<T> {
    /// Converts into a [`RequestSource`].
    fn into_request_source(self) -> RequestSource<T>;
}

impl<T, I> IntoRequestSource<T> for I
where
    I: IntoIterator<Item = T>,
    I::IntoIter: Send + 'static,
{
    fn into_request_source(self) -> RequestSource<T> {
        RequestSource::Iter(Box::new(self.into_iter()))
    }
}

/// A `Stream` of requests; made by [`stream`].
#[derive(Debug)]
pub struct StreamRequests<S>(pub S);

/// Uses an async `Stream` as the requests of a call.
pub fn stream<S: Stream + Send + 'static>(s: S) -> StreamRequests<S> {
    StreamRequests(s)
}

impl<T, S> IntoRequestSource<T> for StreamRequests<S>
where
    S: Stream<Item = T> + Send + 'static,
{
    fn into_request_source(self) -> RequestSource<T> {
        RequestSource::Stream(Box::pin(self.0))
    }
}

/// No request source: requests are written through the call object (`write`, `done_writing`).
#[derive(Clone, Copy, Debug, Default)]
pub struct WriteRequests;

impl<T> IntoRequestSource<T> for WriteRequests {
    fn into_request_source(self) -> RequestSource<T> {
        RequestSource::Writer
    }
}

/// Something that can be the request of a request-streaming call: a request source,
/// or a [`Request`] wrapping one (to set options).
pub trait IntoStreamingRequest<T> {
    /// Wraps into a `Request` of a [`RequestSource`].
    fn into_streaming_request(self) -> Request<RequestSource<T>>;
}

impl<T, I> IntoStreamingRequest<T> for I
where
    I: IntoIterator<Item = T>,
    I::IntoIter: Send + 'static,
{
    fn into_streaming_request(self) -> Request<RequestSource<T>> {
        Request::new(self.into_request_source())
    }
}

impl<T, S> IntoStreamingRequest<T> for StreamRequests<S>
where
    S: Stream<Item = T> + Send + 'static,
{
    fn into_streaming_request(self) -> Request<RequestSource<T>> {
        Request::new(self.into_request_source())
    }
}

impl<T> IntoStreamingRequest<T> for WriteRequests {
    fn into_streaming_request(self) -> Request<RequestSource<T>> {
        Request::new(RequestSource::Writer)
    }
}

impl<T, S: IntoRequestSource<T>> IntoStreamingRequest<T> for Request<S> {
    fn into_streaming_request(self) -> Request<RequestSource<T>> {
        self.map(IntoRequestSource::into_request_source)
    }
}
