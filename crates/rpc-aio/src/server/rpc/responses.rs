//! The response of an RPC: the headers (the initial metadata, and `grpc-encoding` when the
//! responses are compressed), a body of the handler's responses encoded with the method's
//! codec (each compressed unless the handler asked otherwise; several ready responses to a
//! DATA frame), and the trailers with the final status; or, for an RPC that ends before any
//! response, a trailers-only response. Dropped before its end (the client went away), the
//! body cancels the RPC.

use super::context::{Rpc, panicked};
use super::guard::Watch;
use super::pull::{Pulled, Puller};
use crate::channelz::ServerCall;
use crate::wire::compression::negotiate;
use crate::wire::encoding::Encoding;
use crate::wire::frame::FrameEncoder;
use crate::wire::headers::{CONTENT_TYPE, GRPC_ENCODING, write_metadata};
use crate::wire::status;
use bytes::{Bytes, BytesMut};
use futures::Stream;
use futures::future::BoxFuture;
use http_body::{Body, Frame};
use rpc_core::codec::Encoder;
use rpc_core::{Compression, ResponseIterator, ResponseStream, RpcError, ServicerContext, StatusCode};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// How many bytes of ready responses go into one DATA frame.
const BATCH_BYTES: usize = 32 * 1024;

/// Where the responses come from.
pub(crate) enum Source<Resp> {
    /// One response (unary-response methods).
    One(Option<Resp>),
    /// An async handler's stream.
    Stream(ResponseStream<Resp>),
    /// A blocking handler's iterator, pulled on the pool as the stream takes responses.
    Pulled(Puller<Resp>),
    /// A blocking handler's channel-backed iterator (`ResponseIterator::channel`), read here
    /// without a worker.
    Sender(ResponseIterator<Resp>),
    /// A handler still running after it sent initial metadata early (so the headers went
    /// out already): its result is one of the sources above.
    Pending(BoxFuture<'static, Result<Source<Resp>, RpcError>>),
}

impl<Resp: Send + 'static> Source<Resp> {
    /// The next response and whether the handler asked for it to go uncompressed (or,
    /// from a worker that encodes them, responses encoded: only a puller the connection
    /// set up an encoding for does, see [`respond_now`]).
    fn poll_next(
        &mut self,
        ctx: &ServicerContext,
        control: &rpc_core::ContextControl,
        compressing: bool,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Pulled<Resp>>> {
        let failed = |e: RpcError| Poll::Ready(Some(Pulled::Message((Err(e), false))));
        if let Source::Pending(handler) = self {
            match handler.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return failed(e),
                // A non-OK code set on the context wins over a returned response.
                Poll::Ready(Ok(_)) if ctx.code().is_some_and(|c| c != StatusCode::Ok) => return Poll::Ready(None),
                Poll::Ready(Ok(source)) => *self = source,
            }
        }
        // The context's flag is only read (under its lock) when the responses are compressed.
        let plain = |item: Result<Resp, RpcError>| {
            let plain = compressing && item.is_ok() && control.take_disable_next_compression();
            Pulled::Message((item, plain))
        };
        match self {
            Source::One(m) => Poll::Ready(m.take().map(|m| plain(Ok(m)))),
            Source::Stream(s) => match std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(s).poll_next(cx))) {
                Ok(Poll::Ready(Some(item))) => Poll::Ready(Some(plain(item))),
                Ok(Poll::Ready(None)) => Poll::Ready(None),
                Ok(Poll::Pending) => Poll::Pending,
                Err(p) => failed(panicked(p.as_ref())),
            },
            Source::Pulled(puller) => puller.poll_next(cx),
            Source::Sender(responses) => match responses.poll_channel(cx) {
                Some(Poll::Ready(item)) => Poll::Ready(item.map(plain)),
                Some(Poll::Pending) => Poll::Pending,
                None => failed(RpcError::internal("a response iterator lost its channel")),
            },
            Source::Pending(_) => failed(RpcError::internal("a handler produced no response source")),
        }
    }
}

