//! [`Replay`]: the request stream of a call with a retry or hedging policy, encoded once and
//! kept (up to `per_rpc_retry_buffer_size`, and `retry_buffer_size` for the whole channel)
//! so that every attempt sends the same requests, one after another (retries) or side by
//! side (hedges). Past the limit, or once an attempt gets response headers, the call
//! commits to one attempt: the others' bodies fail, the frames that attempt has already
//! sent are freed, and the requests flow through to it only.

use super::body::{BodyError, ClientBody, Item, Requests};
use super::call::shared::CallShared;
use super::channel::ChannelShared;
use crate::wire::frame::FrameEncoder;
use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame};
use rpc_core::codec::Encoder;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// A request of any type (the replay buffer is not generic over the call's type).
type AnyRequest = Box<dyn std::any::Any + Send>;

/// Encodes one request into a frame.
type Encode = Box<dyn FnMut(rpc_core::OutgoingMessage<AnyRequest>, &mut BytesMut) -> Result<(), rpc_core::RpcError> + Send>;

/// The call's requests, type-erased.
type Source = Pin<Box<dyn futures::Stream<Item = Item<AnyRequest>> + Send>>;

/// Which of a call's request bodies (one per attempt) is which.
pub(crate) type BodyId = u64;

/// The shared request stream of a call's attempts.
pub(crate) struct Replay {
    inner: Mutex<Inner>,
    channel: Arc<ChannelShared>,
}

struct Inner {
    source: Source,
    encode: Encode,
    call: Arc<CallShared>,
    /// Frames kept: those from `base` to `produced`.
    frames: VecDeque<Bytes>,
    base: usize,
    produced: usize,
    /// The bytes of `frames`, counted against the channel's retry buffer.
    bytes: usize,
    ended: bool,
    abandoned: bool,
    /// The attempt the call committed to: the other bodies fail.
    owner: Option<BodyId>,
    /// Each live body and the index of the next frame it sends.
    cursors: Vec<(BodyId, usize)>,
    next_id: BodyId,
    /// The bodies waiting for the source's next request: every one is woken when it comes
    /// (hedged attempts wait side by side, and any of them may be dropped meanwhile).
    waiting: Arc<Waiting>,
}

#[derive(Default)]
struct Waiting(Mutex<Vec<Waker>>);

impl Waiting {
    fn add(&self, waker: &Waker) {
        let mut wakers = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if !wakers.iter().any(|w| w.will_wake(waker)) {
            wakers.push(waker.clone());
        }
    }
}

