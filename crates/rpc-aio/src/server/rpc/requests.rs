//! The requests of an RPC, read from hyper's request body: frames (refused over the
//! receive limit before they are buffered), decompressed, decoded with the method's codec,
//! each with whether it came compressed. Handed to async handlers as a `RequestStream` and
//! to blocking ones as a `RequestIterator` (fed by a task), each telling the context the
//! compressed flag of the message it hands over.

use super::context::{MessageHook, Rpc};
use crate::handoff::{Handoff, Producer, Taken, capacity_for};
use crate::server::pool::park_while;
use crate::wire::count::PayloadCount;
use crate::wire::frame::{FrameDecoder, PREFIX_LEN};
use futures::{Stream, StreamExt};
use http_body::Body;
use hyper::body::Incoming;
use rpc_core::codec::Decoder;
use rpc_core::{ContextControl, RequestIterator, RequestStream, RpcError};
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

/// Requests read ahead for a blocking handler (decoded, waiting for its worker): at first,
/// then about [`BLOCKING_AHEAD_BYTES`] of them once their size is known, between the bounds.
/// The worker is woken per batch and the pump per half queue, so small requests cost a
/// hand-off per many: with 32 at most, a bidi call of empty messages cost the blocking
/// server two context switches per 32 requests. The worker takes what is queued in one go
/// (one lock per batch), so a call holds up to twice this many.
const BLOCKING_REQUEST_BUFFER: usize = 32;
const BLOCKING_REQUEST_MIN: usize = 4;
const BLOCKING_REQUEST_MAX: usize = 1024;
const BLOCKING_AHEAD_BYTES: usize = 64 * 1024;

/// The decoded requests of one RPC, with their compressed flags.
pub(crate) struct Requests<Req, C> {
    body: Incoming,
    decoder: FrameDecoder,
    codec: Arc<C>,
    done: bool,
    /// Interceptors' hooks on each request (usually none).
    hooks: Vec<MessageHook>,
    /// The request message bytes, for an observed RPC.
    count: Option<PayloadCount>,
    /// The size of the last request read, with its frame prefix.
    last_size: usize,
    _req: std::marker::PhantomData<fn() -> Req>,
}

impl<Req, C: Decoder<Req>> Requests<Req, C> {
    pub(crate) fn new(body: Incoming, rpc: &Rpc, codec: Arc<C>) -> Requests<Req, C> {
        Requests {
            body,
            decoder: FrameDecoder::new(rpc.env.options.max_receive_message_length, rpc.wire.request_encoding),
            codec,
            done: false,
            hooks: rpc.hooks.request.clone(),
            count: rpc.received.clone().map(PayloadCount::new),
            last_size: 0,
            _req: std::marker::PhantomData,
        }
    }
}

// Nothing is pinned in place.
impl<Req, C> Unpin for Requests<Req, C> {}

impl<Req: Send + 'static, C: Decoder<Req>> Stream for Requests<Req, C> {
    type Item = Result<(Req, bool), RpcError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        loop {
            match this.decoder.next() {
                Ok(Some(m)) => {
                    let compressed = m.compressed;
                    this.last_size = PREFIX_LEN + m.data.len();
                    return Poll::Ready(Some(match this.codec.decode(m.data) {
                        Ok(mut req) => {
                            for hook in &this.hooks {
                                hook(&mut req);
                            }
                            Ok((req, compressed))
                        }
                        Err(e) => {
                            this.done = true;
                            Err(RpcError::internal(format!("could not decode the request: {}", e.details())))
                        }
                    }));
                }
                Ok(None) => {}
                Err(e) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
            }
            match Pin::new(&mut this.body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        if let Some(c) = &mut this.count {
                            c.feed(&data);
                        }
                        this.decoder.push(data);
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(RpcError::cancelled(format!("the request stream failed: {e}")))));
                }
                Poll::Ready(None) => {
                    this.done = true;
                    if this.decoder.has_partial() {
                        return Poll::Ready(Some(Err(RpcError::internal("the request ended in the middle of a message"))));
                    }
                    return Poll::Ready(None);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// The one request of a unary-request method.
pub(crate) async fn first<Req: Send + 'static, C: Decoder<Req>>(requests: &mut Requests<Req, C>) -> Result<(Req, bool), RpcError> {
    match requests.next().await {
        Some(r) => r,
        None => Err(RpcError::internal("the client sent no request message")),
    }
}

/// The requests as an async handler's `RequestStream`.
pub(crate) fn stream<Req, C>(requests: Requests<Req, C>, control: ContextControl) -> RequestStream<Req>
where
    Req: Send + 'static,
    C: Decoder<Req>,
{
    RequestStream::new(requests.map(move |item| {
        item.map(|(req, compressed)| {
            control.set_last_request_compressed(compressed);
            req
        })
    }))
}

