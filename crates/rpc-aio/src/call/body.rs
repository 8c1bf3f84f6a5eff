//! The request body of a streaming call: it fails (so hyper resets the HTTP/2 stream) once
//! the call has been cancelled or has failed locally, instead of ending cleanly, so the
//! server sees the RPC cancelled rather than a half-close it might answer.

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

impl tower::Service<http::Request<tonic::body::Body>> for CallService {
    type Response = <tonic::transport::Channel as tower::Service<http::Request<tonic::body::Body>>>::Response;
    type Error = <tonic::transport::Channel as tower::Service<http::Request<tonic::body::Body>>>::Error;
    type Future = <tonic::transport::Channel as tower::Service<http::Request<tonic::body::Body>>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        tower::Service::poll_ready(&mut self.inner, cx)
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
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
