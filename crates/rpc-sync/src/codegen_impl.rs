//! `impl rpc_core::codegen::Channel for Channel`: what generated stubs call. Each method
//! starts the rpc-aio call and wraps it (or blocks on it).

use crate::call::{CallDetails, StreamStreamCall, StreamUnaryCall, UnaryCall, UnaryStreamCall, blocking, prepare};
use crate::channel::Channel;
use rpc_core::codegen::{Channel as StubChannel, MethodDescriptor};
use rpc_core::{Request, RequestSource, RpcError};

impl StubChannel for Channel {
    type Unary<Resp: prost::Message + Default + Send + 'static> = Result<Resp, RpcError>;
    type UnaryWithCall<Resp: prost::Message + Default + Send + 'static> = Result<(Resp, CallDetails), RpcError>;
    type UnaryFuture<Resp: prost::Message + Default + Send + 'static> = UnaryCall<Resp>;
    type Streaming<Resp: prost::Message + Default + Send + 'static> = UnaryStreamCall<Resp>;
    type StreamUnary<Req: prost::Message + Send + 'static, Resp: prost::Message + Default + Send + 'static> = Result<Resp, RpcError>;
    type StreamUnaryWithCall<Req: prost::Message + Send + 'static, Resp: prost::Message + Default + Send + 'static> =
        Result<(Resp, CallDetails), RpcError>;
    type StreamUnaryFuture<Req: prost::Message + Send + 'static, Resp: prost::Message + Default + Send + 'static> =
        StreamUnaryCall<Req, Resp>;
    type StreamStream<Req: prost::Message + Send + 'static, Resp: prost::Message + Default + Send + 'static> = StreamStreamCall<Req, Resp>;

    fn unary_unary<Req, Resp>(&self, method: &'static MethodDescriptor, request: Request<Req>) -> Result<Resp, RpcError>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        blocking(self.runtime(), || {
            StubChannel::unary_unary::<Req, Resp>(self.as_aio(), method, request)
        })
    }

    fn unary_unary_with_call<Req, Resp>(
        &self,
        method: &'static MethodDescriptor,
        request: Request<Req>,
    ) -> Result<(Resp, CallDetails), RpcError>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        blocking(self.runtime(), || {
            StubChannel::unary_unary_with_call::<Req, Resp>(self.as_aio(), method, request)
        })
    }

    fn unary_unary_future<Req, Resp>(&self, method: &'static MethodDescriptor, request: Request<Req>) -> UnaryCall<Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        UnaryCall::new(StubChannel::unary_unary_future(self.as_aio(), method, request), self.runtime())
    }

    fn unary_stream<Req, Resp>(&self, method: &'static MethodDescriptor, request: Request<Req>) -> UnaryStreamCall<Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        UnaryStreamCall::new(StubChannel::unary_stream(self.as_aio(), method, request), self.runtime())
    }

    fn stream_unary<Req, Resp>(&self, method: &'static MethodDescriptor, request: Request<RequestSource<Req>>) -> Result<Resp, RpcError>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        let (refuse, request) = prepare(self, request);
        let aio = refuse.as_ref().unwrap_or(self.as_aio());
        blocking(self.runtime(), || StubChannel::stream_unary::<Req, Resp>(aio, method, request))
    }

    fn stream_unary_with_call<Req, Resp>(
        &self,
        method: &'static MethodDescriptor,
        request: Request<RequestSource<Req>>,
    ) -> Result<(Resp, CallDetails), RpcError>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        let (refuse, request) = prepare(self, request);
        let aio = refuse.as_ref().unwrap_or(self.as_aio());
        blocking(self.runtime(), || {
            StubChannel::stream_unary_with_call::<Req, Resp>(aio, method, request)
        })
    }

    fn stream_unary_future<Req, Resp>(
        &self,
        method: &'static MethodDescriptor,
        request: Request<RequestSource<Req>>,
    ) -> StreamUnaryCall<Req, Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        let (refuse, request) = prepare(self, request);
        let aio = refuse.as_ref().unwrap_or(self.as_aio());
        StreamUnaryCall::new(StubChannel::stream_unary_future(aio, method, request), self.runtime())
    }

    fn stream_stream<Req, Resp>(
        &self,
        method: &'static MethodDescriptor,
        request: Request<RequestSource<Req>>,
    ) -> StreamStreamCall<Req, Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        let (refuse, request) = prepare(self, request);
        let aio = refuse.as_ref().unwrap_or(self.as_aio());
        StreamStreamCall::new(StubChannel::stream_stream(aio, method, request), self.runtime())
    }
}