/// The requests as a blocking handler's `RequestIterator`, fed by a task that reads the
/// body (tied to the RPC: it stops when the RPC ends). The task hands requests over in
/// batches: a worker waiting for a request is woken once the task has queued every request
/// the connection had for it, not once per request.
pub(crate) fn iterator<Req, C>(rpc: &mut Rpc, requests: Requests<Req, C>) -> RequestIterator<Req>
where
    Req: Send + 'static,
    C: Decoder<Req>,
{
    let queue = Arc::new(Handoff::new(BLOCKING_REQUEST_BUFFER));
    // Set when the client ended its stream: a pump that stops without it was stopped by the
    // RPC's end (a cancellation, the deadline), which the handler must not read as the
    // end of a complete request stream.
    let complete = Arc::new(AtomicBool::new(false));
    let mut pump = Pump {
        queue: Producer(queue.clone()),
        requests,
        complete: complete.clone(),
        sized: 0,
        batch: VecDeque::new(),
        ended: None,
    };
    // The pump's end drops its producer: the handler gets what is queued, then the end.
    let pump = tokio::spawn(async move { std::future::poll_fn(|cx| pump.poll(cx)).await });
    rpc.attach_pump(pump.abort_handle());
    RequestIterator::new(Handed {
        queue,
        taken: VecDeque::new(),
        complete,
        control: rpc.control.clone(),
        ended: false,
    })
}

/// Requests a pump decodes before it queues them, under one lock: a bidi call of empty
/// messages paid about 100 instructions per request for a lock each.
const PUMP_BATCH: usize = 16;

/// The task's side of a blocking handler's requests: it decodes the requests the
/// connection has and queues them, a batch per lock, then announces them; it ends when the
/// requests end (or fail) or the handler dropped its iterator. It reads at most a batch
/// past a full queue, so a handler that stops reading stops the stream's reads.
struct Pump<Req, C> {
    queue: Producer<Result<(Req, bool), RpcError>>,
    requests: Requests<Req, C>,
    complete: Arc<AtomicBool>,
    /// The request size the queue's capacity was last set for.
    sized: usize,
    /// Decoded, not queued yet.
    batch: VecDeque<Result<(Req, bool), RpcError>>,
    /// The requests ended: `Some(true)` when the client ended its stream, `Some(false)`
    /// after a failed one; the pump stops once the batch is queued.
    ended: Option<bool>,
}

impl<Req: Send + 'static, C: Decoder<Req>> Pump<Req, C> {
    /// Queues what is batched: `Ready(true)` when all of it is, `Ready(false)` once the
    /// handler is gone, `Pending` while the queue is full (woken when it has room).
    fn poll_queue(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
        loop {
            if self.batch.is_empty() {
                return Poll::Ready(true);
            }
            if self.queue.push_all_quiet(&mut self.batch).is_err() {
                return Poll::Ready(false);
            }
            if self.batch.is_empty() {
                return Poll::Ready(true);
            }
            match self.queue.poll_room(cx) {
                Poll::Ready(true) => {}
                Poll::Ready(false) => return Poll::Ready(false),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if self.batch.len() >= PUMP_BATCH || self.ended.is_some() {
                match self.poll_queue(cx) {
                    Poll::Ready(true) => {}
                    Poll::Ready(false) => return Poll::Ready(()),
                    Poll::Pending => return Poll::Pending,
                }
            }
            if let Some(complete) = self.ended {
                self.complete.store(complete, Ordering::Release);
                return Poll::Ready(());
            }
            match Pin::new(&mut self.requests).poll_next(cx) {
                Poll::Ready(Some(item)) => {
                    if self.requests.last_size != self.sized {
                        self.sized = self.requests.last_size;
                        self.queue.set_capacity(capacity_for(
                            BLOCKING_AHEAD_BYTES,
                            self.sized,
                            BLOCKING_REQUEST_MIN,
                            BLOCKING_REQUEST_MAX,
                        ));
                    }
                    if item.is_err() {
                        self.ended = Some(false);
                    }
                    self.batch.push_back(item);
                }
                Poll::Ready(None) => self.ended = Some(true),
                Poll::Pending => {
                    return match self.poll_queue(cx) {
                        Poll::Ready(true) => {
                            self.queue.announce();
                            Poll::Pending
                        }
                        Poll::Ready(false) => Poll::Ready(()),
                        // A full queue was announced to the handler.
                        Poll::Pending => Poll::Pending,
                    };
                }
            }
        }
    }
}

/// A blocking handler's requests, taken from the pump's queue.
struct Handed<Req> {
    queue: Arc<Handoff<Result<(Req, bool), RpcError>>>,
    /// Requests taken from the queue in one go, not handed to the handler yet.
    taken: VecDeque<Result<(Req, bool), RpcError>>,
    complete: Arc<AtomicBool>,
    control: ContextControl,
    /// The iterator ends after the first error or the end, whatever the pump does later.
    ended: bool,
}

impl<Req> Iterator for Handed<Req> {
    type Item = Result<Req, RpcError>;

    fn next(&mut self) -> Option<Result<Req, RpcError>> {
        if self.ended {
            return None;
        }
        let next = match self.taken.pop_front() {
            Some(item) => Some(item),
            // The requests queued meanwhile, taken at once.
            None => match self.queue.take_all(&mut self.taken) {
                Taken::Some => self.taken.pop_front(),
                Taken::Ended => None,
                // Waiting for the client: the worker gives its place to the next RPC meanwhile.
                Taken::Nothing => park_while(|| self.queue.pop_blocking()),
            },
        }
        .or_else(|| {
            let message = "the RPC ended (cancelled or past its deadline) before its request stream did";
            (!self.complete.load(Ordering::Acquire)).then(|| Err(RpcError::cancelled(message)))
        });
        self.ended = !matches!(next, Some(Ok(_)));
        next.map(|item| {
            item.map(|(req, compressed)| {
                self.control.set_last_request_compressed(compressed);
                req
            })
        })
    }
}

impl<Req> Drop for Handed<Req> {
    fn drop(&mut self) {
        // The pump stops reading for a handler that no longer wants the requests.
        self.queue.close_consumer();
    }
}
