//! The bodies of a call's HTTP/2 stream: the streamed request body ([`ClientBody`]: an
//! encoder over a stream of requests, several ready messages to a DATA frame, sent by
//! [`super::pipe`]), and the response side ([`Reader`]:
//! frames out of h2's stream, decoded with the call's codec, then the trailers).

use super::call::shared::CallShared;
use super::stream::StreamGuard;
use crate::wire::count::PayloadCount;
use crate::wire::frame::{FrameDecoder, FrameEncoder};
use bytes::{Bytes, BytesMut};
use futures::Stream;
use http_body::{Body, Frame};
use rpc_core::codec::{Decoder, Encoder};
use rpc_core::{OutgoingMessage, RpcError};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::task::{Context, Poll};

/// How many bytes of ready messages go into one DATA frame before it is handed to h2.
const BATCH_BYTES: usize = 32 * 1024;

/// Why a request body ended with an error (its stream is then reset).
#[derive(Debug)]
pub(crate) struct BodyError(pub(crate) String);

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BodyError {}

pub(crate) type BoxBody = Pin<Box<dyn Body<Data = Bytes, Error = BodyError> + Send>>;

/// The streamed request body of a call (a unary request's one frame is sent by the call
/// itself).
pub(crate) type ClientBody = BoxBody;

/// The body of streamed requests, encoded as they come.
pub(crate) fn streaming<Req, E>(requests: Requests<Req>, codec: Arc<E>, encoder: FrameEncoder, shared: Arc<CallShared>) -> ClientBody
where
    Req: Send + 'static,
    E: Encoder<Req> + ?Sized,
{
    Box::pin(EncodeBody {
        requests,
        codec,
        encoder,
        shared,
        buf: BytesMut::new(),
        done: false,
    })
}

/// Where streamed requests come from, as the body reads them: a stream that yields the
/// messages and then, if it ended because the caller is done (rather than because the
/// call object went away), says so.
pub(crate) type Requests<Req> = Pin<Box<dyn Stream<Item = Item<Req>> + Send>>;

/// One item of a request stream.
pub(crate) enum Item<Req> {
    /// A message to send.
    Message(OutgoingMessage<Req>),
    /// A message encoded where it was made (a blocking request iterator's thread), frame
    /// prefix included (see `wire/encoding.rs`).
    Encoded(BytesMut),
    /// A message could not be encoded where it was made: the call fails with this.
    Failed(RpcError),
    /// The caller is done: half-close the stream.
    End,
}

struct EncodeBody<Req, E: ?Sized> {
    requests: Requests<Req>,
    codec: Arc<E>,
    encoder: FrameEncoder,
    shared: Arc<CallShared>,
    buf: BytesMut,
    done: bool,
}

impl<Req, E: ?Sized> EncodeBody<Req, E> {
    /// Ends the body with `e` as the call's outcome (failing the body resets the stream).
    fn fail(&mut self, e: RpcError) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        self.shared.fail(e.clone());
        self.done = true;
        Poll::Ready(Some(Err(BodyError(e.to_string()))))
    }
}

impl<Req, E: Encoder<Req> + ?Sized> Body for EncodeBody<Req, E> {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        let mut ended = false;
        while this.buf.len() < BATCH_BYTES {
            match this.requests.as_mut().poll_next(cx) {
                Poll::Ready(Some(Item::Message(m))) => {
                    let before = this.buf.len();
                    let encoded = this.encoder.encode(&*this.codec, m.message, m.options.no_compress, &mut this.buf);
                    this.shared.note_request_size(this.buf.len() - before);
                    if let Err(e) = encoded {
                        return this.fail(e);
                    }
                }
                Poll::Ready(Some(Item::Encoded(encoded))) => this.buf.unsplit(encoded),
                Poll::Ready(Some(Item::Failed(e))) => return this.fail(e),
                Poll::Ready(Some(Item::End)) => {
                    ended = true;
                    break;
                }
                Poll::Ready(None) => {
                    // The requests stopped without the caller saying it was done (the call
                    // object went away): reset the stream rather than half-close it, so the
                    // server sees a cancelled RPC, not a complete one.
                    this.done = true;
                    return Poll::Ready(Some(Err(BodyError("the call's requests were abandoned".to_owned()))));
                }
                Poll::Pending => break,
            }
        }
        if ended {
            this.done = true;
        }
        if !this.buf.is_empty() {
            return Poll::Ready(Some(Ok(Frame::data(this.buf.split().freeze()))));
        }
        if this.done { Poll::Ready(None) } else { Poll::Pending }
    }

    fn is_end_stream(&self) -> bool {
        self.done && self.buf.is_empty()
    }
}

