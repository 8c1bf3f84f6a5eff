//! The interop test cases through the async face (`rpc_aio::Channel`), for `interop_client_aio`.

use crate::args::ClientArgs;
use crate::cases::{self, CALL_TIMEOUT, Failure, Outcome, Report, ensure, expect_error};
use crate::pb::{Empty, StreamingOutputCallRequest, TestServiceStub, UnimplementedServiceStub};
use crate::tls;
use futures::StreamExt;
use rpc_aio::Channel;
use rpc_core::{Compression, OutgoingMessage, Request, RequestSource, RpcError, StatusCode, WriteRequests};
use std::process::ExitCode;
use std::time::Duration;

/// The channel the flags describe: plaintext, or TLS verifying `--server_host_override`.
pub fn channel(args: &ClientArgs) -> Result<Channel, RpcError> {
    let (credentials, options) = tls::client_settings(args)?;
    rpc_aio::secure_channel(&args.target(), credentials, options)
}

/// Runs the cases `--test_case` names, printing one line each and the closing count.
pub async fn run(args: &ClientArgs) -> ExitCode {
    let (names, client) = match cases::start(args, |target, credentials, options| {
        rpc_aio::secure_channel(target, credentials, options).map(AioClient::new)
    }) {
        Ok(started) => started,
        Err(code) => return code,
    };
    let mut report = Report::default();
    for name in names {
        // Every call has its own timeout; this bound only catches a case that hangs between calls.
        let outcome = tokio::time::timeout(CALL_TIMEOUT * 3, client.run_case(name))
            .await
            .unwrap_or_else(|_| Err(Failure("the case did not finish in time".to_owned())));
        report.record(name, outcome);
    }
    report.finish()
}

fn request<T>(message: T) -> Request<T> {
    Request::new(message).timeout(CALL_TIMEOUT)
}

/// The interop client over one async channel.
#[derive(Debug, Clone)]
pub struct AioClient {
    stub: TestServiceStub<Channel>,
    unimplemented: UnimplementedServiceStub<Channel>,
}

impl AioClient {
    /// A client on `channel`.
    pub fn new(channel: Channel) -> AioClient {
        AioClient {
            stub: TestServiceStub::new(channel.clone()),
            unimplemented: UnimplementedServiceStub::new(channel),
        }
    }

    /// Runs the case called `name`.
    pub async fn run_case(&self, name: &str) -> Outcome {
        match name {
            "empty_unary" => self.empty_unary().await,
            "large_unary" => self.large_unary().await,
            "client_streaming" => self.client_streaming().await,
            "server_streaming" => self.server_streaming().await,
            "ping_pong" => self.ping_pong().await,
            "empty_stream" => self.empty_stream().await,
            "status_code_and_message" => self.status_code_and_message(cases::TEST_STATUS_MESSAGE).await,
            "special_status_message" => self.special_status_message().await,
            "custom_metadata" => self.custom_metadata().await,
            "unimplemented_method" => self.unimplemented_method().await,
            "unimplemented_service" => self.unimplemented_service().await,
            "cancel_after_begin" => self.cancel_after_begin().await,
            "cancel_after_first_response" => self.cancel_after_first_response().await,
            "timeout_on_sleeping_server" => self.timeout_on_sleeping_server().await,
            "client_compressed_unary" => self.client_compressed_unary().await,
            "server_compressed_unary" => self.server_compressed_unary().await,
            "client_compressed_streaming" => self.client_compressed_streaming().await,
            "server_compressed_streaming" => self.server_compressed_streaming().await,
            other => Err(Failure(format!("unknown test case {other:?}"))),
        }
    }

    async fn empty_unary(&self) -> Outcome {
        let response = self.stub.empty_call(request(Empty {})).await?;
        ensure(response == Empty {}, || {
            format!("expected an empty response, got {}", cases::short(&response))
        })
    }

    async fn large_unary(&self) -> Outcome {
        let response = self.stub.unary_call(request(cases::large_unary_request())).await?;
        cases::check_large_unary(&response)
    }

