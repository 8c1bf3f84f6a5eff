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

/// Options for one message written on a request stream (C-core's write flags).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct WriteOptions {
    /// Send this message uncompressed even though the call compresses its messages
    /// (C-core's `GRPC_WRITE_NO_COMPRESS`); each gRPC message carries its own flag.
    pub no_compress: bool,
}

impl WriteOptions {
    /// The defaults: the message is compressed if the call is.
    pub const fn new() -> WriteOptions {
        WriteOptions { no_compress: false }
    }

    /// Sends the message uncompressed.
    pub const fn no_compress(mut self) -> WriteOptions {
        self.no_compress = true;
        self
    }
}

/// One request message with its [`WriteOptions`], for sources that choose per message
/// (see [`RequestSource::messages`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMessage<T> {
    /// The message.
    pub message: T,
    /// How to send it.
    pub options: WriteOptions,
}

impl<T> OutgoingMessage<T> {
    /// A message sent with the call's defaults.
    pub fn new(message: T) -> OutgoingMessage<T> {
        OutgoingMessage {
            message,
            options: WriteOptions::new(),
        }
    }

    /// This message, sent uncompressed on a compressed call.
    pub fn uncompressed(mut self) -> OutgoingMessage<T> {
        self.options.no_compress = true;
        self
    }
}

impl<T> From<T> for OutgoingMessage<T> {
    fn from(message: T) -> Self {
        OutgoingMessage::new(message)
    }
}

type BoxIter<T> = Box<dyn Iterator<Item = OutgoingMessage<T>> + Send>;
type BoxStream<T> = Pin<Box<dyn Stream<Item = OutgoingMessage<T>> + Send>>;

/// Where the requests of a request-streaming call come from: an iterator (which may block:
/// the engine pulls it on a blocking thread), an async stream, or the call object itself
/// (`write` / `done_writing`, made by [`WriteRequests`]).
///
/// Most code never names it: stubs and multi-callables take anything that implements
/// [`IntoRequestSource`] (a `Vec`, an iterator, [`stream`], [`WriteRequests`]).
pub struct RequestSource<T> {
    kind: SourceKind<T>,
}

/// What a [`RequestSource`] is made of, for the engine.
#[doc(hidden)]
pub enum SourceKind<T> {
    /// A (possibly blocking) iterator.
    Iter(BoxIter<T>),
    /// An async stream.
    Stream(BoxStream<T>),
    /// Requests are written through the call object.
    Writer,
}

impl<T: 'static> RequestSource<T> {
    /// Requests from an iterator (pulled on a blocking thread, so it may block).
    pub fn iter<I>(messages: I) -> RequestSource<T>
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: Send + 'static,
    {
        RequestSource {
            kind: SourceKind::Iter(Box::new(messages.into_iter().map(OutgoingMessage::new))),
        }
    }

    /// Requests from an iterator that chooses the [`WriteOptions`] of each message, e.g.
    /// to send one message of a compressed call uncompressed.
    ///
    /// ```
    /// use rpc_core::{OutgoingMessage, RequestSource};
    /// let source = RequestSource::messages(vec![OutgoingMessage::new(1), OutgoingMessage::new(2).uncompressed()]);
    /// # let _ = source;
    /// ```
    pub fn messages<I>(messages: I) -> RequestSource<T>
    where
        I: IntoIterator<Item = OutgoingMessage<T>>,
        I::IntoIter: Send + 'static,
    {
        RequestSource {
            kind: SourceKind::Iter(Box::new(messages.into_iter())),
        }
    }

    /// Requests from an async stream.
    pub fn stream<S>(messages: S) -> RequestSource<T>
    where
        S: Stream<Item = T> + Send + 'static,
    {
        RequestSource {
            kind: SourceKind::Stream(Box::pin(MapStream { inner: messages })),
        }
    }

    /// Requests from an async stream that chooses the [`WriteOptions`] of each message.
    pub fn message_stream<S>(messages: S) -> RequestSource<T>
    where
        S: Stream<Item = OutgoingMessage<T>> + Send + 'static,
    {
        RequestSource {
            kind: SourceKind::Stream(Box::pin(messages)),
        }
    }

    /// No source: requests are written through the call object (`write`, `done_writing`).
    pub fn writer() -> RequestSource<T> {
        RequestSource { kind: SourceKind::Writer }
    }
}

