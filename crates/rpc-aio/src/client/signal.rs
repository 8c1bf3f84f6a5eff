//! A flag that, once raised, wakes the one task that watches it ([`Signal`]): how a call
//! stops the task sending its request stream, and how a channel cuts or lets go of a
//! connection.

use futures::task::AtomicWaker;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Context;

/// Raised once, never lowered; the watching task is woken when it is.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    raised: AtomicBool,
    waker: AtomicWaker,
}

impl Signal {
    /// Raises the flag and wakes the watcher.
    pub(crate) fn raise(&self) {
        self.raised.store(true, Ordering::Release);
        self.waker.wake();
    }

    pub(crate) fn is_raised(&self) -> bool {
        self.raised.load(Ordering::Acquire)
    }

    /// Whether the flag is raised; if not, the task of `cx` is woken when it is.
    pub(crate) fn watch(&self, cx: &Context<'_>) -> bool {
        self.waker.register(cx.waker());
        self.is_raised()
    }
}
