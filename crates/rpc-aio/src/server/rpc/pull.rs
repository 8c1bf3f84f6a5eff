//! A blocking handler's response iterator, pulled on the worker pool only while the
//! response stream can take more: a batch of responses is pulled (about [`AHEAD_BYTES`]) and the
//! worker is free again; when the connection has sent half of them, the next batch is
//! pulled by whichever worker is free. A client that reads slowly, or not at all, holds a
//! few buffered responses and no thread.
//!
//! Once the connection has set up the response's encoding ([`Puller::encode_here`]), the
//! worker also encodes what it pulls: a message is made, encoded and freed on one thread,
//! and the connection gets the encoded responses in a few buffers. (Made on a worker and
//! freed by the connection, each message took the allocator's slow path on both threads:
//! about a tenth of the blocking server's CPU in 1 KiB server streaming.)

use super::context::panicked;
use crate::deadline;
use crate::handoff::capacity_for;
use crate::server::pool::WorkerPool;
use crate::wire::encoding::{Encoding, encode_away};
use bytes::BytesMut;
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

/// What a worker pulled: a response for the connection to encode (or the error that ends
/// the responses), or responses it encoded itself (frame prefixes included).
pub(crate) enum Pulled<Resp> {
    Message(Produced<Resp>),
    /// Encoded responses, and how many.
    Encoded(BytesMut, usize),
}

impl<Resp> Pulled<Resp> {
    /// How many responses this holds.
    fn count(&self) -> usize {
        match self {
            Pulled::Encoded(_, n) => *n,
            Pulled::Message(_) => 1,
        }
    }
}

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
    ready: VecDeque<Pulled<Resp>>,
    /// How many responses `ready` holds.
    count: usize,
    /// How many the connection had taken and not sent, when it last looked: a worker
    /// pulls until the two together make a batch.
    held: usize,
    /// The iterator, while no worker is pulling it (`None` while one is, or once it ended).
    iter: Option<ResponseIterator<Resp>>,
    /// The encoding, once the connection set it up, while no worker is pulling.
    encoding: Option<Box<Encoding<Resp>>>,
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
    /// The size of the last response encoded (see `wire::encoding::encode_away`).
    size: AtomicUsize,
    /// Whether the workers may encode the responses (see [`Puller::new`]).
    worker_encodes: bool,
}

impl<Resp> Shared<Resp> {
    fn lock(&self) -> MutexGuard<'_, State<Resp>> {
        // User code (the iterator) never runs under this lock.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn record_size(&self, bytes: usize) {
        if self.size.swap(bytes, Ordering::Relaxed) == bytes {
            return;
        }
        let ahead = capacity_for(AHEAD_BYTES, bytes, AHEAD_MIN, AHEAD_MAX);
        self.ahead.store(ahead, Ordering::Relaxed);
    }
}

/// The connection's side: the responses in order, and the pulling scheduled as they go.
pub(crate) struct Puller<Resp> {
    shared: Arc<Shared<Resp>>,
    /// Responses taken from the workers in one go, not sent yet.
    taken: VecDeque<Pulled<Resp>>,
    /// How many responses `taken` holds.
    held: usize,
    /// Whether the next batch was asked for since the last take.
    checked: bool,
}