    async fn client_streaming(&self) -> Outcome {
        let response = self.stub.streaming_input_call(request(cases::client_streaming_requests())).await?;
        ensure(response.aggregated_payload_size == cases::CLIENT_STREAMING_TOTAL, || {
            format!("aggregated_payload_size {}", response.aggregated_payload_size)
        })
    }

    async fn server_streaming(&self) -> Outcome {
        let call = self.stub.streaming_output_call(request(cases::server_streaming_request()));
        let responses: Vec<_> = call.collect::<Vec<_>>().await.into_iter().collect::<Result<_, _>>()?;
        cases::check_stream(&responses, &cases::SERVER_STREAMING_SIZES)
    }

    async fn ping_pong(&self) -> Outcome {
        let mut call = self.stub.full_duplex_call(request(WriteRequests));
        for (round, (message, size)) in cases::ping_pong_requests()
            .into_iter()
            .zip(cases::SERVER_STREAMING_SIZES)
            .enumerate()
        {
            call.write(message).await?;
            let response = call
                .read()
                .await?
                .ok_or_else(|| Failure(format!("the stream ended before reply {round}")))?;
            cases::check_payload(response.payload.as_ref(), size)?;
        }
        call.done_writing().await?;
        let extra = call.read().await?;
        ensure(extra.is_none(), || "a response after the last round".to_owned())
    }

    async fn empty_stream(&self) -> Outcome {
        let mut call = self.stub.full_duplex_call(request(WriteRequests));
        call.done_writing().await?;
        let response = call.read().await?;
        ensure(response.is_none(), || {
            format!("expected no response, got {}", cases::short(&response))
        })
    }

    async fn status_code_and_message(&self, message: &str) -> Outcome {
        let unary = self.stub.unary_call(request(cases::status_unary_request(message))).await;
        expect_error(unary, StatusCode::Unknown, Some(message))?;
        let mut call = self.stub.full_duplex_call(request(WriteRequests));
        call.write(cases::status_duplex_request(message)).await?;
        call.done_writing().await?;
        expect_error(call.read().await, StatusCode::Unknown, Some(message))?;
        let (code, details) = (call.code().await, call.details().await);
        ensure(code == StatusCode::Unknown && details == message, || {
            format!("the call reports {code} {details:?}")
        })
    }

    async fn special_status_message(&self) -> Outcome {
        let unary = self
            .stub
            .unary_call(request(cases::status_unary_request(cases::SPECIAL_STATUS_MESSAGE)))
            .await;
        expect_error(unary, StatusCode::Unknown, Some(cases::SPECIAL_STATUS_MESSAGE))
    }

    async fn custom_metadata(&self) -> Outcome {
        let unary = request(cases::large_unary_request()).metadata(cases::custom_metadata());
        let (response, call) = self.stub.unary_call_with_call(unary).await?;
        cases::check_large_unary(&response)?;
        cases::check_echoed(call.initial_metadata(), call.trailing_metadata())?;

        let mut call = self
            .stub
            .full_duplex_call(request(WriteRequests).metadata(cases::custom_metadata()));
        call.write(cases::custom_metadata_duplex_request()).await?;
        call.done_writing().await?;
        let mut responses = Vec::new();
        while let Some(r) = call.read().await? {
            responses.push(r);
        }
        cases::check_stream(&responses, &[cases::LARGE_RESPONSE])?;
        let initial = call.initial_metadata().await?;
        cases::check_echoed(&initial, &call.trailing_metadata().await)
    }

    async fn unimplemented_method(&self) -> Outcome {
        expect_error(
            self.stub.unimplemented_call(request(Empty {})).await,
            StatusCode::Unimplemented,
            None,
        )
    }

    async fn unimplemented_service(&self) -> Outcome {
        expect_error(
            self.unimplemented.unimplemented_call(request(Empty {})).await,
            StatusCode::Unimplemented,
            None,
        )
    }