impl Wake for Waiting {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        let wakers = std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()));
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl Replay {
    pub(crate) fn new<Req, E>(
        requests: Requests<Req>,
        codec: Arc<E>,
        mut encoder: FrameEncoder,
        call: Arc<CallShared>,
        channel: Arc<ChannelShared>,
    ) -> Arc<Replay>
    where
        Req: Send + 'static,
        E: Encoder<Req> + ?Sized,
    {
        use futures::StreamExt;
        let source = requests.map(|item| match item {
            Item::Message(m) => Item::Message(rpc_core::OutgoingMessage {
                message: Box::new(m.message) as AnyRequest,
                options: m.options,
            }),
            Item::Encoded(encoded) => Item::Encoded(encoded),
            Item::Failed(e) => Item::Failed(e),
            Item::End => Item::End,
        });
        let encode: Encode = Box::new(move |m, buf| {
            let Ok(message) = m.message.downcast::<Req>() else {
                return Err(rpc_core::RpcError::internal("a request of the wrong type"));
            };
            encoder.encode(&*codec, *message, m.options.no_compress, buf)
        });
        Arc::new(Replay {
            inner: Mutex::new(Inner {
                source: Box::pin(source),
                encode,
                call,
                frames: VecDeque::new(),
                base: 0,
                produced: 0,
                bytes: 0,
                ended: false,
                abandoned: false,
                owner: None,
                cursors: Vec::new(),
                next_id: 0,
                waiting: Arc::default(),
            }),
            channel,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the call committed (or the requests were abandoned): no more attempts.
    pub(crate) fn committed(&self) -> bool {
        let inner = self.lock();
        inner.owner.is_some() || inner.abandoned
    }

    /// Whether the call committed to a body other than `body`.
    pub(crate) fn committed_elsewhere(&self, body: Option<BodyId>) -> bool {
        self.lock().owner.is_some_and(|o| Some(o) != body)
    }

    /// A body that sends the requests from the first, and its id.
    pub(crate) fn body(this: &Arc<Replay>) -> (ClientBody, BodyId) {
        let id = {
            let mut inner = this.lock();
            let id = inner.next_id;
            inner.next_id += 1;
            inner.cursors.push((id, 0));
            id
        };
        let body = ReplayBody {
            replay: this.clone(),
            id,
            next: 0,
            done: false,
        };
        (Box::pin(body), id)
    }

    /// The call committed to the attempt of `body` (its response headers came): the other
    /// bodies fail, and the frames it has sent are freed.
    pub(crate) fn release(&self, body: Option<BodyId>) {
        let mut inner = self.lock();
        if inner.owner.is_none() {
            self.commit(&mut inner, body);
        }
    }

    fn commit(&self, inner: &mut Inner, owner: Option<BodyId>) {
        // An unknown owner (none was given) keeps nothing: every body fails.
        inner.owner = Some(owner.unwrap_or(BodyId::MAX));
        let keep_from = owner
            .and_then(|id| inner.cursors.iter().find(|(b, _)| *b == id).map(|(_, at)| *at))
            .unwrap_or(inner.produced);
        self.free_until(inner, keep_from);
        inner.waiting.wake_by_ref();
    }

    /// Frees the kept frames before index `until`.
    fn free_until(&self, inner: &mut Inner, until: usize) {
        let mut freed = 0;
        while inner.base < until {
            match inner.frames.pop_front() {
                Some(f) => freed += f.len(),
                None => break,
            }
            inner.base += 1;
        }
        inner.bytes -= freed;
        self.channel.retry_buffered.fetch_sub(freed, Ordering::AcqRel);
    }
}

impl Drop for Replay {
    fn drop(&mut self) {
        let bytes = self.inner.get_mut().map(|i| i.bytes).unwrap_or(0);
        self.channel.retry_buffered.fetch_sub(bytes, Ordering::AcqRel);
    }
}

struct ReplayBody {
    replay: Arc<Replay>,
    id: BodyId,
    next: usize,
    done: bool,
}

impl ReplayBody {
    fn fail(&mut self, why: &str) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        self.done = true;
        Poll::Ready(Some(Err(BodyError(why.to_owned()))))
    }
}

impl Drop for ReplayBody {
    fn drop(&mut self) {
        let mut inner = self.replay.lock();
        inner.cursors.retain(|(id, _)| *id != self.id);
    }
}

impl Body for ReplayBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        let replay = this.replay.clone();
        let mut guard = replay.lock();
        let inner = &mut *guard;
        let owner = inner.owner;
        if owner.is_some_and(|o| o != this.id) || this.next < inner.base {
            return this.fail("the call committed to another attempt");
        }
        let frame = if this.next < inner.produced {
            let frame = inner.frames[this.next - inner.base].clone();
            this.next += 1;
            if owner.is_some() {
                // Committed to this body: what it has sent is not needed again.
                replay.free_until(inner, this.next);
            }
            frame
        } else if inner.ended {
            this.done = true;
            return Poll::Ready(None);
        } else if inner.abandoned {
            return this.fail("the call's requests were abandoned");
        } else {
            inner.waiting.add(cx.waker());
            let waker = Waker::from(inner.waiting.clone());
            let polled = inner.source.as_mut().poll_next(&mut Context::from_waker(&waker));
            match polled {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(item @ (Item::Message(_) | Item::Encoded(_) | Item::Failed(_)))) => {
                    let encoded = match item {
                        Item::Message(m) => {
                            let mut buf = BytesMut::new();
                            (inner.encode)(m, &mut buf).map(|()| buf)
                        }
                        Item::Encoded(buf) => Ok(buf),
                        Item::Failed(e) => Err(e),
                        Item::End => Err(rpc_core::RpcError::internal("the request stream ended twice")),
                    };
                    let frame = match encoded {
                        Ok(buf) => buf.freeze(),
                        Err(e) => {
                            inner.call.fail(e.clone());
                            return this.fail(&e.to_string());
                        }
                    };
                    inner.produced += 1;
                    this.next = inner.produced;
                    if owner.is_none() {
                        let o = &replay.channel.options;
                        let total = replay.channel.retry_buffered.fetch_add(frame.len(), Ordering::AcqRel) + frame.len();
                        inner.bytes += frame.len();
                        inner.frames.push_back(frame.clone());
                        if inner.bytes > o.per_rpc_retry_buffer_size || total > o.retry_buffer_size {
                            // The attempt that read past the limit is the one that goes on.
                            replay.commit(inner, Some(this.id));
                        }
                    } else {
                        inner.base = inner.produced;
                    }
                    // Attempts waiting side by side send it from the buffer.
                    inner.waiting.wake_by_ref();
                    frame
                }
                Poll::Ready(Some(Item::End)) => {
                    inner.ended = true;
                    inner.waiting.wake_by_ref();
                    this.done = true;
                    return Poll::Ready(None);
                }
                Poll::Ready(None) => {
                    inner.abandoned = true;
                    inner.waiting.wake_by_ref();
                    return this.fail("the call's requests were abandoned");
                }
            }
        };
        if let Some(cursor) = inner.cursors.iter_mut().find(|(id, _)| *id == this.id) {
            cursor.1 = this.next;
        }
        Poll::Ready(Some(Ok(Frame::data(frame))))
    }
}
