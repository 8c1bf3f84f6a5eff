//! The response stream of an RPC: the handler's responses, then one final item carrying
//! the status and trailing metadata, or the status of a deadline or cancellation that
//! came first. Dropped before its end (the client went away), it cancels the RPC.

use super::rpc::{Rpc, Watch, panicked};
use futures::Stream;
use futures::future::BoxFuture;
use rpc_core::{ResponseStream, RpcError, ServicerContext, StatusCode};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// Where the responses come from.
pub(crate) enum Source<Resp> {
    /// One response (unary-response methods).
    One(Option<Resp>),
    /// An async handler's stream.
    Stream(ResponseStream<Resp>),
    /// A blocking handler's iterator, pulled on its worker.
    Channel(mpsc::Receiver<Result<Resp, RpcError>>),
    /// A handler still running after it sent initial metadata early (so the headers went
    /// out already): its result is one of the sources above.
    Pending(BoxFuture<'static, Result<Source<Resp>, RpcError>>),
}

/// The responses of one RPC, as tonic encodes them. The final status is an `Err` item,
/// which tonic's encoder turns into the trailers (an OK code included).
pub(crate) struct OutStream<Resp> {
    source: Source<Resp>,
    watch: Watch,
    rpc: Option<Rpc>,
    /// Responses yielded so far.
    sent: u64,
}

impl<Resp> OutStream<Resp> {
    pub(crate) fn new(source: Source<Resp>, rpc: Rpc) -> OutStream<Resp> {
        OutStream {
            source,
            watch: rpc.watch(),
            rpc: Some(rpc),
            sent: 0,
        }
    }
}

impl<Resp> Source<Resp> {
    fn poll_next(&mut self, ctx: &ServicerContext, cx: &mut Context<'_>) -> Poll<Option<Result<Resp, RpcError>>> {
        if let Source::Pending(handler) = self {
            match handler.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(e))),
                // A non-OK code set on the context wins over a returned response.
                Poll::Ready(Ok(_)) if ctx.code().is_some_and(|c| c != StatusCode::Ok) => return Poll::Ready(None),
                Poll::Ready(Ok(source)) => *self = source,
            }
        }
        match self {
            Source::One(m) => Poll::Ready(m.take().map(Ok)),
            Source::Stream(s) => std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(s).poll_next(cx)))
                .unwrap_or_else(|p| Poll::Ready(Some(Err(panicked(p.as_ref()))))),
            Source::Channel(rx) => rx.poll_recv(cx),
            Source::Pending(_) => Poll::Ready(Some(Err(RpcError::internal("a handler produced no response source")))),
        }
    }
}

// Nothing in the stream is pinned in place.
impl<Resp> Unpin for OutStream<Resp> {}

/// The status for a response over the server's send limit (as the client says it).
fn too_large(len: usize, max: usize) -> RpcError {
    RpcError::resource_exhausted(format!("trying to send a message larger than the maximum ({len} vs. {max} bytes)"))
}

impl<Resp: prost::Message> Stream for OutStream<Resp> {
    type Item = Result<Resp, tonic::Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let Some(rpc) = this.rpc.as_ref() else {
            return Poll::Ready(None);
        };
        // A unary handler that returned its response before the cancellation completed the
        // RPC: send what it produced rather than discard an acknowledged result.
        let end = if rpc.control.is_cancelled() && !matches!(this.source, Source::One(_)) {
            // Cancelled between polls (a stop's grace ended, or a deadline seen elsewhere).
            match this.watch.poll_ended(cx) {
                Poll::Ready(e) => Err(e),
                Poll::Pending => Err(rpc.shared.cancel_error()),
            }
        } else {
            match this.source.poll_next(&rpc.ctx, cx) {
                // Checked here rather than by tonic's encoder, which says OUT_OF_RANGE.
                Poll::Ready(Some(Ok(m))) => match rpc.shared.options.max_send_message_length {
                    Some(max) if m.encoded_len() > max => Err(too_large(m.encoded_len(), max)),
                    _ => {
                        // A blocking handler's responses were marked on its worker; the
                        // context's flag is only read (under its lock) when compressing.
                        if !matches!(this.source, Source::Channel(_))
                            && rpc.plain.compressing()
                            && rpc.control.take_disable_next_compression()
                        {
                            rpc.plain.mark(this.sent);
                        }
                        this.sent += 1;
                        return Poll::Ready(Some(Ok(m)));
                    }
                },
                Poll::Ready(Some(Err(e))) => Err(e),
                Poll::Ready(None) => Ok(()),
                Poll::Pending => match this.watch.poll_ended(cx) {
                    Poll::Ready(e) => Err(e),
                    Poll::Pending => return Poll::Pending,
                },
            }
        };
        let status = match this.rpc.take() {
            Some(rpc) => rpc.final_status(end),
            None => return Poll::Ready(None),
        };
        Poll::Ready(Some(Err(status)))
    }
}