impl<Resp: Send + 'static> Puller<Resp> {
    /// The puller of `iter`, and its first batch, to run on this thread (the handler's
    /// worker, which has just returned the iterator) once the puller is handed to the
    /// connection: the first batch costs no hand-off. (Pulling may block, e.g. on the next
    /// request of a bidi call whose client waits for the response headers first.)
    ///
    /// `worker_encodes`: whether the workers encode the responses they pull, once the
    /// connection offers the encoding. Yes for a unary-request method, whose handler makes
    /// its responses on the worker; not for a bidi handler, whose responses are often its
    /// requests passed on, made (and best freed) on the connection's thread: encoded on the
    /// worker, the blocking server's 1 KiB echo fell from 0.83-0.85 of tonic to 0.79-0.81
    /// in the full run of 2026-12-04.
    pub(crate) fn new(
        iter: ResponseIterator<Resp>,
        pool: WorkerPool,
        ctx: ServicerContext,
        control: ContextControl,
        deadline: Option<Instant>,
        worker_encodes: bool,
    ) -> (Puller<Resp>, FirstBatch<Resp>) {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                ready: VecDeque::with_capacity(AHEAD_START),
                count: 0,
                held: 0,
                iter: None,
                encoding: None,
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
            size: AtomicUsize::new(0),
            worker_encodes,
        });
        (
            Puller {
                shared: shared.clone(),
                taken: VecDeque::new(),
                held: 0,
                checked: false,
            },
            FirstBatch { shared, iter },
        )
    }

    /// Has the workers encode what they pull from now on (the connection knows the
    /// response's encoding once it sends the headers).
    /// Whether the workers encode the responses (see [`Puller::new`]): then the
    /// connection offers them the encoding with [`encode_here`](Self::encode_here).
    pub(crate) fn wants_encoding(&self) -> bool {
        self.shared.worker_encodes
    }

    pub(crate) fn encode_here(&self, encoding: Encoding<Resp>) {
        let mut st = self.shared.lock();
        if !st.ended && !st.closed {
            st.encoding = Some(Box::new(encoding));
        }
    }

    /// The next response (or encoded responses): `Pending` while the next batch is being
    /// pulled.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Pulled<Resp>>> {
        if let Some(item) = self.taken.pop_front() {
            self.held -= item.count();
            // Half way through what the workers pulled: time for the next batch.
            if !self.checked && self.held <= self.shared.ahead.load(Ordering::Relaxed) / 2 {
                self.checked = true;
                let st = self.shared.lock();
                self.pull_more(st);
            }
            return Poll::Ready(Some(item));
        }
        let mut st = self.shared.lock();
        if st.ready.is_empty() {
            st.held = 0;
            if st.ended {
                return Poll::Ready(None);
            }
            st.waker = Some(cx.waker().clone());
            self.held = 0;
            self.pull_more(st);
            // A batch may have landed while the lock was released.
            st = self.shared.lock();
            if st.ready.is_empty() {
                return if st.ended { Poll::Ready(None) } else { Poll::Pending };
            }
        }
        // Everything pulled so far, taken under one lock.
        std::mem::swap(&mut st.ready, &mut self.taken);
        self.held = std::mem::take(&mut st.count);
        st.held = self.held;
        self.checked = false;
        let item = self.taken.pop_front();
        if let Some(item) = &item {
            self.held -= item.count();
        }
        if self.held <= self.shared.ahead.load(Ordering::Relaxed) / 2 {
            self.checked = true;
            self.pull_more(st);
        }
        Poll::Ready(item)
    }

    /// Schedules the next batch unless one is being pulled or the responses ended (the
    /// connection holds `held` of them).
    fn pull_more(&self, mut st: MutexGuard<'_, State<Resp>>) {
        st.held = self.held;
        if st.pulling || st.ended {
            return;
        }
        let Some(iter) = st.iter.take() else { return };
        st.pulling = true;
        let encoding = st.encoding.take();
        drop(st);
        self.schedule(iter, encoding);
    }

    /// Tells the puller how large an encoded response was, so that it pulls about
    /// [`AHEAD_BYTES`] ahead.
    pub(crate) fn record_size(&self, bytes: usize) {
        self.shared.record_size(bytes);
    }

    /// Pulls the next batch on the pool (before new RPCs: this one was admitted).
    fn schedule(&self, iter: ResponseIterator<Resp>, encoding: Option<Box<Encoding<Resp>>>) {
        let shared = self.shared.clone();
        // The RPC's span: current while its response body is polled.
        let span = tracing::Span::current();
        let job = move || {
            let _entered = span.enter();
            let deadline = shared.deadline;
            deadline::scope_blocking(deadline, || pull(&shared, iter, encoding));
        };
        if self.shared.pool.continue_rpc(job).is_err() {
            let mut st = self.shared.lock();
            st.pulling = false;
            st.ended = true;
            st.push(Pulled::Message((
                Err(RpcError::unavailable("the server is stopping: the responses were cut short")),
                false,
            )));
        }
    }
}

/// The first batch of a [`Puller`], pulled where it is run.
pub(crate) struct FirstBatch<Resp> {
    shared: Arc<Shared<Resp>>,
    iter: ResponseIterator<Resp>,
}

impl<Resp: Send + 'static> FirstBatch<Resp> {
    pub(crate) fn run(self) {
        pull(&self.shared, self.iter, None);
    }
}

impl<Resp> Drop for Puller<Resp> {
    fn drop(&mut self) {
        // An iterator at rest is dropped here; one being pulled, by its worker.
        let iter = {
            let mut st = self.shared.lock();
            st.closed = true;
            st.ready.clear();
            st.count = 0;
            st.encoding = None;
            st.iter.take()
        };
        drop(iter);
    }
}

impl<Resp> State<Resp> {
    /// Queues `item`; encoded responses that lie side by side in one buffer go as one.
    #[inline]
    fn push(&mut self, item: Pulled<Resp>) {
        self.count += 1;
        if let Pulled::Encoded(next, _) = &item
            && let Some(Pulled::Encoded(last, n)) = self.ready.back_mut()
            && last.as_ptr().wrapping_add(last.len()) == next.as_ptr()
            && let Pulled::Encoded(next, _) = item
        {
            *n += 1;
            return last.unsplit(next);
        }
        self.ready.push_back(item);
    }
}

/// Pulls responses until enough are ready (see [`AHEAD_BYTES`]), the iterator ends, it
/// fails, or the RPC is over; then puts the iterator back (or drops it) and wakes the
/// connection. With an `encoding`, the responses are encoded here.
fn pull<Resp: Send + 'static>(shared: &Shared<Resp>, mut iter: ResponseIterator<Resp>, mut encoding: Option<Box<Encoding<Resp>>>) {
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
            match (item, encoding.as_mut()) {
                (Ok(message), Some(e)) if encode_away(shared.size.load(Ordering::Relaxed)) => match e.encode(message, plain) {
                    Ok(encoded) => {
                        shared.record_size(encoded.len());
                        Pulled::Encoded(encoded, 1)
                    }
                    Err(error) => Pulled::Message((Err(error), false)),
                },
                (item, _) => Pulled::Message((item, plain)),
            }
        });
        let mut st = shared.lock();
        if st.closed {
            st.pulling = false;
            drop(st);
            return drop(iter);
        }
        let more = match next {
            Some(item) => {
                let failed = matches!(item, Pulled::Message((Err(_), _)));
                st.push(item);
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
        if st.count + st.held >= shared.ahead.load(Ordering::Relaxed) {
            st.pulling = false;
            st.iter = Some(iter);
            // Set up meanwhile by the connection, or carried by this worker.
            if st.encoding.is_none() {
                st.encoding = encoding.take();
            }
            drop(st);
            return wake(waker);
        }
        if encoding.is_none() {
            encoding = st.encoding.take();
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
