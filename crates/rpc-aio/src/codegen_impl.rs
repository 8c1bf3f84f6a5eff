//! `impl rpc_core::codegen::Channel for Channel`: what generated stubs call.

use crate::call::{StreamStreamCall, StreamUnaryCall, StreamUnaryWithCall, UnaryCall, UnaryStreamCall, UnaryWithCall};
use crate::channel::Channel;
use rpc_core::codegen::MethodDescriptor;
use rpc_core::{Request, RequestSource};

impl rpc_core::codegen::Channel for Channel {
    type Unary<Resp: prost::Message + Default + Send + 'static> = UnaryCall<Resp>;
    type UnaryWithCall<Resp: prost::Message + Default + Send + 'static> = UnaryWithCall<UnaryCall<Resp>>;
    type UnaryFuture<Resp: prost::Message + Default + Send + 'static> = UnaryCall<Resp>;
    type Streaming<Resp: prost::Message + Default + Send + 'static> = UnaryStreamCall<Resp>;
    type StreamUnary<Req: prost::Message + Send + 'static, Resp: prost::Message + Default + Send + 'static> = StreamUnaryCall<Req, Resp>;
    type StreamUnaryWithCall<Req: prost::Message + Send + 'static, Resp: prost::Message + Default + Send + 'static> =
        StreamUnaryWithCall<Req, Resp>;
    type StreamUnaryFuture<Req: prost::Message + Send + 'static, Resp: prost::Message + Default + Send + 'static> =
        StreamUnaryCall<Req, Resp>;
    type StreamStream<Req: prost::Message + Send + 'static, Resp: prost::Message + Default + Send + 'static> = StreamStreamCall<Req, Resp>;

    fn unary_unary<Req, Resp>(&self, method: &'static MethodDescriptor, request: Request<Req>) -> UnaryCall<Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        self.start_unary_unary(method.path, request)
    }

    fn unary_unary_with_call<Req, Resp>(&self, method: &'static MethodDescriptor, request: Request<Req>) -> UnaryWithCall<UnaryCall<Resp>>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        UnaryWithCall::new(self.start_unary_unary(method.path, request))
    }

    fn unary_unary_future<Req, Resp>(&self, method: &'static MethodDescriptor, request: Request<Req>) -> UnaryCall<Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        self.start_unary_unary(method.path, request)
    }

    fn unary_stream<Req, Resp>(&self, method: &'static MethodDescriptor, request: Request<Req>) -> UnaryStreamCall<Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        self.start_unary_stream(method.path, request)
    }

    fn stream_unary<Req, Resp>(&self, method: &'static MethodDescriptor, request: Request<RequestSource<Req>>) -> StreamUnaryCall<Req, Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        self.start_stream_unary(method.path, request)
    }

    fn stream_unary_with_call<Req, Resp>(
        &self,
        method: &'static MethodDescriptor,
        request: Request<RequestSource<Req>>,
    ) -> StreamUnaryWithCall<Req, Resp>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        UnaryWithCall::new(self.start_stream_unary(method.path, request))
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
        self.start_stream_unary(method.path, request)
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
        self.start_stream_stream(method.path, request)
    }
}
