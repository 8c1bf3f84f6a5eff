//! The blocking call object, [`Call`]: one type for the four kinds of call, holding rpc-aio's
//! call object (see `rpc_aio::Call`). A one-response call is gRPC Python's `Future` + `Call`
//! ([`Call::result`]); a streaming one is an `Iterator` of responses that is also a `Call`;
//! a request-streaming call made with `WriteRequests` can [`Call::write`] (or be
//! [`Call::split`] so one thread writes while another reads).
//!
//! # Implementation
//!
//! Every blocking method waits for the aio call object through the crate's one bridge
//! (`bridge::wait`): it is polled on the caller's thread, so a response reaches the caller
//! with one thread hop and no task of its own. Dropping a blocking call object drops the aio
//! one, which cancels an unfinished call.

mod writer;

pub use rpc_aio::CallOutcome;
#[doc(no_inline)]
pub use rpc_aio::kind;
pub use writer::RequestSender;

use crate::bridge::{self, WaitError};
use crate::runtime::RuntimeHandle;
use futures::StreamExt;
use rpc_core::{Metadata, RpcError, StatusCode, WriteOptions};
use std::fmt;
use std::iter::FusedIterator;
use std::time::{Duration, Instant};

/// A unary-unary call running in the background (what `future()` returns).
pub type UnaryCall<Resp> = Call<kind::UnaryUnary, (), Resp>;
/// A unary-stream call: an `Iterator` of responses.
pub type UnaryStreamCall<Resp> = Call<kind::UnaryStream, (), Resp>;
/// A stream-unary call running in the background (what `future()` returns).
pub type StreamUnaryCall<Req, Resp> = Call<kind::StreamUnary, Req, Resp>;
/// A stream-stream call: an `Iterator` of responses; [`Call::write`] when made with
/// `WriteRequests`.
pub type StreamStreamCall<Req, Resp> = Call<kind::StreamStream, Req, Resp>;

/// Where a one-response call's result is, once waited for.
enum Outcome<Resp> {
    Running,
    Ready(Result<Resp, RpcError>),
}

/// One call, of kind `K`, sending `Req` and receiving `Resp` (gRPC Python's `Call`, and its
/// `Future` or response iterator).
///
/// # Drop behavior
/// Dropping an unfinished call cancels it (the server sees the RPC cancelled) and stops
/// pulling its requests.
#[must_use = "a call is cancelled when dropped"]
pub struct Call<K, Req, Resp> {
    inner: rpc_aio::Call<K, Req, Resp>,
    runtime: RuntimeHandle,
    outcome: Outcome<Resp>,
    /// The response stream ended (iterator kinds).
    finished: bool,
}

impl<K, Req, Resp> fmt::Debug for Call<K, Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call").field("inner", &self.inner).finish()
    }
}

