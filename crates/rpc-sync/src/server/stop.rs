//! `StopHandle`: what `Server::stop` returns, to wait on the end of a stop from blocking code.

use crate::bridge;
use crate::runtime::RuntimeHandle;
use std::time::Duration;

/// A handle on a stop in progress. The stop runs whether or not anyone waits on it.
#[derive(Clone, Debug)]
pub struct StopHandle {
    inner: rpc_aio::StopHandle,
    runtime: RuntimeHandle,
}

impl StopHandle {
    pub(crate) fn new(inner: rpc_aio::StopHandle, runtime: RuntimeHandle) -> StopHandle {
        StopHandle { inner, runtime }
    }

    /// Blocks until the server has terminated (`true`) or `timeout` passed (`false`).
    /// From inside an async runtime it cannot block: it returns whether the stop is done.
    pub fn wait(&self, timeout: Option<Duration>) -> bool {
        bridge::wait(self.runtime.handle(), self.inner.wait(timeout)).unwrap_or_else(|_| self.inner.is_done())
    }

    /// Whether the server has terminated.
    pub fn is_done(&self) -> bool {
        self.inner.is_done()
    }
}