/// The body of a response.
#[derive(Default)]
pub(crate) struct ServerBody {
    inner: Option<Pin<Box<dyn Body<Data = Bytes, Error = std::convert::Infallible> + Send>>>,
    /// The RPC's channelz tally, ended by the trailers (or failed if dropped before them).
    tally: Option<ServerCall>,
}

impl ServerBody {
    /// Attaches the RPC's channelz tally: it ends with the trailers-only status now, or
    /// with the trailers of the body.
    pub(crate) fn tally(response: &mut http::Response<ServerBody>, tally: ServerCall) {
        match response.headers().get("grpc-status") {
            Some(s) => tally.ended(Some(s)),
            None if response.body().inner.is_none() => tally.ended(None),
            None => response.body_mut().tally = Some(tally),
        }
    }
}

impl Body for ServerBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = match self.inner.as_mut() {
            Some(b) => b.as_mut().poll_frame(cx),
            None => Poll::Ready(None),
        };
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(trailers) = frame.trailers_ref()
            && let Some(tally) = self.tally.take()
        {
            tally.ended(trailers.get("grpc-status"));
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(|b| b.is_end_stream())
    }
}

/// A response body, type-erased.
pub(crate) type BoxedBody = Pin<Box<dyn Body<Data = Bytes, Error = std::convert::Infallible> + Send>>;

impl ServerBody {
    /// Wraps the body (if there is one) in another.
    pub(crate) fn wrap(&mut self, f: impl FnOnce(BoxedBody) -> BoxedBody) {
        if let Some(inner) = self.inner.take() {
            self.inner = Some(f(inner));
        }
    }
}

/// A gRPC response with no body: its headers carry the status (trailers-only).
pub(crate) fn trailers_only(error: &RpcError) -> http::Response<ServerBody> {
    let mut response = http::Response::new(ServerBody::default());
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, CONTENT_TYPE);
    status::write_error(error, headers);
    response
}

/// An HTTP error that is not gRPC's (a request that is not a gRPC call).
pub(crate) fn http_error(status: http::StatusCode) -> http::Response<ServerBody> {
    let mut response = http::Response::new(ServerBody::default());
    *response.status_mut() = status;
    response
}

/// Ends an RPC before any response: the status, with any initial metadata sent early.
pub(crate) fn error_response(mut rpc: Rpc, error: RpcError) -> http::Response<ServerBody> {
    trailers_only(&rpc.error_before_response(error))
}

/// The response once the handler produced `source`: headers now, the body as it comes.
/// (A non-OK code the handler set on the context wins over a response.)
pub(crate) fn respond<Resp, C>(rpc: Rpc, source: Source<Resp>, codec: Arc<C>) -> http::Response<ServerBody>
where
    Resp: Send + 'static,
    C: Encoder<Resp>,
{
    if !matches!(source, Source::Pending(_))
        && let Some(code) = rpc.ctx.code()
        && code != StatusCode::Ok
    {
        let details = rpc.ctx.details().unwrap_or_default();
        return error_response(rpc, RpcError::new(code, details));
    }
    respond_now(rpc, source, codec)
}

/// The response headers and a body of `source`'s responses.
pub(crate) fn respond_now<Resp, C>(rpc: Rpc, source: Source<Resp>, codec: Arc<C>) -> http::Response<ServerBody>
where
    Resp: Send + 'static,
    C: Encoder<Resp>,
{
    let chosen = rpc.ctx.compression().unwrap_or(rpc.env.options.compression);
    let compression = negotiate(chosen, rpc.wire.accepted.as_ref()).filter(|c| *c != Compression::NoCompression);
    let mut response = http::Response::new(ServerBody::default());
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, CONTENT_TYPE);
    if let Some(c) = compression {
        headers.insert(GRPC_ENCODING, http::HeaderValue::from_static(c.name()));
    }
    write_metadata(&rpc.take_initial_metadata(), headers);
    let encoder = || FrameEncoder::new(compression, rpc.env.options.max_send_message_length);
    if let Source::Pulled(puller) = &source
        && puller.wants_encoding()
    {
        let codec: Arc<dyn Encoder<Resp>> = codec.clone();
        puller.encode_here(Encoding::new(encoder(), codec, rpc.hooks.response_hooks()));
    }
    let encoder = encoder();
    response.body_mut().inner = Some(Box::pin(ResponseBody {
        source,
        watch: rpc.watch(),
        rpc: Some(rpc),
        codec,
        encoder,
        buf: BytesMut::new(),
        trailers: None,
    }));
    response
}