impl<K, Req, Resp: Send + 'static> Call<K, Req, Resp> {
    pub(crate) fn new(inner: rpc_aio::Call<K, Req, Resp>, runtime: &RuntimeHandle) -> Self {
        Call {
            inner,
            runtime: runtime.clone(),
            outcome: Outcome::Running,
            finished: false,
        }
    }

    /// The rpc-aio call object this one holds.
    pub fn as_aio(&self) -> &rpc_aio::Call<K, Req, Resp> {
        &self.inner
    }

    /// Starts the RPC in the background now, if it is not running yet.
    pub fn start(&self) {
        self.inner.start();
    }

    /// The initial metadata (response headers); blocks until they arrive.
    ///
    /// # Errors
    /// The call's error if it failed before the server sent headers; FAILED_PRECONDITION
    /// on a thread inside an async runtime.
    pub fn initial_metadata(&self) -> Result<Metadata, RpcError> {
        bridge::wait(self.runtime.handle(), self.inner.initial_metadata())?
    }

    /// The trailing metadata; blocks until the call ends.
    ///
    /// # Errors
    /// Only when it cannot wait: FAILED_PRECONDITION on a thread inside an async runtime.
    pub fn trailing_metadata(&self) -> Result<Metadata, RpcError> {
        bridge::wait(self.runtime.handle(), self.inner.trailing_metadata())
    }

    /// The status code; blocks until the call ends.
    ///
    /// # Errors
    /// Only when it cannot wait (the code of a failed call is the `Ok` value).
    pub fn code(&self) -> Result<StatusCode, RpcError> {
        bridge::wait(self.runtime.handle(), self.inner.code())
    }

    /// The status details; blocks until the call ends.
    ///
    /// # Errors
    /// Only when it cannot wait.
    pub fn details(&self) -> Result<String, RpcError> {
        bridge::wait(self.runtime.handle(), self.inner.details())
    }

    /// How the call ended (metadata, code, details); blocks until it ends.
    ///
    /// # Errors
    /// Only when it cannot wait.
    pub fn outcome(&self) -> Result<CallOutcome, RpcError> {
        bridge::wait(self.runtime.handle(), self.inner.outcome())
    }

    /// How the call ended, if it has. Never blocks.
    pub fn outcome_now(&self) -> Option<CallOutcome> {
        self.inner.outcome_now()
    }

    /// Cancels the call (the server sees it cancelled); `false` if it had already ended.
    pub fn cancel(&self) -> bool {
        self.inner.cancel()
    }

    /// Whether the call ended CANCELLED.
    pub fn cancelled(&self) -> bool {
        self.inner.cancelled()
    }

    /// Whether the call has ended.
    pub fn done(&self) -> bool {
        self.inner.done()
    }

    /// Whether the call is still running.
    pub fn running(&self) -> bool {
        !self.inner.done()
    }

    /// Time left until the deadline (`None`: no deadline).
    pub fn time_remaining(&self) -> Option<Duration> {
        self.inner.time_remaining()
    }

    /// Runs `callback` with how the call ended when it ends (soon, if it has ended), on the
    /// private runtime's blocking pool: it may block. The call runs in the background.
    pub fn add_done_callback(&self, callback: impl FnOnce(&CallOutcome) + Send + 'static) {
        let runtime = self.runtime.clone();
        self.inner.add_done_callback(move |outcome: &CallOutcome| {
            let outcome = outcome.clone();
            drop(runtime.spawn_blocking(move || callback(&outcome)));
        });
    }
}

impl<K: kind::OneResponse, Req, Resp: Send + 'static> Call<K, Req, Resp> {
    /// Waits for the aio call object's result, at most until `timeout`.
    fn settle(&mut self, timeout: Option<Duration>) -> Result<&Result<Resp, RpcError>, WaitError> {
        if let Outcome::Running = self.outcome {
            let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
            match bridge::wait_until(self.runtime.handle(), &mut self.inner, deadline)? {
                Some(r) => self.outcome = Outcome::Ready(r),
                None => return Err(WaitError::timed_out(timeout)),
            }
        }
        match &self.outcome {
            Outcome::Ready(r) => Ok(r),
            Outcome::Running => Err(WaitError::Rpc(RpcError::internal("the call's result was lost"))),
        }
    }

    /// The response; blocks until the call ends or `timeout` passes (`None`: no limit).
    /// Once the call has ended it returns the same result every time.
    ///
    /// # Errors
    /// - [`WaitError::Rpc`] with the call's error;
    /// - [`WaitError::Timeout`] when `timeout` passes first: the call goes on (call `result`
    ///   again, or [`cancel`](Self::cancel) it);
    /// - FAILED_PRECONDITION (as [`WaitError::Rpc`]) on a thread inside an async runtime.
    pub fn result(&mut self, timeout: Option<Duration>) -> Result<Resp, WaitError>
    where
        Resp: Clone,
    {
        match self.settle(timeout)? {
            Ok(response) => Ok(response.clone()),
            Err(e) => Err(WaitError::Rpc(e.clone())),
        }
    }

    /// The call's error (`None` if it succeeded); blocks like [`result`](Self::result).
    ///
    /// # Errors
    /// Only when it cannot wait: [`WaitError::Timeout`] (the call goes on), or
    /// FAILED_PRECONDITION on a thread inside an async runtime.
    pub fn exception(&mut self, timeout: Option<Duration>) -> Result<Option<RpcError>, WaitError> {
        Ok(self.settle(timeout)?.as_ref().err().cloned())
    }
}

