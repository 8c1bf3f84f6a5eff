//! Stopping a request body hyper is still sending. hyper's HTTP/2 client sends a streamed
//! request body from a task of its own (the "pipe"), and resets the stream only when that
//! body ends or fails, or the peer resets it. A call cancelled (or dropped) while the
//! stream's send window is full would leave its stream open: hyper waits for window
//! space before it polls the body again, so the body never gets to fail.
//!
//! So the channel's connections spawn hyper's tasks through [`PipeExecutor`], which gives
//! each task a [`PipeStop`]; a request body polled inside such a task takes that handle
//! ([`current`]), and the call stops the task when it ends. Dropping the pipe drops hyper's
//! send half of the stream, and the stream is reset (CANCEL).

use futures::task::AtomicWaker;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

/// Stops one spawned task of hyper's.
#[derive(Default)]
pub(crate) struct PipeStop {
    stopped: AtomicBool,
    waker: AtomicWaker,
}

impl PipeStop {
    /// Stops the task: it drops what it was running when next polled (woken now).
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.waker.wake();
    }
}

thread_local! {
    /// The stop handle of the hyper task being polled on this thread.
    static CURRENT: RefCell<Option<Arc<PipeStop>>> = const { RefCell::new(None) };
}

/// The stop handle of the hyper task polling the caller (a request body), if any.
pub(crate) fn current() -> Option<Arc<PipeStop>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// hyper's executor for a channel's connections: tokio's, with a [`PipeStop`] per task.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PipeExecutor;

impl<F> hyper::rt::Executor<F> for PipeExecutor
where
    F: Future<Output = ()> + Send + 'static,
{
    fn execute(&self, fut: F) {
        tokio::spawn(Stoppable {
            fut: Some(Box::pin(fut)),
            stop: Arc::default(),
        });
    }
}

struct Stoppable<F> {
    fut: Option<Pin<Box<F>>>,
    stop: Arc<PipeStop>,
}

impl<F: Future<Output = ()>> Future for Stoppable<F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        this.stop.waker.register(cx.waker());
        if this.stop.stopped.load(Ordering::Acquire) {
            this.fut = None;
            return Poll::Ready(());
        }
        let Some(fut) = this.fut.as_mut() else {
            return Poll::Ready(());
        };
        let previous = CURRENT.with(|c| c.replace(Some(this.stop.clone())));
        // Restored on unwind too.
        struct Restore(Option<Arc<PipeStop>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                CURRENT.with(|c| *c.borrow_mut() = self.0.take());
            }
        }
        let _restore = Restore(previous);
        fut.as_mut().poll(cx)
    }
}
