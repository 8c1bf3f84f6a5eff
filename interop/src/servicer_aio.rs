//! `grpc.testing.TestService` as an async servicer (for `interop_server_aio`); the rules are
//! in [`crate::service`].

use crate::pb::{
    AsyncTestServiceServicer, Empty, SimpleRequest, SimpleResponse, StreamingInputCallRequest, StreamingInputCallResponse,
    StreamingOutputCallRequest, StreamingOutputCallResponse,
};
use crate::service::{self, InputTotal, Reply};
use futures::stream::{self, Stream};
use rpc_core::{Metadata, RequestStream, ResponseStream, RpcError, ServicerContext};
use std::collections::VecDeque;

/// The interop test service with async handlers.
#[derive(Debug, Default, Clone, Copy)]
pub struct AsyncTestService;

/// Sends `replies` in order, each after its delay.
fn send_replies(replies: Vec<Reply>, context: ServicerContext) -> impl Stream<Item = Result<StreamingOutputCallResponse, RpcError>> {
    stream::unfold((VecDeque::from(replies), context), |(mut queue, context)| async move {
        let reply = queue.pop_front()?;
        tokio::time::sleep(reply.delay).await;
        service::before_reply(&reply, &context);
        Some((Ok(reply.response), (queue, context)))
    })
}

/// What a full-duplex stream is doing between replies.
struct Duplex {
    requests: RequestStream<StreamingOutputCallRequest>,
    queue: VecDeque<Reply>,
    context: ServicerContext,
    ended: bool,
}

/// Answers each request as it arrives (FullDuplexCall): its replies go out before the next
/// request is read; an echoed status or a broken request stream ends the RPC.
fn full_duplex(duplex: Duplex) -> impl Stream<Item = Result<StreamingOutputCallResponse, RpcError>> {
    stream::unfold(duplex, |mut d| async move {
        loop {
            if let Some(reply) = d.queue.pop_front() {
                tokio::time::sleep(reply.delay).await;
                service::before_reply(&reply, &d.context);
                return Some((Ok(reply.response), d));
            }
            if d.ended {
                return None;
            }
            let next = match d.requests.message().await {
                Ok(Some(request)) => service::replies(&request, &d.context),
                Ok(None) => return None,
                Err(e) => Err(e),
            };
            match next {
                Ok(replies) => d.queue.extend(replies),
                Err(e) => {
                    d.ended = true;
                    return Some((Err(e), d));
                }
            }
        }
    })
}

impl AsyncTestServiceServicer for AsyncTestService {
    async fn empty_call(&self, _request: Empty, context: &ServicerContext) -> Result<Empty, RpcError> {
        service::echo_metadata(context, Metadata::new())?;
        Ok(Empty {})
    }

    async fn unary_call(&self, request: SimpleRequest, context: &ServicerContext) -> Result<SimpleResponse, RpcError> {
        service::unary_call(request, context)
    }

    async fn cacheable_unary_call(&self, request: SimpleRequest, context: &ServicerContext) -> Result<SimpleResponse, RpcError> {
        service::cacheable_unary_call(request, context)
    }

    async fn streaming_output_call(
        &self,
        request: StreamingOutputCallRequest,
        context: &ServicerContext,
    ) -> Result<ResponseStream<StreamingOutputCallResponse>, RpcError> {
        service::echo_metadata(context, Metadata::new())?;
        let replies = service::replies(&request, context)?;
        service::choose_stream_compression(&replies, context);
        Ok(ResponseStream::new(send_replies(replies, context.clone())))
    }

    async fn streaming_input_call(
        &self,
        mut requests: RequestStream<StreamingInputCallRequest>,
        context: &ServicerContext,
    ) -> Result<StreamingInputCallResponse, RpcError> {
        service::echo_metadata(context, Metadata::new())?;
        let mut total = InputTotal::default();
        while let Some(request) = requests.message().await? {
            total.add(&request, context)?;
        }
        Ok(StreamingInputCallResponse {
            aggregated_payload_size: total.0,
        })
    }

    async fn full_duplex_call(
        &self,
        requests: RequestStream<StreamingOutputCallRequest>,
        context: &ServicerContext,
    ) -> Result<ResponseStream<StreamingOutputCallResponse>, RpcError> {
        service::echo_metadata(context, Metadata::new())?;
        let duplex = Duplex {
            requests,
            queue: VecDeque::new(),
            context: context.clone(),
            ended: false,
        };
        Ok(ResponseStream::new(full_duplex(duplex)))
    }

    async fn half_duplex_call(
        &self,
        mut requests: RequestStream<StreamingOutputCallRequest>,
        context: &ServicerContext,
    ) -> Result<ResponseStream<StreamingOutputCallResponse>, RpcError> {
        service::echo_metadata(context, Metadata::new())?;
        let mut replies = Vec::new();
        while let Some(request) = requests.message().await? {
            replies.extend(service::replies(&request, context)?);
        }
        Ok(ResponseStream::new(send_replies(replies, context.clone())))
    }

    async fn unimplemented_call(&self, _request: Empty, context: &ServicerContext) -> Result<Empty, RpcError> {
        service::echo_metadata(context, Metadata::new())?;
        Err(context.abort(
            rpc_core::StatusCode::Unimplemented,
            "UnimplementedCall is not implemented, as the interop tests require",
        ))
    }
}
