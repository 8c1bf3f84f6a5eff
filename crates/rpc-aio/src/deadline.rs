//! Deadline inheritance: the deadline of the RPC a handler is serving, which calls made
//! from inside that handler (on its task or its worker thread) inherit.

use std::cell::Cell;
use std::future::Future;
use std::time::Instant;

tokio::task_local! {
    static TASK_DEADLINE: Option<Instant>;
}

thread_local! {
    static THREAD_DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The deadline of the RPC being served on this task or thread, if any.
pub(crate) fn inherited_deadline() -> Option<Instant> {
    TASK_DEADLINE
        .try_with(|d| *d)
        .ok()
        .flatten()
        .or_else(|| THREAD_DEADLINE.with(Cell::get))
}

/// Runs an async handler future with `deadline` as the inherited deadline.
pub(crate) fn scope_async<F: Future>(deadline: Option<Instant>, fut: F) -> impl Future<Output = F::Output> {
    TASK_DEADLINE.scope(deadline, fut)
}

/// Runs a blocking handler with `deadline` as the inherited deadline of this thread.
pub(crate) fn scope_blocking<R>(deadline: Option<Instant>, f: impl FnOnce() -> R) -> R {
    struct Reset(Option<Instant>);
    impl Drop for Reset {
        fn drop(&mut self) {
            THREAD_DEADLINE.with(|c| c.set(self.0));
        }
    }
    let _reset = Reset(THREAD_DEADLINE.with(|c| c.replace(deadline)));
    f()
}
