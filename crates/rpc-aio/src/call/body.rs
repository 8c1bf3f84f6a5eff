//! The request body of a streaming call: it fails (so hyper resets the HTTP/2 stream) once
//! the call has been cancelled or has failed locally, instead of ending cleanly, so the
//! server sees the RPC cancelled rather than a half-close it might answer. Responses pass
//! through [`sanitize`] before tonic reads their status.

use super::state::CallShared;
use futures::future::BoxFuture;
use http_body::{Body, Frame};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Wraps tonic's channel to wrap each request body in [`FailBody`].
#[derive(Clone)]
pub(crate) struct CallService {
    pub(crate) inner: tonic::transport::Channel,
    pub(crate) shared: Option<Arc<CallShared>>,
}

type ChannelFuture = <tonic::transport::Channel as tower::Service<http::Request<tonic::body::Body>>>::Future;
type ChannelResponse = <tonic::transport::Channel as tower::Service<http::Request<tonic::body::Body>>>::Response;
type ChannelError = <tonic::transport::Channel as tower::Service<http::Request<tonic::body::Body>>>::Error;

impl tower::Service<http::Request<tonic::body::Body>> for CallService {
    type Response = ChannelResponse;
    type Error = ChannelError;
    type Future = Sanitized;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        tower::Service::poll_ready(&mut self.inner, cx)
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        Sanitized {
            inner: self.call_inner(req),
        }
    }
}

/// The response future of [`CallService`]: the response's headers and trailers go
/// through [`sanitize`]. A named future, so no allocation per call.
#[pin_project::pin_project]
pub(crate) struct Sanitized {
    #[pin]
    inner: ChannelFuture,
}

impl std::future::Future for Sanitized {
    type Output = Result<ChannelResponse, ChannelError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut response = std::task::ready!(self.project().inner.poll(cx))?;
        sanitize(response.headers_mut());
        Poll::Ready(Ok(response.map(|inner| tonic::body::Body::new(SanitizedTrailers { inner }))))
    }
}

impl CallService {
    fn call_inner(&mut self, req: http::Request<tonic::body::Body>) -> ChannelFuture {
        use tower::Service;
        match self.shared.clone() {
            Some(shared) => {
                let failed: BoxFuture<'static, bool> = Box::pin(async move { shared.outcome().await.is_err() });
                let req = req.map(|inner| {
                    tonic::body::Body::new(FailBody {
                        inner,
                        failed: Some(failed),
                    })
                });
                self.inner.call(req)
            }
            None => self.inner.call(req),
        }
    }
}

/// A request body that turns into an error once the call fails.
struct FailBody {
    inner: tonic::body::Body,
    failed: Option<BoxFuture<'static, bool>>,
}

impl Body for FailBody {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<bytes::Bytes>, tonic::Status>>> {
        if let Some(f) = self.failed.as_mut()
            && let Poll::Ready(failed) = f.as_mut().poll(cx)
        {
            self.failed = None;
            if failed {
                return Poll::Ready(Some(Err(tonic::Status::cancelled("call cancelled"))));
            }
        }
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Drops a `grpc-status-details-bin` header that is not base64: tonic 0.14 panics on it
/// (`Status::from_header_map` expects valid base64), so a hostile or broken server could
/// otherwise panic the call's task. The status code and message are kept. Found by the
/// `status` fuzz target (input kept in fuzz/regressions/status/).
pub(crate) fn sanitize(headers: &mut http::HeaderMap) {
    use base64::Engine;
    const DETAILS: &str = "grpc-status-details-bin";
    const TONIC_BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new().with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    if let Some(v) = headers.get(DETAILS)
        && TONIC_BASE64.decode(v.as_bytes()).is_err()
    {
        tracing::debug!("dropped a grpc-status-details-bin header that is not base64");
        headers.remove(DETAILS);
    }
}

/// A response body whose trailers go through [`sanitize`].
struct SanitizedTrailers {
    inner: tonic::body::Body,
}

impl Body for SanitizedTrailers {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<bytes::Bytes>, tonic::Status>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(mut frame))) => {
                if let Some(trailers) = frame.trailers_mut() {
                    sanitize(trailers);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn undecodable_status_details_are_dropped_so_tonic_does_not_panic() {
        // The input of fuzz/regressions/status/crash-ae935ab1...: details "{\x80"-like garbage.
        for bad in [&b"{"[..], b"!!!!", b"abc=d"] {
            let mut headers = http::HeaderMap::new();
            headers.insert("grpc-status", "3".parse().unwrap());
            headers.insert("grpc-status-details-bin", http::HeaderValue::from_bytes(bad).unwrap());
            sanitize(&mut headers);
            let status = tonic::Status::from_header_map(&headers).unwrap();
            assert_eq!(status.code(), tonic::Code::InvalidArgument);
            assert!(status.details().is_empty());
        }
        let mut headers = http::HeaderMap::new();
        headers.insert("grpc-status", "3".parse().unwrap());
        headers.insert("grpc-status-details-bin", "CAM".parse().unwrap());
        sanitize(&mut headers);
        assert_eq!(tonic::Status::from_header_map(&headers).unwrap().details(), &[8u8, 3][..]);
    }
}
