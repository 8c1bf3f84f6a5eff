//! [`RequestSender`]: the writing half of a request-streaming call, split off so one thread
//! writes while another reads the call's responses.

use crate::bridge;
use crate::runtime::RuntimeHandle;
use rpc_core::{RpcError, WriteOptions};
use std::fmt;

/// The writing half of a request-streaming call made with `WriteRequests` (see
/// `Call::split`); each method blocks until the connection has taken the request.
///
/// # Drop behavior
/// Dropping it without [`done_writing`](Self::done_writing) cancels the call (the server
/// sees the RPC cancelled, not a finished request stream).
pub struct RequestSender<Req> {
    inner: rpc_aio::RequestSender<Req>,
    runtime: RuntimeHandle,
}

impl<Req> fmt::Debug for RequestSender<Req> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl<Req: Send + 'static> RequestSender<Req> {
    pub(crate) fn new(inner: rpc_aio::RequestSender<Req>, runtime: RuntimeHandle) -> RequestSender<Req> {
        RequestSender { inner, runtime }
    }

    /// Sends one request.
    ///
    /// # Errors
    /// The call's status once it has ended (the status its reader receives; the write waits
    /// for it, or for the deadline); FAILED_PRECONDITION after `done_writing`, or on a
    /// thread inside an async runtime.
    pub fn write(&mut self, request: Req) -> Result<(), RpcError> {
        bridge::wait_call(self.inner.write(request))?
    }

    /// Sends one request with per-message options.
    ///
    /// # Errors
    /// As [`write`](Self::write).
    pub fn write_with(&mut self, request: Req, options: WriteOptions) -> Result<(), RpcError> {
        bridge::wait_call(self.inner.write_with(request, options))?
    }

    /// Says no more requests will be written.
    ///
    /// # Errors
    /// FAILED_PRECONDITION on a call with a request source, or inside an async runtime.
    pub fn done_writing(&mut self) -> Result<(), RpcError> {
        bridge::wait(self.runtime.handle(), self.inner.done_writing())?
    }
}
