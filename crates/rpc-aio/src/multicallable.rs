//! Multi-callables: calling a method by its path, for code without generated stubs
//! (`channel.unary_unary::<Req, Resp>("/pkg.Svc/Method")`, as in gRPC Python).

use crate::call::{StreamStreamCall, StreamUnaryCall, StreamUnaryWithCall, UnaryCall, UnaryStreamCall, UnaryWithCall};
use crate::channel::Channel;
use rpc_core::{IntoRequest, IntoStreamingRequest};
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

macro_rules! multicallable {
    ($(#[$doc:meta])* $name:ident, $ctor:ident) => {
        $(#[$doc])*
        pub struct $name<Req, Resp> {
            channel: Channel,
            path: Arc<str>,
            _types: PhantomData<fn(Req) -> Resp>,
        }

        impl<Req, Resp> Clone for $name<Req, Resp> {
            fn clone(&self) -> Self {
                $name { channel: self.channel.clone(), path: self.path.clone(), _types: PhantomData }
            }
        }

        impl<Req, Resp> fmt::Debug for $name<Req, Resp> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).field("method", &self.path).finish()
            }
        }

        impl Channel {
            #[doc = concat!("A [`", stringify!($name), "`] for the method at `path` (e.g. `/pkg.Service/Method`).")]
            pub fn $ctor<Req, Resp>(&self, path: &str) -> $name<Req, Resp> {
                $name { channel: self.clone(), path: Arc::from(path), _types: PhantomData }
            }
        }

        impl<Req, Resp> $name<Req, Resp> {
            /// The method path.
            pub fn method(&self) -> &str {
                &self.path
            }
        }
    };
}

multicallable!(
    /// Calls a unary-unary method by path.
    UnaryUnaryMultiCallable, unary_unary
);
multicallable!(
    /// Calls a unary-stream method by path.
    UnaryStreamMultiCallable, unary_stream
);
multicallable!(
    /// Calls a stream-unary method by path.
    StreamUnaryMultiCallable, stream_unary
);
multicallable!(
    /// Calls a stream-stream method by path.
    StreamStreamMultiCallable, stream_stream
);

impl<Req, Resp> UnaryUnaryMultiCallable<Req, Resp>
where
    Req: prost::Message + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
{
    /// Starts the call; await it for the response.
    pub fn call(&self, request: impl IntoRequest<Req>) -> UnaryCall<Resp> {
        self.channel.start_unary_unary(&self.path, request.into_request())
    }
    /// Starts the call; resolves to the response with the call's details.
    pub fn with_call(&self, request: impl IntoRequest<Req>) -> UnaryWithCall<UnaryCall<Resp>> {
        UnaryWithCall::new(self.call(request))
    }
    /// Starts the call in the background (the same call object as [`call`](Self::call)).
    pub fn future(&self, request: impl IntoRequest<Req>) -> UnaryCall<Resp> {
        self.call(request)
    }
}

impl<Req, Resp> UnaryStreamMultiCallable<Req, Resp>
where
    Req: prost::Message + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
{
    /// Starts the call; read its responses as a `Stream` or with `read()`.
    pub fn call(&self, request: impl IntoRequest<Req>) -> UnaryStreamCall<Resp> {
        self.channel.start_unary_stream(&self.path, request.into_request())
    }
}

impl<Req, Resp> StreamUnaryMultiCallable<Req, Resp>
where
    Req: prost::Message + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
{
    /// Starts the call with a request source (an iterator, `rpc_core::stream(..)` or `WriteRequests`).
    pub fn call(&self, request: impl IntoStreamingRequest<Req>) -> StreamUnaryCall<Req, Resp> {
        self.channel.start_stream_unary(&self.path, request.into_streaming_request())
    }
    /// Starts the call; resolves to the response with the call's details.
    pub fn with_call(&self, request: impl IntoStreamingRequest<Req>) -> StreamUnaryWithCall<Req, Resp> {
        UnaryWithCall::new(self.call(request))
    }
    /// Starts the call in the background.
    pub fn future(&self, request: impl IntoStreamingRequest<Req>) -> StreamUnaryCall<Req, Resp> {
        self.call(request)
    }
}

impl<Req, Resp> StreamStreamMultiCallable<Req, Resp>
where
    Req: prost::Message + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
{
    /// Starts the call with a request source (an iterator, `rpc_core::stream(..)` or `WriteRequests`).
    pub fn call(&self, request: impl IntoStreamingRequest<Req>) -> StreamStreamCall<Req, Resp> {
        self.channel.start_stream_stream(&self.path, request.into_streaming_request())
    }
}
