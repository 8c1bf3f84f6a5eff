//! [`Replay`]: the request stream of a call with a retry policy, encoded once and kept
//! (up to `per_rpc_retry_buffer_size`, and `retry_buffer_size` for the whole channel) so
//! that a retry sends the same requests again. Past the limit the call is committed: the
//! buffer is freed and the requests flow through to the current attempt only.

use super::body::{BodyError, ClientBody, Item, Requests};
use super::call::shared::CallShared;
use super::channel::ChannelShared;
use crate::wire::frame::FrameEncoder;
use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame};
use rpc_core::codec::Encoder;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// A request of any type (the replay buffer is not generic over the call's type).
type AnyRequest = Box<dyn std::any::Any + Send>;

/// Encodes one request into a frame.
type Encode = Box<dyn FnMut(rpc_core::OutgoingMessage<AnyRequest>, &mut BytesMut) -> Result<(), rpc_core::RpcError> + Send>;

/// The call's requests, type-erased.
type Source = Pin<Box<dyn futures::Stream<Item = Item<AnyRequest>> + Send>>;

/// The shared request stream of a call's attempts.
pub(crate) struct Replay {
    inner: Mutex<Inner>,
    channel: Arc<ChannelShared>,
}

struct Inner {
    source: Source,
    encode: Encode,
    call: Arc<CallShared>,
    /// Frames kept for replay: those from `base` to `produced`.
    frames: Vec<Bytes>,
    base: usize,
    produced: usize,
    bytes: usize,
    ended: bool,
    abandoned: bool,
    committed: bool,
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
                frames: Vec::new(),
                base: 0,
                produced: 0,
                bytes: 0,
                ended: false,
                abandoned: false,
                committed: false,
            }),
            channel,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the buffer overflowed (or the requests were abandoned): no more attempts.
    pub(crate) fn committed(&self) -> bool {
        let inner = self.lock();
        inner.committed || inner.abandoned
    }

    /// A body that sends the requests from the first.
    pub(crate) fn body(this: &Arc<Replay>) -> ClientBody {
        ClientBody::boxed(Box::pin(ReplayBody {
            replay: this.clone(),
            next: 0,
            done: false,
        }))
    }

    /// The call committed to an attempt (its response headers came): frees the buffer.
    pub(crate) fn release(&self) {
        let mut inner = self.lock();
        if !inner.committed {
            self.commit(&mut inner);
        }
    }

    fn commit(&self, inner: &mut Inner) {
        inner.committed = true;
        inner.base = inner.produced;
        inner.frames = Vec::new();
        self.channel
            .retry_buffered
            .fetch_sub(std::mem::take(&mut inner.bytes), Ordering::AcqRel);
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
    next: usize,
    done: bool,
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
        let mut inner = replay.lock();
        if this.next < inner.base {
            this.done = true;
            return Poll::Ready(Some(Err(BodyError("the call committed to another attempt".to_owned()))));
        }
        if this.next < inner.produced {
            let frame = inner.frames[this.next - inner.base].clone();
            this.next += 1;
            return Poll::Ready(Some(Ok(Frame::data(frame))));
        }
        if inner.ended {
            this.done = true;
            return Poll::Ready(None);
        }
        if inner.abandoned {
            this.done = true;
            return Poll::Ready(Some(Err(BodyError("the call's requests were abandoned".to_owned()))));
        }
        match inner.source.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Item::Message(m))) => {
                let mut buf = BytesMut::new();
                if let Err(e) = (inner.encode)(m, &mut buf) {
                    inner.call.fail(e.clone());
                    this.done = true;
                    return Poll::Ready(Some(Err(BodyError(e.to_string()))));
                }
                let frame = buf.freeze();
                inner.produced += 1;
                this.next = inner.produced;
                if !inner.committed {
                    let o = &replay.channel.options;
                    let total = replay.channel.retry_buffered.fetch_add(frame.len(), Ordering::AcqRel) + frame.len();
                    inner.bytes += frame.len();
                    inner.frames.push(frame.clone());
                    if inner.bytes > o.per_rpc_retry_buffer_size || total > o.retry_buffer_size {
                        replay.commit(&mut inner);
                    }
                } else {
                    inner.base = inner.produced;
                }
                Poll::Ready(Some(Ok(Frame::data(frame))))
            }
            Poll::Ready(Some(Item::End)) => {
                inner.ended = true;
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Ready(None) => {
                inner.abandoned = true;
                this.done = true;
                Poll::Ready(Some(Err(BodyError("the call's requests were abandoned".to_owned()))))
            }
        }
    }
}
