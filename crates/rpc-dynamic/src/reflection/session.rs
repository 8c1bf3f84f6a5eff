//! `Session`: one ServerReflectionInfo stream (v1 or v1alpha) on which batches of
//! questions are written and their answers, one per question and in order, are read.

use super::ReflectionVersion;
use crate::error::Error;
use prost::Message;
use rpc_core::{Metadata, Request, RpcError, StatusCode, WriteRequests};
use rpc_reflection::pb::{v1, v1alpha};
use std::time::Duration;
use v1::server_reflection_request::MessageRequest;
use v1::server_reflection_response::MessageResponse;

/// What one session needs to open its stream.
#[derive(Clone, Debug, Default)]
pub(crate) struct CallSettings {
    pub(crate) metadata: Metadata,
    pub(crate) timeout: Option<Duration>,
}

enum Stream {
    V1(rpc_aio::StreamStreamCall<v1::ServerReflectionRequest, v1::ServerReflectionResponse>),
    V1Alpha(rpc_aio::StreamStreamCall<v1alpha::ServerReflectionRequest, v1alpha::ServerReflectionResponse>),
}

/// One open reflection stream.
pub(crate) struct Session {
    stream: Stream,
}

impl Session {
    /// Opens a stream of `version` (nothing is sent until the first batch).
    pub(crate) fn open(channel: &rpc_aio::Channel, version: ReflectionVersion, settings: &CallSettings) -> Session {
        let mut request = Request::new(WriteRequests).metadata(settings.metadata.clone());
        if let Some(timeout) = settings.timeout {
            request = request.timeout(timeout);
        }
        let stream = match version {
            ReflectionVersion::V1 => Stream::V1(v1::ServerReflectionStub::new(channel.clone()).server_reflection_info(request)),
            ReflectionVersion::V1Alpha => {
                Stream::V1Alpha(v1alpha::ServerReflectionStub::new(channel.clone()).server_reflection_info(request))
            }
        };
        Session { stream }
    }

    /// Opens a v1 stream and asks `questions`; if the server does not implement v1, opens a
    /// v1alpha stream and asks again. Returns the session, the version it speaks and the
    /// answers. `preferred` skips the probe when the version is already known.
    pub(crate) async fn negotiate(
        channel: &rpc_aio::Channel,
        preferred: Option<ReflectionVersion>,
        settings: &CallSettings,
        questions: Vec<MessageRequest>,
    ) -> Result<(Session, ReflectionVersion, Vec<MessageResponse>), RpcError> {
        let first = preferred.unwrap_or(ReflectionVersion::V1);
        let mut session = Session::open(channel, first, settings);
        match session.ask(questions.clone()).await {
            Ok(answers) => Ok((session, first, answers)),
            Err(e) if e.code() == StatusCode::Unimplemented && preferred.is_none() => {
                let mut session = Session::open(channel, ReflectionVersion::V1Alpha, settings);
                let answers = session.ask(questions).await?;
                Ok((session, ReflectionVersion::V1Alpha, answers))
            }
            Err(e) => Err(e),
        }
    }

    /// Writes `questions`, then reads one answer for each.
    pub(crate) async fn ask(&mut self, questions: Vec<MessageRequest>) -> Result<Vec<MessageResponse>, RpcError> {
        let count = questions.len();
        for question in questions {
            let request = v1::ServerReflectionRequest {
                host: String::new(),
                message_request: Some(question),
            };
            if let Err(write_error) = self.write(request).await {
                // A failed write usually means the call ended; its status says why.
                return Err(match self.read().await {
                    Err(status) => status,
                    Ok(_) => write_error,
                });
            }
        }
        let mut answers = Vec::with_capacity(count);
        for _ in 0..count {
            match self.read().await? {
                Some(response) => match response.message_response {
                    Some(answer) => answers.push(answer),
                    None => return Err(RpcError::new(StatusCode::Internal, "a reflection response without an answer")),
                },
                None => {
                    return Err(RpcError::new(
                        StatusCode::Internal,
                        "the server ended the reflection stream before answering every request",
                    ));
                }
            }
        }
        Ok(answers)
    }

    /// Says no more questions will come (the server then ends the stream).
    pub(crate) async fn finish(mut self) {
        let _ = match &mut self.stream {
            Stream::V1(call) => call.done_writing().await,
            Stream::V1Alpha(call) => call.done_writing().await,
        };
    }

    async fn write(&mut self, request: v1::ServerReflectionRequest) -> Result<(), RpcError> {
        match &mut self.stream {
            Stream::V1(call) => call.write(request).await,
            Stream::V1Alpha(call) => call.write(convert(&request)).await,
        }
    }

    async fn read(&mut self) -> Result<Option<v1::ServerReflectionResponse>, RpcError> {
        match &mut self.stream {
            Stream::V1(call) => call.read().await,
            Stream::V1Alpha(call) => Ok(call.read().await?.map(|r| convert(&r))),
        }
    }
}

/// Re-types a message between the two versions, whose messages are the same on the wire.
fn convert<A: Message, B: Message + Default>(message: &A) -> B {
    // Identical schemas: what was just encoded decodes.
    B::decode(message.encode_to_vec().as_slice()).unwrap_or_default()
}

/// Wraps a failed call into an [`Error`] that says what it was for.
pub(crate) fn call_error(what: &str) -> impl FnOnce(RpcError) -> Error + '_ {
    move |e| Error::rpc(what, e)
}
