//! `grpc.testing.TestService` as a blocking servicer (for `interop_server_sync`); the rules
//! are in [`crate::service`].

use crate::pb::{
    Empty, SimpleRequest, SimpleResponse, StreamingInputCallRequest, StreamingInputCallResponse, StreamingOutputCallRequest,
    StreamingOutputCallResponse, TestServiceServicer,
};
use crate::service::{self, InputTotal, Reply};
use rpc_core::{Metadata, RequestIterator, ResponseIterator, RpcError, ServicerContext};
use std::collections::VecDeque;

/// The interop test service with blocking handlers.
#[derive(Debug, Default, Clone, Copy)]
pub struct BlockingTestService;

/// Sends one reply: sleeps its delay on the worker thread (the server pulls the response
/// iterator there), then marks it plain if it asked to be.
fn send(reply: Reply, context: &ServicerContext) -> StreamingOutputCallResponse {
    std::thread::sleep(reply.delay);
    service::before_reply(&reply, context);
    reply.response
}

/// Answers each request as it arrives (FullDuplexCall), pulled by the server.
struct Duplex {
    requests: RequestIterator<StreamingOutputCallRequest>,
    queue: VecDeque<Reply>,
    context: ServicerContext,
    ended: bool,
}

impl Iterator for Duplex {
    type Item = Result<StreamingOutputCallResponse, RpcError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(reply) = self.queue.pop_front() {
                return Some(Ok(send(reply, &self.context)));
            }
            if self.ended {
                return None;
            }
            let next = match self.requests.next()? {
                Ok(request) => service::replies(&request, &self.context),
                Err(e) => Err(e),
            };
            match next {
                Ok(replies) => self.queue.extend(replies),
                Err(e) => {
                    self.ended = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

fn reply_iterator(replies: Vec<Reply>, context: &ServicerContext) -> ResponseIterator<StreamingOutputCallResponse> {
    let context = context.clone();
    ResponseIterator::new(replies.into_iter().map(move |r| Ok(send(r, &context))))
}

impl TestServiceServicer for BlockingTestService {
    fn empty_call(&self, _request: Empty, context: &ServicerContext) -> Result<Empty, RpcError> {
        service::echo_metadata(context, Metadata::new())?;
        Ok(Empty {})
    }

    fn unary_call(&self, request: SimpleRequest, context: &ServicerContext) -> Result<SimpleResponse, RpcError> {
        service::unary_call(request, context)
    }

    fn cacheable_unary_call(&self, request: SimpleRequest, context: &ServicerContext) -> Result<SimpleResponse, RpcError> {
        service::cacheable_unary_call(request, context)
    }

    fn streaming_output_call(
        &self,
        request: StreamingOutputCallRequest,
        context: &ServicerContext,
    ) -> Result<ResponseIterator<StreamingOutputCallResponse>, RpcError> {
        service::echo_metadata(context, Metadata::new())?;
        let replies = service::replies(&request, context)?;
        service::choose_stream_compression(&replies, context);
        Ok(reply_iterator(replies, context))
    }

    fn streaming_input_call(
        &self,
        requests: RequestIterator<StreamingInputCallRequest>,
        context: &ServicerContext,
    ) -> Result<StreamingInputCallResponse, RpcError> {
        service::echo_metadata(context, Metadata::new())?;
        let mut total = InputTotal::default();
        for request in requests {
            total.add(&request?, context)?;
        }
        Ok(StreamingInputCallResponse {
            aggregated_payload_size: total.0,
        })
    }

    fn full_duplex_call(
        &self,
        requests: RequestIterator<StreamingOutputCallRequest>,
        context: &ServicerContext,
    ) -> Result<ResponseIterator<StreamingOutputCallResponse>, RpcError> {
        service::echo_metadata(context, Metadata::new())?;
        Ok(ResponseIterator::new(Duplex {
            requests,
            queue: VecDeque::new(),
            context: context.clone(),
            ended: false,
        }))
    }

    fn half_duplex_call(
        &self,
        requests: RequestIterator<StreamingOutputCallRequest>,
        context: &ServicerContext,
    ) -> Result<ResponseIterator<StreamingOutputCallResponse>, RpcError> {
        service::echo_metadata(context, Metadata::new())?;
        let mut replies = Vec::new();
        for request in requests {
            replies.extend(service::replies(&request?, context)?);
        }
        Ok(reply_iterator(replies, context))
    }

    fn unimplemented_call(&self, _request: Empty, context: &ServicerContext) -> Result<Empty, RpcError> {
        service::echo_metadata(context, Metadata::new())?;
        Err(context.abort(
            rpc_core::StatusCode::Unimplemented,
            "UnimplementedCall is not implemented, as the interop tests require",
        ))
    }
}
