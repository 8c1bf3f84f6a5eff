//! An RPC as its span and its observer see it ([`Observed`]): the response is watched
//! until the status goes out (trailers, or the trailers-only headers), its message bytes
//! counted, its span entered whenever the body is polled (so an async handler's response
//! stream runs inside it). An RPC that is neither observed nor traced is not wrapped.

use super::responses::{BoxedBody, ServerBody};
use crate::wire::count::{PayloadCount, Totals};
use bytes::Bytes;
use http_body::{Body, Frame};
use rpc_core::StatusCode;
use rpc_core::observe::{CallEnd, ServerCallObserver};
use std::pin::Pin;
use std::task::{Context, Poll};

/// The span and the observer of one RPC.
pub(crate) struct Observed {
    span: tracing::Span,
    observer: Option<Box<dyn ServerCallObserver>>,
    totals: Totals,
    /// Whether the end was reported (once: then dropping reports nothing).
    reported: bool,
}

impl Observed {
    /// `None` when there is nothing to watch (no observer, a disabled span).
    pub(crate) fn new(span: tracing::Span, observer: Option<Box<dyn ServerCallObserver>>) -> Option<Observed> {
        if observer.is_none() && span.is_disabled() {
            return None;
        }
        Some(Observed {
            span,
            observer,
            totals: Totals::default(),
            reported: false,
        })
    }

    pub(crate) fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// Where the RPC's requests are counted (only when observed).
    pub(crate) fn received(&self) -> Option<std::sync::Arc<std::sync::atomic::AtomicU64>> {
        self.observer.as_ref().map(|_| self.totals.received.clone())
    }

    /// Watches `response` until its status goes out.
    pub(crate) fn watch(self, mut response: http::Response<ServerBody>) -> http::Response<ServerBody> {
        if let Some(code) = status_code(response.headers()) {
            // Trailers-only: the status is in the headers.
            self.end(code);
            return response;
        }
        let count = PayloadCount::new(self.totals.sent.clone());
        response.body_mut().wrap(move |inner| {
            Box::pin(WatchedBody {
                inner,
                count,
                observed: Some(self),
            }) as BoxedBody
        });
        response
    }

    fn end(mut self, code: StatusCode) {
        self.report(code);
    }

    fn report(&mut self, code: StatusCode) {
        if std::mem::replace(&mut self.reported, true) {
            return;
        }
        crate::observe::record_status(&self.span, code);
        if let Some(o) = self.observer.take() {
            let (sent, received) = self.totals.get();
            o.call_ended(&CallEnd::new(code, sent, received));
        }
    }
}

impl Drop for Observed {
    /// A response dropped before its status went out: the stream was reset or the
    /// connection lost.
    fn drop(&mut self) {
        self.report(StatusCode::Cancelled);
    }
}

fn status_code(headers: &http::HeaderMap) -> Option<StatusCode> {
    let value = headers.get("grpc-status")?;
    let code = std::str::from_utf8(value.as_bytes()).ok()?.trim().parse::<i32>().ok()?;
    Some(StatusCode::from_i32(code))
}

struct WatchedBody {
    inner: BoxedBody,
    count: PayloadCount,
    observed: Option<Observed>,
}

impl Body for WatchedBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let _entered = this.observed.as_ref().map(|o| o.span.enter());
        let polled = this.inner.as_mut().poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.count.feed(data);
                } else if let Some(trailers) = frame.trailers_ref() {
                    let code = status_code(trailers).unwrap_or(StatusCode::Unknown);
                    drop(_entered);
                    if let Some(o) = this.observed.take() {
                        o.end(code);
                    }
                }
            }
            Poll::Ready(None) => {
                drop(_entered);
                if let Some(o) = this.observed.take() {
                    o.end(StatusCode::Unknown);
                }
            }
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
