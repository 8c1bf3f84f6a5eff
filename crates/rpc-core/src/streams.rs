//! The message streams handed to and returned by server handlers: async
//! `RequestStream`/`ResponseStream` and blocking `RequestIterator`/`ResponseIterator`.

use crate::error::RpcError;
use crate::response_channel::{ResponseReceiver, ResponseSender};
use futures_core::Stream;
use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The requests of a request-streaming RPC, for an async handler.
///
/// A `Stream` of `Result<T, RpcError>`: it ends when the client is done writing; an
/// error (undecodable bytes, a cancelled call) ends it too. Dropping it early is fine.
pub struct RequestStream<T> {
    inner: Pin<Box<dyn Stream<Item = Result<T, RpcError>> + Send>>,
}

impl<T> RequestStream<T> {
    /// Wraps a stream (the engine, and tests, make these).
    pub fn new(stream: impl Stream<Item = Result<T, RpcError>> + Send + 'static) -> RequestStream<T> {
        RequestStream { inner: Box::pin(stream) }
    }

    /// The next message, `Ok(None)` at the end.
    ///
    /// # Cancel safety
    /// Cancel safe: a message is never lost if the future is dropped.
    pub async fn message(&mut self) -> Result<Option<T>, RpcError> {
        match poll_fn(|cx| self.inner.as_mut().poll_next(cx)).await {
            Some(Ok(m)) => Ok(Some(m)),
            Some(Err(e)) => Err(e),
            None => Ok(None),
        }
    }
}

impl<T> Stream for RequestStream<T> {
    type Item = Result<T, RpcError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl<T> fmt::Debug for RequestStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RequestStream")
    }
}

/// The responses of a response-streaming RPC, returned by an async handler.
///
/// An `Err` item ends the RPC with that status.
pub struct ResponseStream<T> {
    inner: Pin<Box<dyn Stream<Item = Result<T, RpcError>> + Send>>,
}

impl<T: Send + 'static> ResponseStream<T> {
    /// Wraps any stream of results.
    pub fn new(stream: impl Stream<Item = Result<T, RpcError>> + Send + 'static) -> ResponseStream<T> {
        ResponseStream { inner: Box::pin(stream) }
    }

    /// A stream of the given messages, all OK.
    pub fn from_messages<I>(messages: I) -> ResponseStream<T>
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: Send + 'static,
    {
        ResponseStream::new(IterStream(messages.into_iter().map(Ok)))
    }

    /// An empty stream.
    pub fn empty() -> ResponseStream<T> {
        ResponseStream::from_messages(Vec::new())
    }
}

impl<T> Stream for ResponseStream<T> {
    type Item = Result<T, RpcError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl<T> fmt::Debug for ResponseStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResponseStream")
    }
}

struct IterStream<I>(I);

// The iterator is never pinned in place, so the wrapper may move freely.
impl<I> Unpin for IterStream<I> {}

impl<I: Iterator> Stream for IterStream<I> {
    type Item = I::Item;
    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<I::Item>> {
        Poll::Ready(self.0.next())
    }
}

/// The requests of a request-streaming RPC, for a blocking handler.
///
/// `next()` blocks the worker thread until the next message arrives; it returns `None`
/// when the client is done writing or the RPC ended.
pub struct RequestIterator<T> {
    inner: Box<dyn Iterator<Item = Result<T, RpcError>> + Send>,
}

impl<T> RequestIterator<T> {
    /// Wraps an iterator (the engine, and tests, make these).
    pub fn new(iter: impl Iterator<Item = Result<T, RpcError>> + Send + 'static) -> RequestIterator<T> {
        RequestIterator { inner: Box::new(iter) }
    }
}

impl<T> Iterator for RequestIterator<T> {
    type Item = Result<T, RpcError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next()
    }
}

impl<T> fmt::Debug for RequestIterator<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RequestIterator")
    }
}

/// The responses of a response-streaming RPC, returned by a blocking handler.
///
/// Two kinds:
/// - [`ResponseIterator::new`] / [`from_messages`](Self::from_messages): any iterator. The
///   server pulls it on a worker thread, so `next()` may block (a generator-style handler);
///   the worker is held while the iterator runs.
/// - [`ResponseIterator::channel`]: a [`ResponseSender`] that the handler (or any thread)
///   feeds. The server reads the channel without a worker: the handler may return at once
///   and keep sending from elsewhere, and a slow client holds no thread of the server's.
///
/// An `Err` item ends the RPC with that status.
pub struct ResponseIterator<T> {
    inner: IterKind<T>,
}

enum IterKind<T> {
    Iter(Box<dyn Iterator<Item = Result<T, RpcError>> + Send>),
    Channel(ResponseReceiver<T>),
}

impl<T: 'static> ResponseIterator<T> {
    /// Wraps any iterator of results.
    pub fn new(iter: impl Iterator<Item = Result<T, RpcError>> + Send + 'static) -> ResponseIterator<T> {
        ResponseIterator {
            inner: IterKind::Iter(Box::new(iter)),
        }
    }

    /// An iterator of the given messages, all OK.
    pub fn from_messages<I>(messages: I) -> ResponseIterator<T>
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: Send + 'static,
    {
        ResponseIterator::new(messages.into_iter().map(Ok))
    }

    /// A channel of at most `capacity` responses: return the iterator from the handler and
    /// feed the sender (from the handler before it returns, or from any thread after). The
    /// responses end when the last sender is dropped.
    ///
    /// ```
    /// use rpc_core::ResponseIterator;
    /// let (tx, responses) = ResponseIterator::<u32>::channel(16);
    /// std::thread::spawn(move || {
    ///     for n in 0..3 {
    ///         if tx.send(Ok(n)).is_err() {
    ///             return; // the RPC ended
    ///         }
    ///     }
    /// });
    /// # assert_eq!(responses.map(Result::unwrap).collect::<Vec<_>>(), [0, 1, 2]);
    /// ```
    pub fn channel(capacity: usize) -> (ResponseSender<T>, ResponseIterator<T>) {
        let (tx, rx) = crate::response_channel::channel(capacity);
        (
            tx,
            ResponseIterator {
                inner: IterKind::Channel(rx),
            },
        )
    }
}

impl<T> ResponseIterator<T> {
    /// Whether it is channel-backed (read by the server without a worker).
    pub fn is_channel(&self) -> bool {
        matches!(self.inner, IterKind::Channel(_))
    }

    /// The channel's next response without blocking, for the engine (`None` for an
    /// iterator-backed one: that one is pulled on a worker).
    #[doc(hidden)]
    pub fn poll_channel(&self, cx: &mut Context<'_>) -> Option<Poll<Option<Result<T, RpcError>>>> {
        match &self.inner {
            IterKind::Channel(rx) => Some(rx.poll_next(cx)),
            IterKind::Iter(_) => None,
        }
    }
}

impl<T> Iterator for ResponseIterator<T> {
    type Item = Result<T, RpcError>;
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            IterKind::Iter(iter) => iter.next(),
            IterKind::Channel(rx) => rx.recv(),
        }
    }
}

impl<T> fmt::Debug for ResponseIterator<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResponseIterator")
    }
}