/// The responses of one RPC, then its trailers.
struct ResponseBody<Resp, C> {
    source: Source<Resp>,
    watch: Watch,
    rpc: Option<Rpc>,
    codec: Arc<C>,
    encoder: FrameEncoder,
    buf: BytesMut,
    /// The status, once known, waiting for the data before it to go out.
    trailers: Option<http::HeaderMap>,
}

// Nothing is pinned in place.
impl<Resp, C> Unpin for ResponseBody<Resp, C> {}

impl<Resp, C> ResponseBody<Resp, C> {
    /// Ends the RPC with `end` (its result, or the status that cut it short).
    fn finish(&mut self, end: Result<(), RpcError>) {
        let Some(mut rpc) = self.rpc.take() else { return };
        let mut trailers = http::HeaderMap::new();
        match rpc.final_status(end) {
            Ok(md) => status::write_ok(&md, &mut trailers),
            Err(e) => status::write_error(&e, &mut trailers),
        }
        self.trailers = Some(trailers);
        // The RPC ends here: its context is terminated and it leaves the books.
        drop(rpc);
    }
}

impl<Resp: Send + 'static, C: Encoder<Resp>> Body for ResponseBody<Resp, C> {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        while this.rpc.is_some() && this.buf.len() < BATCH_BYTES {
            let Some(rpc) = this.rpc.as_ref() else { break };
            // A unary handler that returned its response before the cancellation completed
            // the RPC: send what it produced rather than discard an acknowledged result.
            if rpc.control.is_cancelled() && !matches!(this.source, Source::One(_)) {
                let e = match this.watch.poll_ended(cx) {
                    Poll::Ready(e) => e,
                    Poll::Pending => rpc.env.admission.cancel_error(),
                };
                this.finish(Err(e));
                break;
            }
            let compressing = this.encoder.compression().is_some();
            match this.source.poll_next(&rpc.ctx, &rpc.control, compressing, cx) {
                Poll::Ready(Some(Pulled::Encoded(encoded, _))) => this.buf.unsplit(encoded),
                Poll::Ready(Some(Pulled::Message((Ok(mut m), plain)))) => {
                    rpc.hooks.on_response(&mut m);
                    let before = this.buf.len();
                    if let Err(e) = this.encoder.encode(&*this.codec, m, plain, &mut this.buf) {
                        this.finish(Err(e));
                    } else if let Source::Pulled(puller) = &this.source {
                        puller.record_size(this.buf.len() - before);
                    }
                }
                Poll::Ready(Some(Pulled::Message((Err(e), _)))) => this.finish(Err(e)),
                Poll::Ready(None) => this.finish(Ok(())),
                Poll::Pending => {
                    if this.buf.is_empty()
                        && let Poll::Ready(e) = this.watch.poll_ended(cx)
                    {
                        this.finish(Err(e));
                    }
                    break;
                }
            }
        }
        if !this.buf.is_empty() {
            return Poll::Ready(Some(Ok(Frame::data(this.buf.split().freeze()))));
        }
        match this.trailers.take() {
            Some(t) => Poll::Ready(Some(Ok(Frame::trailers(t)))),
            None if this.rpc.is_none() => Poll::Ready(None),
            None => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.rpc.is_none() && self.trailers.is_none() && self.buf.is_empty()
    }
}
