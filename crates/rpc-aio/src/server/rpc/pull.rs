//! A blocking handler's response iterator, pulled on the worker pool only while the
//! response stream can take more: a batch of responses is pulled (about [`AHEAD_BYTES`]) and the
//! worker is free again; when the connection has sent half of them, the next batch is
//! pulled by whichever worker is free. A client that reads slowly, or not at all, holds a
//! few buffered responses and no thread.

use super::context::panicked;
use crate::deadline;
use crate::handoff::capacity_for;
use crate::server::pool::WorkerPool;
use rpc_core::{ContextControl, ResponseIterator, RpcError, ServicerContext};
use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// A response message from a blocking handler's worker, with whether it goes uncompressed
/// (the worker runs ahead of the encoder, so the handler's choice travels with it).
pub(crate) type Produced<Resp> = (Result<Resp, RpcError>, bool);

/// Responses pulled ahead of the connection: about [`AHEAD_BYTES`] of encoded responses
/// (measured as the connection encodes them), and between these many (before the first
/// is measured, [`AHEAD_START`]). The next batch is pulled once half are left, so small
/// responses cost one hand-off to the pool per many. Large ones go two at a time: with
/// sixteen 64 KiB responses (1 MiB) pulled per batch, the blocking server streamed 64 KiB
/// messages at 0.53 of tonic in the full run of 2026-12-01; two at a time, 1.08-1.17.
const AHEAD_MIN: usize = 2;
const AHEAD_START: usize = 16;
const AHEAD_MAX: usize = 2048;
/// How much a stream holds pulled ahead of the connection: twice a stream's default
/// HTTP/2 window, so a client that stops reading holds about three windows. (One window,
/// 64 KiB, made a hand-off to the pool per 32 responses of 1 KiB: 62,500 context switches
/// per million; twice as much halves them.)
const AHEAD_BYTES: usize = 128 * 1024;

struct State<Resp> {
    ready: VecDeque<Produced<Resp>>,
    /// The iterator, while no worker is pulling it (`None` while one is, or once it ended).
    iter: Option<ResponseIterator<Resp>>,
    pulling: bool,
    /// The iterator ended (or failed): after `ready`, the responses end.
    ended: bool,
    /// The connection is gone: a pulling worker drops the iterator and stops.
    closed: bool,
    waker: Option<Waker>,
}

/// What a pulling worker needs besides the state.
struct Shared<Resp> {
    state: Mutex<State<Resp>>,
    pool: WorkerPool,
    ctx: ServicerContext,
    control: ContextControl,
    deadline: Option<Instant>,
    /// How many responses to pull ahead (see [`AHEAD_BYTES`]).
    ahead: AtomicUsize,
}

