//! The two waits of the test suites: [`eventually`] (poll a condition until it holds) and
//! [`bounded`] (run a closure or a future with a hang guard). Both fail the test with a
//! message that says what was awaited instead of hanging, after [`LIMIT`]; neither is a
//! timing assertion (the limit is generous, and nothing depends on it passing).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// How long a wait may take before the test fails as hung: generous, for noisy machines.
pub const LIMIT: Duration = Duration::from_secs(30);

/// How often [`eventually`] looks at its condition again.
const POLL: Duration = Duration::from_millis(5);

/// Waits until `cond` holds, looking every few milliseconds; the test fails, naming `what`,
/// if it still does not after [`LIMIT`].
///
/// Blocking code calls [`wait`](Eventually::wait); async code awaits it (it then sleeps on
/// the tokio timer between looks, so the tasks it waits for keep running, even on a
/// current-thread runtime):
///
/// ```no_run
/// # use rpc_testkit::eventually;
/// # async fn demo(server: rpc_aio::Server) {
/// eventually("no RPC in flight", || server.active_rpcs() == 0).await;
/// # }
/// # fn demo_sync(server: rpc_sync::Server) {
/// eventually("no RPC in flight", || server.active_rpcs() == 0).wait();
/// # }
/// ```
pub fn eventually<C: FnMut() -> bool>(what: impl Into<String>, cond: C) -> Eventually<C> {
    Eventually { what: what.into(), cond }
}

/// A wait for a condition, made by [`eventually`]: `.wait()` it or `.await` it.
#[must_use = "an eventually waits only when awaited (async code) or told to .wait() (blocking code)"]
pub struct Eventually<C> {
    what: String,
    cond: C,
}

impl<C> fmt::Debug for Eventually<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Eventually").field("what", &self.what).finish()
    }
}

fn gave_up(what: &str) -> ! {
    panic!("gave up after {LIMIT:?} waiting for {what}")
}

impl<C: FnMut() -> bool> Eventually<C> {
    /// Blocks this thread until the condition holds (for blocking code: it sleeps between
    /// looks, so do not call it on an async runtime's thread; await it there).
    pub fn wait(mut self) {
        let end = Instant::now() + LIMIT;
        while !(self.cond)() {
            if Instant::now() >= end {
                gave_up(&self.what);
            }
            std::thread::sleep(POLL);
        }
    }
}

impl<C: FnMut() -> bool> IntoFuture for Eventually<C> {
    type Output = ();
    type IntoFuture = Polling<C>;

    fn into_future(self) -> Polling<C> {
        Polling {
            what: self.what,
            cond: self.cond,
            end: Instant::now() + LIMIT,
            pause: None,
        }
    }
}

/// An [`Eventually`] being awaited.
#[must_use = "futures do nothing unless polled"]
pub struct Polling<C> {
    what: String,
    cond: C,
    end: Instant,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

// Nothing is pinned in place: the condition is only ever called through `&mut`.
impl<C> Unpin for Polling<C> {}

impl<C> fmt::Debug for Polling<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Polling").field("what", &self.what).finish()
    }
}

impl<C: FnMut() -> bool> Future for Polling<C> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        loop {
            if let Some(pause) = this.pause.as_mut() {
                std::task::ready!(pause.as_mut().poll(cx));
                this.pause = None;
            }
            if (this.cond)() {
                return Poll::Ready(());
            }
            if Instant::now() >= this.end {
                gave_up(&this.what);
            }
            this.pause = Some(Box::pin(tokio::time::sleep(POLL)));
        }
    }
}

/// Runs `work` with a hang guard: the test fails (saying it hung) instead of waiting for
/// ever if `work` is not done after [`LIMIT`].
///
/// `work` is either a future, and `bounded(f)` is a future to await (on a tokio runtime), or
/// a closure, run on a thread of its own while this one waits for it (a panic in it is the
/// test's panic):
///
/// ```no_run
/// # use rpc_testkit::bounded;
/// # async fn demo(call: rpc_aio::UnaryCall<rpc_testkit::Msg>) -> Result<(), rpc_aio::RpcError> {
/// let reply = bounded(call).await?;
/// # Ok(()) }
/// # fn demo_sync(handle: std::thread::JoinHandle<u32>) {
/// let n = bounded(move || handle.join().unwrap());
/// # }
/// ```
pub fn bounded<M, W: HangGuard<M>>(work: W) -> W::Output {
    work.guarded()
}

/// What [`bounded`] accepts: closures ([`Closure`]) and futures ([`Awaited`]). The marker
/// type parameter only tells the two impls apart; it is always inferred.
pub trait HangGuard<M> {
    /// What `bounded` returns: the closure's value, or a future of the future's.
    type Output;
    /// Runs the work under the guard.
    fn guarded(self) -> Self::Output;
}

/// [`HangGuard`]'s marker for closures.
#[derive(Debug)]
pub enum Closure {}

/// [`HangGuard`]'s marker for futures.
#[derive(Debug)]
pub enum Awaited {}

impl<F, T> HangGuard<Closure> for F
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    type Output = T;

    fn guarded(self) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        // The work runs in the caller's span, as it would on the caller's thread.
        let span = tracing::Span::current();
        let worker = std::thread::Builder::new()
            .name("testkit-bounded".to_owned())
            .spawn(move || {
                let _entered = span.enter();
                let _ = tx.send(self());
            })
            .expect("a thread for the bounded work");
        match rx.recv_timeout(LIMIT) {
            Ok(value) => value,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("the work hung: not done after {LIMIT:?}"),
            // The closure panicked: that panic is the test's.
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
                Err(panic) => std::panic::resume_unwind(panic),
                Ok(()) => unreachable!("the work ended without sending its value"),
            },
        }
    }
}

impl<F: Future> HangGuard<Awaited> for F {
    type Output = Guarded<F>;

    fn guarded(self) -> Guarded<F> {
        Guarded {
            work: Box::pin(self),
            limit: None,
        }
    }
}

/// A future run by [`bounded`]: its output, or a test failure after [`LIMIT`] (counted
/// from its first poll, so it can be made outside a runtime and awaited inside one).
#[must_use = "futures do nothing unless polled"]
pub struct Guarded<F> {
    work: Pin<Box<F>>,
    limit: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<F> fmt::Debug for Guarded<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Guarded(..)")
    }
}

impl<F: Future> Future for Guarded<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        if let Poll::Ready(output) = this.work.as_mut().poll(cx) {
            return Poll::Ready(output);
        }
        let limit = this.limit.get_or_insert_with(|| Box::pin(tokio::time::sleep(LIMIT)));
        match limit.as_mut().poll(cx) {
            Poll::Ready(()) => panic!("the future hung: not done after {LIMIT:?}"),
            Poll::Pending => Poll::Pending,
        }
    }
}