    async fn cancel_after_begin(&self) -> Outcome {
        let call = self.stub.streaming_input_call(request(WriteRequests));
        ensure(call.cancel(), || "cancel() says the call had already ended".to_owned())?;
        ensure(call.cancelled(), || "cancelled() is false after cancel()".to_owned())?;
        expect_error(call.await, StatusCode::Cancelled, None)
    }

    async fn cancel_after_first_response(&self) -> Outcome {
        let mut call = self.stub.full_duplex_call(request(WriteRequests));
        call.write(cases::duplex_request(31_415, 27_182)).await?;
        let first = call
            .read()
            .await?
            .ok_or_else(|| Failure("the stream ended before the first response".to_owned()))?;
        cases::check_payload(first.payload.as_ref(), 31_415)?;
        call.cancel();
        expect_error(call.read().await, StatusCode::Cancelled, None)?;
        let code = call.code().await;
        ensure(code == StatusCode::Cancelled, || format!("the call reports {code}"))
    }

    async fn timeout_on_sleeping_server(&self) -> Outcome {
        let sleepy = Request::new(WriteRequests).timeout(Duration::from_millis(1));
        let mut call = self.stub.full_duplex_call(sleepy);
        let message = StreamingOutputCallRequest {
            payload: cases::duplex_request(0, 27_182).payload,
            ..StreamingOutputCallRequest::default()
        };
        // The deadline may pass before the write: then the write reports it.
        if let Err(e) = call.write(message).await {
            return expect_error::<()>(Err(e), StatusCode::DeadlineExceeded, None);
        }
        expect_error(call.read().await, StatusCode::DeadlineExceeded, None)
    }

    async fn client_compressed_unary(&self) -> Outcome {
        // The probe: an uncompressed request that says it is compressed must be refused.
        let probe = self
            .stub
            .unary_call(request(cases::compressed_unary_request(Some(true), None)))
            .await;
        expect_error(probe, StatusCode::InvalidArgument, None)?;
        for compressed in [true, false] {
            let mut message = request(cases::compressed_unary_request(Some(compressed), None));
            if compressed {
                message = message.compression(Compression::Gzip);
            }
            let response = self.stub.unary_call(message).await?;
            cases::check_large_unary(&response)?;
        }
        Ok(())
    }

    async fn server_compressed_unary(&self) -> Outcome {
        // The payloads are checked; whether each arrived compressed is not visible here.
        for compressed in [true, false] {
            let response = self
                .stub
                .unary_call(request(cases::compressed_unary_request(None, Some(compressed))))
                .await?;
            cases::check_large_unary(&response)?;
        }
        Ok(())
    }

    async fn client_compressed_streaming(&self) -> Outcome {
        let probe = vec![cases::compressed_input_request(true, cases::COMPRESSED_STREAMING_SIZES[0])];
        expect_error(
            self.stub.streaming_input_call(request(probe)).await,
            StatusCode::InvalidArgument,
            None,
        )?;
        // The call is compressed; its second message, which says it is not, goes out
        // uncompressed (each gRPC message carries its own compressed flag).
        let [first, second] = cases::COMPRESSED_STREAMING_SIZES;
        let messages = RequestSource::messages(vec![
            OutgoingMessage::new(cases::compressed_input_request(true, first)),
            OutgoingMessage::new(cases::compressed_input_request(false, second)).uncompressed(),
        ]);
        let response = self
            .stub
            .streaming_input_call(request(messages).compression(Compression::Gzip))
            .await?;
        ensure(response.aggregated_payload_size == cases::COMPRESSED_STREAMING_TOTAL, || {
            format!("aggregated_payload_size {}", response.aggregated_payload_size)
        })
    }

    async fn server_compressed_streaming(&self) -> Outcome {
        let call = self
            .stub
            .streaming_output_call(request(cases::server_compressed_streaming_request()));
        let responses: Vec<_> = call.collect::<Vec<_>>().await.into_iter().collect::<Result<_, _>>()?;
        cases::check_stream(&responses, &cases::SERVER_COMPRESSED_SIZES)
    }
}