impl<Resp> Shared<Resp> {
    fn lock(&self) -> MutexGuard<'_, State<Resp>> {
        // User code (the iterator) never runs under this lock.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The connection's side: the responses in order, and the pulling scheduled as they go.
pub(crate) struct Puller<Resp> {
    shared: Arc<Shared<Resp>>,
}

impl<Resp: Send + 'static> Puller<Resp> {
    /// The puller of `iter`, and its first batch, to run on this thread (the handler's
    /// worker, which has just returned the iterator) once the puller is handed to the
    /// connection: the first batch costs no hand-off. (Pulling may block, e.g. on the next
    /// request of a bidi call whose client waits for the response headers first.)
    pub(crate) fn new(
        iter: ResponseIterator<Resp>,
        pool: WorkerPool,
        ctx: ServicerContext,
        control: ContextControl,
        deadline: Option<Instant>,
    ) -> (Puller<Resp>, FirstBatch<Resp>) {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                ready: VecDeque::with_capacity(AHEAD_START),
                iter: None,
                pulling: true,
                ended: false,
                closed: false,
                waker: None,
            }),
            pool,
            ctx,
            control,
            deadline,
            ahead: AtomicUsize::new(AHEAD_START),
        });
        (Puller { shared: shared.clone() }, FirstBatch { shared, iter })
    }

    /// The next response: `Pending` while the next batch is being pulled.
    pub(crate) fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Option<Produced<Resp>>> {
        let mut st = self.shared.lock();
        let item = st.ready.pop_front();
        if !st.pulling
            && !st.ended
            && st.ready.len() <= self.shared.ahead.load(Ordering::Relaxed) / 2
            && let Some(iter) = st.iter.take()
        {
            st.pulling = true;
            drop(st);
            self.schedule(iter);
            st = self.shared.lock();
        }
        match item {
            Some(item) => Poll::Ready(Some(item)),
            None if st.ended => Poll::Ready(None),
            None => {
                st.waker = Some(cx.waker().clone());
                // A batch may have landed while the lock was released.
                match st.ready.pop_front() {
                    Some(item) => Poll::Ready(Some(item)),
                    None if st.ended => Poll::Ready(None),
                    None => Poll::Pending,
                }
            }
        }
    }

    /// Tells the puller how large an encoded response was, so that it pulls about
    /// [`AHEAD_BYTES`] ahead.
    pub(crate) fn record_size(&self, bytes: usize) {
        let ahead = capacity_for(AHEAD_BYTES, bytes, AHEAD_MIN, AHEAD_MAX);
        self.shared.ahead.store(ahead, Ordering::Relaxed);
    }

    /// Pulls the next batch on the pool (before new RPCs: this one was admitted).
    fn schedule(&self, iter: ResponseIterator<Resp>) {
        let shared = self.shared.clone();
        // The RPC's span: current while its response body is polled.
        let span = tracing::Span::current();
        let job = move || {
            let _entered = span.enter();
            let deadline = shared.deadline;
            deadline::scope_blocking(deadline, || pull(&shared, iter));
        };
        if self.shared.pool.continue_rpc(job).is_err() {
            let mut st = self.shared.lock();
            st.pulling = false;
            st.ended = true;
            st.ready.push_back((
                Err(RpcError::unavailable("the server is stopping: the responses were cut short")),
                false,
            ));
        }
    }
}

/// The first batch of a [`Puller`], pulled where it is run.
pub(crate) struct FirstBatch<Resp> {
    shared: Arc<Shared<Resp>>,
    iter: ResponseIterator<Resp>,
}

impl<Resp> FirstBatch<Resp> {
    pub(crate) fn run(self) {
        pull(&self.shared, self.iter);
    }
}

impl<Resp> Drop for Puller<Resp> {
    fn drop(&mut self) {
        // An iterator at rest is dropped here; one being pulled, by its worker.
        let iter = {
            let mut st = self.shared.lock();
            st.closed = true;
            st.ready.clear();
            st.iter.take()
        };
        drop(iter);
    }
}

/// Pulls responses until enough are ready (see [`AHEAD_BYTES`]), the iterator ends, it fails, or the RPC is
/// over; then puts the iterator back (or drops it) and wakes the connection.
fn pull<Resp>(shared: &Shared<Resp>, mut iter: ResponseIterator<Resp>) {
    loop {
        let next = if shared.ctx.cancelled() {
            None
        } else {
            std::panic::catch_unwind(AssertUnwindSafe(|| iter.next())).unwrap_or_else(|p| Some(Err(panicked(p.as_ref()))))
        };
        // Whether the handler asked for this response to go uncompressed is read as it is
        // produced (the worker runs ahead of the encoder).
        let next = next.map(|item| {
            let plain = item.is_ok() && shared.control.take_disable_next_compression();
            (item, plain)
        });
        let mut st = shared.lock();
        if st.closed {
            st.pulling = false;
            drop(st);
            return drop(iter);
        }
        let more = match next {
            Some(item) => {
                let failed = item.0.is_err();
                st.ready.push_back(item);
                !failed
            }
            None => false,
        };
        let waker = st.waker.take();
        if !more {
            st.ended = true;
            st.pulling = false;
            drop(st);
            wake(waker);
            return drop(iter);
        }
        if st.ready.len() >= shared.ahead.load(Ordering::Relaxed) {
            st.pulling = false;
            st.iter = Some(iter);
            drop(st);
            return wake(waker);
        }
        drop(st);
        wake(waker);
    }
}

fn wake(waker: Option<Waker>) {
    if let Some(w) = waker {
        w.wake();
    }
}