impl<T> RequestSource<T> {
    /// Whether requests are written through the call object.
    pub fn is_writer(&self) -> bool {
        matches!(self.kind, SourceKind::Writer)
    }

    /// What the source is made of (for the engine).
    #[doc(hidden)]
    pub fn into_kind(self) -> SourceKind<T> {
        self.kind
    }
}

pin_project_lite::pin_project! {
    /// Wraps plain messages of a stream into [`OutgoingMessage`]s.
    struct MapStream<S> {
        #[pin]
        inner: S,
    }
}

impl<S: Stream> Stream for MapStream<S> {
    type Item = OutgoingMessage<S::Item>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Self::Item>> {
        self.project().inner.poll_next(cx).map(|o| o.map(OutgoingMessage::new))
    }
}

impl<T> fmt::Debug for RequestSource<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl<T> fmt::Debug for SourceKind<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceKind::Iter(_) => "RequestSource::Iter",
            SourceKind::Stream(_) => "RequestSource::Stream",
            SourceKind::Writer => "RequestSource::Writer",
        })
    }
}

/// Something that can supply the requests of a request-streaming call.
///
/// Implemented for every `IntoIterator` (a `Vec`, an iterator, a generator-like
/// closure iterator), for [`StreamRequests`] (made by [`stream`]), for [`WriteRequests`]
/// (requests written through the call object) and for a [`RequestSource`] itself.
pub trait IntoRequestSource<T> {
    /// Converts into a [`RequestSource`].
    fn into_request_source(self) -> RequestSource<T>;
}

impl<T: 'static, I> IntoRequestSource<T> for I
where
    I: IntoIterator<Item = T>,
    I::IntoIter: Send + 'static,
{
    fn into_request_source(self) -> RequestSource<T> {
        RequestSource::iter(self)
    }
}

impl<T> IntoRequestSource<T> for RequestSource<T> {
    fn into_request_source(self) -> RequestSource<T> {
        self
    }
}

/// A `Stream` of requests; made by [`stream`].
#[derive(Debug)]
pub struct StreamRequests<S>(pub S);

/// Uses an async `Stream` as the requests of a call.
pub fn stream<S: Stream + Send + 'static>(s: S) -> StreamRequests<S> {
    StreamRequests(s)
}

impl<T: 'static, S> IntoRequestSource<T> for StreamRequests<S>
where
    S: Stream<Item = T> + Send + 'static,
{
    fn into_request_source(self) -> RequestSource<T> {
        RequestSource::stream(self.0)
    }
}

/// No request source: requests are written through the call object (`write`, `done_writing`).
#[derive(Clone, Copy, Debug, Default)]
pub struct WriteRequests;

impl<T: 'static> IntoRequestSource<T> for WriteRequests {
    fn into_request_source(self) -> RequestSource<T> {
        RequestSource::writer()
    }
}

/// Something that can be the request of a request-streaming call: a request source,
/// or a [`Request`] wrapping one (to set options).
pub trait IntoStreamingRequest<T> {
    /// Wraps into a `Request` of a [`RequestSource`].
    fn into_streaming_request(self) -> Request<RequestSource<T>>;
}

impl<T: 'static, I> IntoStreamingRequest<T> for I
where
    I: IntoIterator<Item = T>,
    I::IntoIter: Send + 'static,
{
    fn into_streaming_request(self) -> Request<RequestSource<T>> {
        Request::new(RequestSource::iter(self))
    }
}

impl<T: 'static, S> IntoStreamingRequest<T> for StreamRequests<S>
where
    S: Stream<Item = T> + Send + 'static,
{
    fn into_streaming_request(self) -> Request<RequestSource<T>> {
        Request::new(self.into_request_source())
    }
}

impl<T: 'static> IntoStreamingRequest<T> for WriteRequests {
    fn into_streaming_request(self) -> Request<RequestSource<T>> {
        Request::new(RequestSource::writer())
    }
}

impl<T> IntoStreamingRequest<T> for RequestSource<T> {
    fn into_streaming_request(self) -> Request<RequestSource<T>> {
        Request::new(self)
    }
}

impl<T, S: IntoRequestSource<T>> IntoStreamingRequest<T> for Request<S> {
    fn into_streaming_request(self) -> Request<RequestSource<T>> {
        self.map(IntoRequestSource::into_request_source)
    }
}