/// The response messages of a call, read from h2's stream, then its trailers.
pub(crate) struct Reader {
    body: h2::RecvStream,
    /// Whether the DATA frames have ended (the trailers come next).
    data_done: bool,
    decoder: FrameDecoder,
    /// The call's place in its connection's count of calls.
    _guard: StreamGuard,
    /// The message bytes received, for an observed call.
    count: Option<PayloadCount>,
}

/// What the reader found next.
pub(crate) enum Read<Resp> {
    /// A message.
    Message(Resp),
    /// The end of the body, with the trailers (`None`: the stream ended without any).
    End(Option<http::HeaderMap>),
}

impl Reader {
    /// Reads `body`; counts its message bytes into `received` when given one.
    pub(crate) fn new(body: h2::RecvStream, guard: StreamGuard, decoder: FrameDecoder, received: Option<Arc<AtomicU64>>) -> Reader {
        Reader {
            body,
            data_done: false,
            decoder,
            _guard: guard,
            count: received.map(PayloadCount::new),
        }
    }

    /// The next message or the end. A transport error comes back as h2's error for the
    /// caller to map.
    #[inline]
    pub(crate) fn poll_read<Resp, D: Decoder<Resp> + ?Sized>(
        &mut self,
        codec: &D,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Read<Resp>, ReadError>> {
        loop {
            match self.decoder.next() {
                // A response the codec refuses fails the call INTERNAL, whatever code the
                // codec gave (as a request the server's codec refuses fails the RPC).
                Ok(Some(m)) => {
                    return Poll::Ready(
                        codec
                            .decode(m.data)
                            .map(Read::Message)
                            .map_err(|e| ReadError::Status(RpcError::internal(format!("could not decode the response: {}", e.details())))),
                    );
                }
                Ok(None) => {}
                Err(e) => return Poll::Ready(Err(ReadError::Status(e))),
            }
            if self.data_done {
                return match self.body.poll_trailers(cx) {
                    Poll::Ready(Ok(trailers)) => Poll::Ready(Ok(Read::End(trailers))),
                    Poll::Ready(Err(e)) => Poll::Ready(Err(ReadError::Transport(e))),
                    Poll::Pending => Poll::Pending,
                };
            }
            match self.body.poll_data(cx) {
                Poll::Ready(Some(Ok(data))) => {
                    // The window opens again as soon as the bytes are here: the decoder
                    // holds at most the chunk it is reading, and the caller's pace of
                    // reading messages paces the reads of chunks.
                    let _ = self.body.flow_control().release_capacity(data.len());
                    if let Some(c) = &mut self.count {
                        c.feed(&data);
                    }
                    self.decoder.push(data)
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(ReadError::Transport(e))),
                Poll::Ready(None) => {
                    if self.decoder.has_partial() {
                        return Poll::Ready(Err(ReadError::Status(RpcError::internal(
                            "the response ended in the middle of a message",
                        ))));
                    }
                    self.data_done = true;
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// Why reading a response failed.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// A status to end the call with (an undecodable or oversized message).
    Status(RpcError),
    /// The stream failed (reset, connection lost).
    Transport(h2::Error),
}