impl<K: kind::ManyResponses, Req, Resp: Send + 'static> Call<K, Req, Resp> {
    /// The next response; `Ok(None)` at the end of the stream (grpc.aio's EOF); blocks until
    /// one arrives. The same as [`Iterator::next`] in rpc-aio's shape, so a bidi call is
    /// driven by `write` / `done_writing` / `read` in both faces.
    ///
    /// ```
    /// # fn main() -> Result<(), rpc_sync::RpcError> {
    /// use rpc_sync::{RequestIterator, ResponseIterator, RpcError, WriteRequests};
    /// let (_server, channel) = rpc_sync::testing::serve(|server| {
    ///     // Echoes each request, then fails the RPC when asked to.
    ///     let echo = rpc_sync::stream_stream_rpc_method_handler(|requests: RequestIterator<String>, _context: &_| {
    ///         Ok(ResponseIterator::new(requests.map(|r| match r {
    ///             Ok(text) if text == "fail" => Err(RpcError::aborted("asked to fail")),
    ///             other => other,
    ///         })))
    ///     });
    ///     server.add_method_handler("/echo.Echo/Chat", echo);
    /// })?;
    /// let chat = channel.stream_stream::<String, String>("/echo.Echo/Chat");
    ///
    /// let mut call = chat.call(WriteRequests);
    /// call.write("hi".to_owned())?;
    /// assert_eq!(call.read()?.as_deref(), Some("hi"));
    /// call.done_writing()?;
    /// assert_eq!(call.read()?, None); // the end of the stream
    ///
    /// let mut failing = chat.call(WriteRequests);
    /// failing.write("fail".to_owned())?;
    /// assert_eq!(failing.read().unwrap_err().code(), rpc_sync::StatusCode::Aborted);
    /// assert_eq!(failing.read()?, None); // the error is reported once
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The call's error, once (then `Ok(None)`); FAILED_PRECONDITION on a thread inside an
    /// async runtime (the call is cancelled).
    pub fn read(&mut self) -> Result<Option<Resp>, RpcError> {
        self.next().transpose()
    }
}

impl<K: kind::ManyResponses, Req, Resp: Send + 'static> Iterator for Call<K, Req, Resp> {
    type Item = Result<Resp, RpcError>;

    /// The next response; blocks until it arrives. At the end, the call's error (once) or
    /// `None`. On a thread inside an async runtime: FAILED_PRECONDITION once, and the call
    /// is cancelled.
    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        match bridge::wait_call(self.inner.next()) {
            Ok(Some(item)) => Some(item),
            Ok(None) => {
                self.finished = true;
                None
            }
            Err(e) => {
                self.finished = true;
                self.inner.cancel();
                Some(Err(e))
            }
        }
    }
}

impl<K: kind::ManyResponses, Req, Resp: Send + 'static> FusedIterator for Call<K, Req, Resp> {}

impl<K: kind::ManyRequests, Req: Send + 'static, Resp: Send + 'static> Call<K, Req, Resp> {
    /// Sends one request (only for calls made with `WriteRequests`); blocks while the
    /// connection has no room for it (flow control), and meanwhile reads responses ahead
    /// for the reader, so the call's end is seen even when no one reads.
    ///
    /// # Errors
    /// The call's status once it has ended (the server answered, e.g. UNIMPLEMENTED or its
    /// handler's error; the deadline passed while the write waited; the connection died):
    /// the responses that came before it are still read from the call.
    /// FAILED_PRECONDITION after `done_writing`, on a call with a request iterator, once the
    /// writer was split off, when the call had ended OK, or inside an async runtime.
    pub fn write(&mut self, request: Req) -> Result<(), RpcError> {
        self.write_with(request, WriteOptions::new())
    }

    /// Sends one request with per-message options (e.g. uncompressed on a compressed call).
    ///
    /// # Errors
    /// As [`write`](Self::write).
    pub fn write_with(&mut self, request: Req, options: WriteOptions) -> Result<(), RpcError> {
        bridge::wait_call(self.inner.write_with(request, options))?
    }

    /// Says no more requests will be written (half-closes the request stream).
    ///
    /// # Errors
    /// FAILED_PRECONDITION on a call with a request iterator, once the writer was split
    /// off, or inside an async runtime.
    pub fn done_writing(&mut self) -> Result<(), RpcError> {
        bridge::wait(self.runtime.handle(), self.inner.done_writing())?
    }

    /// Splits off the writing half, to write from one thread while another reads this call:
    /// full duplex. The call keeps its accessors and responses; its own `write` fails from
    /// then on.
    pub fn split(self) -> (RequestSender<Req>, Self) {
        let Call {
            inner,
            runtime,
            outcome,
            finished,
        } = self;
        let (sender, inner) = inner.split();
        (
            RequestSender::new(sender, runtime.clone()),
            Call {
                inner,
                runtime,
                outcome,
                finished,
            },
        )
    }
}
