//! Multi-callables: calling a method by its path, for code without generated stubs
//! (`channel.unary_unary::<Req, Resp>("/pkg.Svc/Method")`, as in gRPC Python). Each holds
//! rpc-aio's multi-callable and blocks on (or wraps) the calls it starts.

use crate::call::{CallDetails, Source, StreamStreamCall, StreamUnaryCall, UnaryCall, UnaryStreamCall, blocking, prepare};
use crate::channel::Channel;
use rpc_core::{IntoRequest, IntoStreamingRequest, Request, RpcError};
use std::borrow::Cow;
use std::fmt;

macro_rules! multicallable {
    ($(#[$doc:meta])* $name:ident, $ctor:ident) => {
        $(#[$doc])*
        pub struct $name<Req, Resp> {
            inner: rpc_aio::$name<Req, Resp>,
            channel: Channel,
        }

        impl<Req, Resp> Clone for $name<Req, Resp> {
            fn clone(&self) -> Self {
                $name { inner: self.inner.clone(), channel: self.channel.clone() }
            }
        }

        impl<Req, Resp> fmt::Debug for $name<Req, Resp> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).field("method", &self.inner.method()).finish()
            }
        }

        impl Channel {
            #[doc = concat!("A [`", stringify!($name), "`] for the method at `path` (e.g. `/pkg.Service/Method`).")]
            pub fn $ctor<Req, Resp>(&self, path: &str) -> $name<Req, Resp> {
                $name { inner: self.as_aio().$ctor(path), channel: self.clone() }
            }
        }

        impl<Req, Resp> $name<Req, Resp> {
            /// The method path.
            pub fn method(&self) -> &str {
                self.inner.method()
            }
        }
    };
}

multicallable!(
    /// Calls a unary-unary method by path: [`call`](Self::call), [`with_call`](Self::with_call)
    /// and [`future`](Self::future).
    UnaryUnaryMultiCallable, unary_unary
);
multicallable!(
    /// Calls a unary-stream method by path; the call is a response iterator.
    UnaryStreamMultiCallable, unary_stream
);
multicallable!(
    /// Calls a stream-unary method by path with a request iterator: [`call`](Self::call),
    /// [`with_call`](Self::with_call) and [`future`](Self::future).
    StreamUnaryMultiCallable, stream_unary
);
multicallable!(
    /// Calls a stream-stream method by path with a request iterator; the call is a response
    /// iterator.
    StreamStreamMultiCallable, stream_stream
);

impl<Req, Resp> UnaryUnaryMultiCallable<Req, Resp>
where
    Req: prost::Message + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
{
    /// Makes the call and blocks until its response (gRPC Python's `__call__`).
    ///
    /// # Errors
    /// The call's error; FAILED_PRECONDITION (nothing sent) on a thread inside an async runtime.
    pub fn call(&self, request: impl IntoRequest<Req>) -> Result<Resp, RpcError> {
        blocking(self.channel.runtime(), || self.inner.call(request))
    }

    /// Makes the call and blocks until it ends; returns the response with the finished
    /// call's details (metadata, code).
    ///
    /// # Errors
    /// As [`call`](Self::call).
    pub fn with_call(&self, request: impl IntoRequest<Req>) -> Result<(Resp, CallDetails), RpcError> {
        blocking(self.channel.runtime(), || self.inner.with_call(request))
    }

    /// Starts the call in the background; never blocks.
    pub fn future(&self, request: impl IntoRequest<Req>) -> UnaryCall<Resp> {
        UnaryCall::new(self.inner.future(request), self.channel.runtime())
    }
}

impl<Req, Resp> UnaryStreamMultiCallable<Req, Resp>
where
    Req: prost::Message + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
{
    /// Starts the call; iterate over its responses. Never blocks.
    pub fn call(&self, request: impl IntoRequest<Req>) -> UnaryStreamCall<Resp> {
        UnaryStreamCall::new(self.inner.call(request), self.channel.runtime())
    }
}

impl<Req, Resp> StreamUnaryMultiCallable<Req, Resp>
where
    Req: prost::Message + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
{
    /// The aio multi-callable for this request, and the request in its form.
    fn prepare(
        &self,
        request: impl IntoStreamingRequest<Req>,
    ) -> (Cow<'_, rpc_aio::StreamUnaryMultiCallable<Req, Resp>>, Request<Source<Req>>) {
        let (refuse, request) = prepare(&self.channel, request.into_streaming_request());
        let inner = match refuse {
            Some(aio) => Cow::Owned(aio.stream_unary(self.inner.method())),
            None => Cow::Borrowed(&self.inner),
        };
        (inner, request.map(Source))
    }

    /// Makes the call with the requests of `request` (any `IntoIterator`, pulled from the
    /// runtime) and blocks until the response.
    ///
    /// # Errors
    /// The call's error; FAILED_PRECONDITION (nothing sent) on a thread inside an async runtime.
    pub fn call(&self, request: impl IntoStreamingRequest<Req>) -> Result<Resp, RpcError> {
        let (inner, request) = self.prepare(request);
        blocking(self.channel.runtime(), || inner.call(request))
    }

    /// Like [`call`](Self::call), returning the response with the finished call's details.
    ///
    /// # Errors
    /// As [`call`](Self::call).
    pub fn with_call(&self, request: impl IntoStreamingRequest<Req>) -> Result<(Resp, CallDetails), RpcError> {
        let (inner, request) = self.prepare(request);
        blocking(self.channel.runtime(), || inner.with_call(request))
    }

    /// Starts the call in the background; never blocks.
    pub fn future(&self, request: impl IntoStreamingRequest<Req>) -> StreamUnaryCall<Req, Resp> {
        let (inner, request) = self.prepare(request);
        StreamUnaryCall::new(inner.future(request), self.channel.runtime())
    }
}

impl<Req, Resp> StreamStreamMultiCallable<Req, Resp>
where
    Req: prost::Message + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
{
    /// Starts the call with the requests of `request` (any `IntoIterator`, pulled from the
    /// runtime); iterate over its responses. Never blocks.
    pub fn call(&self, request: impl IntoStreamingRequest<Req>) -> StreamStreamCall<Req, Resp> {
        let (refuse, request) = prepare(&self.channel, request.into_streaming_request());
        let request = request.map(Source);
        let call = match refuse {
            Some(aio) => aio.stream_stream(self.inner.method()).call(request),
            None => self.inner.call(request),
        };
        StreamStreamCall::new(call, self.channel.runtime())
    }
}
