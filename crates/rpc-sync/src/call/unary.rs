//! `UnaryCall` and `StreamUnaryCall`: a unary-response call running in the background
//! (gRPC Python's `future()`: a `grpc.Future` that is also a `grpc.Call`).

use super::wait_timed_out;
use crate::runtime::RuntimeHandle;
use rpc_core::RpcError;
use std::fmt;
use std::time::{Duration, Instant};

/// The call accessors of every blocking call object (`self.call` is the aio call object).
macro_rules! call_accessors {
    () => {
        /// The initial metadata (response headers); blocks until they arrive.
        ///
        /// # Errors
        /// The call's error if it failed before the server sent headers; FAILED_PRECONDITION
        /// on a thread inside an async runtime.
        pub fn initial_metadata(&self) -> Result<rpc_core::Metadata, rpc_core::RpcError> {
            self.runtime.wait(self.call.initial_metadata())?
        }

        /// The trailing metadata; blocks until the call ends.
        ///
        /// # Errors
        /// Only when it cannot wait: FAILED_PRECONDITION on a thread inside an async runtime.
        pub fn trailing_metadata(&self) -> Result<rpc_core::Metadata, rpc_core::RpcError> {
            self.runtime.wait(self.call.trailing_metadata())
        }

        /// The status code; blocks until the call ends.
        ///
        /// # Errors
        /// Only when it cannot wait (the code of a failed call is the `Ok` value).
        pub fn code(&self) -> Result<rpc_core::StatusCode, rpc_core::RpcError> {
            self.runtime.wait(self.call.code())
        }

        /// The status details; blocks until the call ends.
        ///
        /// # Errors
        /// Only when it cannot wait.
        pub fn details(&self) -> Result<String, rpc_core::RpcError> {
            self.runtime.wait(self.call.details())
        }

        /// Cancels the call (the server sees it cancelled); `false` if it had already ended.
        pub fn cancel(&self) -> bool {
            self.call.cancel()
        }

        /// Whether the call ended CANCELLED.
        pub fn cancelled(&self) -> bool {
            self.call.cancelled()
        }

        /// Whether the call has ended.
        pub fn done(&self) -> bool {
            self.call.done()
        }

        /// Whether the call is still running.
        pub fn running(&self) -> bool {
            !self.call.done()
        }

        /// Time left until the deadline (`None`: no deadline).
        pub fn time_remaining(&self) -> Option<std::time::Duration> {
            self.call.time_remaining()
        }

        /// Runs `callback` with the finished call's details when the call ends (soon, if it
        /// has ended), on the private runtime's blocking pool: it may block.
        pub fn add_done_callback(&self, callback: impl FnOnce(&crate::call::CallDetails) + Send + 'static) {
            self.call
                .add_done_callback(crate::call::on_blocking_pool(&self.runtime, callback))
        }
    };
}
pub(crate) use call_accessors;

/// Where a future's result is.
enum Outcome<Resp> {
    Running,
    Ready(Result<Resp, RpcError>),
    Taken,
}

macro_rules! future_methods {
    () => {
        /// The response; blocks until the call ends or `timeout` passes (`None`: no limit).
        ///
        /// # Errors
        /// - the call's error;
        /// - `DEADLINE_EXCEEDED` "timed out ... waiting for the result" when `timeout` passes
        ///   first: the call goes on (call `result` again, or [`cancel`](Self::cancel) it);
        /// - `FAILED_PRECONDITION` after an earlier `result` returned the response (it is
        ///   moved out), or on a thread inside an async runtime.
        pub fn result(&mut self, timeout: Option<Duration>) -> Result<Resp, RpcError> {
            self.settle(timeout)?;
            match std::mem::replace(&mut self.outcome, Outcome::Taken) {
                Outcome::Ready(Ok(response)) => Ok(response),
                Outcome::Ready(Err(e)) => {
                    self.outcome = Outcome::Ready(Err(e.clone()));
                    Err(e)
                }
                Outcome::Taken | Outcome::Running => Err(RpcError::failed_precondition("result() already returned the response")),
            }
        }

        /// The call's error (`None` if it succeeded); blocks like [`result`](Self::result).
        ///
        /// # Errors
        /// Only when it cannot wait: a timeout (`DEADLINE_EXCEEDED`, the call goes on) or a
        /// thread inside an async runtime (`FAILED_PRECONDITION`).
        pub fn exception(&mut self, timeout: Option<Duration>) -> Result<Option<RpcError>, RpcError> {
            self.settle(timeout)?;
            Ok(match &self.outcome {
                Outcome::Ready(Err(e)) => Some(e.clone()),
                _ => None,
            })
        }

        /// Waits for the aio call object's result, at most until the timeout.
        fn settle(&mut self, timeout: Option<Duration>) -> Result<(), RpcError> {
            if !matches!(self.outcome, Outcome::Running) {
                return Ok(());
            }
            let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
            match self.runtime.wait_until(&mut self.call, deadline)? {
                Some(r) => {
                    self.outcome = Outcome::Ready(r);
                    Ok(())
                }
                None => Err(wait_timed_out(timeout)),
            }
        }

        call_accessors!();
    };
}

/// A unary-unary call running in the background (what `future()` returns): wait for it
/// with [`result`](Self::result); the Call accessors work meanwhile.
///
/// # Drop behavior
/// Dropping an unfinished call cancels it (the server sees the RPC cancelled).
#[must_use = "a call is cancelled when dropped; wait for it with result()"]
pub struct UnaryCall<Resp> {
    call: rpc_aio::UnaryCall<Resp>,
    outcome: Outcome<Resp>,
    runtime: RuntimeHandle,
}

impl<Resp> fmt::Debug for UnaryCall<Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnaryCall")
            .field("done", &!matches!(self.outcome, Outcome::Running))
            .finish()
    }
}

impl<Resp: Send + 'static> UnaryCall<Resp> {
    /// Wraps the aio call and starts it in the background (a future runs while nobody waits).
    pub(crate) fn new(call: rpc_aio::UnaryCall<Resp>, runtime: &RuntimeHandle) -> Self {
        call.start();
        UnaryCall {
            call,
            outcome: Outcome::Running,
            runtime: runtime.clone(),
        }
    }
}

impl<Resp: Send + 'static> UnaryCall<Resp> {
    future_methods!();
}

/// A stream-unary call running in the background (what `future()` returns); its requests
/// are pumped from the runtime. Wait for it with [`result`](Self::result).
///
/// # Drop behavior
/// Dropping an unfinished call cancels it (the server sees the RPC cancelled) and stops
/// pulling requests.
#[must_use = "a call is cancelled when dropped; wait for it with result()"]
pub struct StreamUnaryCall<Req, Resp> {
    call: rpc_aio::StreamUnaryCall<Req, Resp>,
    outcome: Outcome<Resp>,
    runtime: RuntimeHandle,
}

impl<Req, Resp> fmt::Debug for StreamUnaryCall<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamUnaryCall").field("done", &self.call.done()).finish()
    }
}

impl<Req, Resp> StreamUnaryCall<Req, Resp> {
    pub(crate) fn new(call: rpc_aio::StreamUnaryCall<Req, Resp>, runtime: &RuntimeHandle) -> Self {
        StreamUnaryCall {
            call,
            outcome: Outcome::Running,
            runtime: runtime.clone(),
        }
    }
}

impl<Req, Resp> StreamUnaryCall<Req, Resp> {
    future_methods!();
}
