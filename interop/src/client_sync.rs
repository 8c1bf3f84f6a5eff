//! The interop test cases through the blocking face (`rpc_sync::Channel`), for
//! `interop_client_sync`.
//!
//! As in gRPC Python's interop client, the request-streaming cases that must react to each
//! response (ping_pong, cancel_after_first_response) feed their calls from a [`Pipe`]: a
//! blocking iterator the library pumps on its own threads while this thread reads.

use crate::args::ClientArgs;
use crate::cases::{self, CALL_TIMEOUT, Failure, Outcome, Report, ensure, expect_error};
use crate::pb::{Empty, StreamingInputCallRequest, StreamingOutputCallRequest, TestServiceStub, UnimplementedServiceStub};
use crate::tls;
use rpc_core::{Compression, OutgoingMessage, Request, RequestSource, RpcError, StatusCode};
use rpc_sync::Channel;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

/// The channel the flags describe: plaintext, or TLS verifying `--server_host_override`.
pub fn channel(args: &ClientArgs) -> Result<Channel, RpcError> {
    let (credentials, options) = tls::client_settings(args)?;
    rpc_sync::secure_channel(&args.target(), credentials, options)
}

/// Runs the cases `--test_case` names, printing one line each and the closing count.
pub fn run(args: &ClientArgs) -> ExitCode {
    let (names, client) = match cases::start(args, |target, credentials, options| {
        rpc_sync::secure_channel(target, credentials, options).map(SyncClient::new)
    }) {
        Ok(started) => started,
        Err(code) => return code,
    };
    let mut report = Report::default();
    for name in names {
        // Every call has its own timeout, so no case can block for ever.
        report.record(name, client.run_case(name));
    }
    report.finish()
}

fn request<T>(message: T) -> Request<T> {
    Request::new(message).timeout(CALL_TIMEOUT)
}

/// Requests written one at a time into a streaming call (gRPC Python's interop `_Pipe`).
/// Dropping or [`close`](Self::close)-ing it half-closes the call.
#[derive(Debug)]
pub struct Pipe<T> {
    tx: Option<mpsc::Sender<T>>,
}

impl<T: Send + 'static> Pipe<T> {
    /// A pipe and the blocking iterator to give the call.
    pub fn new() -> (Pipe<T>, mpsc::IntoIter<T>) {
        let (tx, rx) = mpsc::channel();
        (Pipe { tx: Some(tx) }, rx.into_iter())
    }

    /// Queues one request.
    pub fn write(&self, message: T) -> Outcome {
        match &self.tx {
            Some(tx) => tx
                .send(message)
                .map_err(|_| Failure("the call stopped reading requests".to_owned())),
            None => Err(Failure("write after close".to_owned())),
        }
    }

    /// Ends the requests.
    pub fn close(&mut self) {
        self.tx = None;
    }
}

/// The interop client over one blocking channel.
#[derive(Debug, Clone)]
pub struct SyncClient {
    stub: TestServiceStub<Channel>,
    unimplemented: UnimplementedServiceStub<Channel>,
}

impl SyncClient {
    /// A client on `channel`.
    pub fn new(channel: Channel) -> SyncClient {
        SyncClient {
            stub: TestServiceStub::new(channel.clone()),
            unimplemented: UnimplementedServiceStub::new(channel),
        }
    }

    /// Runs the case called `name`.
    pub fn run_case(&self, name: &str) -> Outcome {
        match name {
            "empty_unary" => self.empty_unary(),
            "large_unary" => self.large_unary(),
            "client_streaming" => self.client_streaming(),
            "server_streaming" => self.server_streaming(),
            "ping_pong" => self.ping_pong(),
            "empty_stream" => self.empty_stream(),
            "status_code_and_message" => self.status_code_and_message(cases::TEST_STATUS_MESSAGE),
            "special_status_message" => self.special_status_message(),
            "custom_metadata" => self.custom_metadata(),
            "unimplemented_method" => self.unimplemented_method(),
            "unimplemented_service" => self.unimplemented_service(),
            "cancel_after_begin" => self.cancel_after_begin(),
            "cancel_after_first_response" => self.cancel_after_first_response(),
            "timeout_on_sleeping_server" => self.timeout_on_sleeping_server(),
            "client_compressed_unary" => self.client_compressed_unary(),
            "server_compressed_unary" => self.server_compressed_unary(),
            "client_compressed_streaming" => self.client_compressed_streaming(),
            "server_compressed_streaming" => self.server_compressed_streaming(),
            other => Err(Failure(format!("unknown test case {other:?}"))),
        }
    }

    fn empty_unary(&self) -> Outcome {
        let response = self.stub.empty_call(request(Empty {}))?;
        ensure(response == Empty {}, || {
            format!("expected an empty response, got {}", cases::short(&response))
        })
    }

    fn large_unary(&self) -> Outcome {
        let response = self.stub.unary_call(request(cases::large_unary_request()))?;
        cases::check_large_unary(&response)
    }

    fn client_streaming(&self) -> Outcome {
        let response = self.stub.streaming_input_call(request(cases::client_streaming_requests()))?;
        ensure(response.aggregated_payload_size == cases::CLIENT_STREAMING_TOTAL, || {
            format!("aggregated_payload_size {}", response.aggregated_payload_size)
        })
    }

    fn server_streaming(&self) -> Outcome {
        let responses = self
            .stub
            .streaming_output_call(request(cases::server_streaming_request()))
            .collect::<Result<Vec<_>, _>>()?;
        cases::check_stream(&responses, &cases::SERVER_STREAMING_SIZES)
    }

    fn ping_pong(&self) -> Outcome {
        let (mut pipe, requests) = Pipe::new();
        let mut call = self.stub.full_duplex_call(request(requests));
        for (round, (message, size)) in cases::ping_pong_requests()
            .into_iter()
            .zip(cases::SERVER_STREAMING_SIZES)
            .enumerate()
        {
            pipe.write(message)?;
            let response = call
                .next()
                .ok_or_else(|| Failure(format!("the stream ended before reply {round}")))??;
            cases::check_payload(response.payload.as_ref(), size)?;
        }
        pipe.close();
        let extra = call.next().transpose()?;
        ensure(extra.is_none(), || "a response after the last round".to_owned())
    }

    fn empty_stream(&self) -> Outcome {
        let mut call = self.stub.full_duplex_call(request(Vec::<StreamingOutputCallRequest>::new()));
        let response = call.next().transpose()?;
        ensure(response.is_none(), || {
            format!("expected no response, got {}", cases::short(&response))
        })
    }

    fn status_code_and_message(&self, message: &str) -> Outcome {
        let unary = self.stub.unary_call(request(cases::status_unary_request(message)));
        expect_error(unary, StatusCode::Unknown, Some(message))?;
        let mut call = self.stub.full_duplex_call(request(vec![cases::status_duplex_request(message)]));
        expect_error(call.next().transpose(), StatusCode::Unknown, Some(message))?;
        let (code, details) = (call.code()?, call.details()?);
        ensure(code == StatusCode::Unknown && details == message, || {
            format!("the call reports {code} {details:?}")
        })
    }

    fn special_status_message(&self) -> Outcome {
        let unary = self
            .stub
            .unary_call(request(cases::status_unary_request(cases::SPECIAL_STATUS_MESSAGE)));
        expect_error(unary, StatusCode::Unknown, Some(cases::SPECIAL_STATUS_MESSAGE))
    }

    fn custom_metadata(&self) -> Outcome {
        let unary = request(cases::large_unary_request()).metadata(cases::custom_metadata());
        let (response, call) = self.stub.unary_call_with_call(unary)?;
        cases::check_large_unary(&response)?;
        cases::check_echoed(call.initial_metadata(), call.trailing_metadata())?;

        let duplex = request(vec![cases::custom_metadata_duplex_request()]).metadata(cases::custom_metadata());
        let mut call = self.stub.full_duplex_call(duplex);
        let responses = call.by_ref().collect::<Result<Vec<_>, _>>()?;
        cases::check_stream(&responses, &[cases::LARGE_RESPONSE])?;
        cases::check_echoed(&call.initial_metadata()?, &call.trailing_metadata()?)
    }

    fn unimplemented_method(&self) -> Outcome {
        expect_error(self.stub.unimplemented_call(request(Empty {})), StatusCode::Unimplemented, None)
    }

    fn unimplemented_service(&self) -> Outcome {
        expect_error(
            self.unimplemented.unimplemented_call(request(Empty {})),
            StatusCode::Unimplemented,
            None,
        )
    }

    fn cancel_after_begin(&self) -> Outcome {
        let (_pipe, requests) = Pipe::<StreamingInputCallRequest>::new();
        let mut call = self.stub.streaming_input_call_future(request(requests));
        ensure(call.cancel(), || "cancel() says the call had already ended".to_owned())?;
        ensure(call.cancelled(), || "cancelled() is false after cancel()".to_owned())?;
        expect_error(call.result(Some(CALL_TIMEOUT)).map_err(RpcError::from), StatusCode::Cancelled, None)
    }

    fn cancel_after_first_response(&self) -> Outcome {
        let (pipe, requests) = Pipe::new();
        let mut call = self.stub.full_duplex_call(request(requests));
        pipe.write(cases::duplex_request(31_415, 27_182))?;
        let first = call
            .next()
            .ok_or_else(|| Failure("the stream ended before the first response".to_owned()))??;
        cases::check_payload(first.payload.as_ref(), 31_415)?;
        call.cancel();
        expect_error(call.next().transpose(), StatusCode::Cancelled, None)?;
        let code = call.code()?;
        ensure(code == StatusCode::Cancelled, || format!("the call reports {code}"))
    }

    fn timeout_on_sleeping_server(&self) -> Outcome {
        let (pipe, requests) = Pipe::new();
        let mut call = self.stub.full_duplex_call(Request::new(requests).timeout(Duration::from_millis(1)));
        let message = StreamingOutputCallRequest {
            payload: cases::duplex_request(0, 27_182).payload,
            ..StreamingOutputCallRequest::default()
        };
        // The call may already have ended (and stopped reading requests): that is fine.
        let _ = pipe.write(message);
        expect_error(call.next().transpose(), StatusCode::DeadlineExceeded, None)
    }

    fn client_compressed_unary(&self) -> Outcome {
        // The probe: an uncompressed request that says it is compressed must be refused.
        let probe = self.stub.unary_call(request(cases::compressed_unary_request(Some(true), None)));
        expect_error(probe, StatusCode::InvalidArgument, None)?;
        for compressed in [true, false] {
            let mut message = request(cases::compressed_unary_request(Some(compressed), None));
            if compressed {
                message = message.compression(Compression::Gzip);
            }
            cases::check_large_unary(&self.stub.unary_call(message)?)?;
        }
        Ok(())
    }

    fn server_compressed_unary(&self) -> Outcome {
        // The payloads are checked; whether each arrived compressed is not visible here.
        for compressed in [true, false] {
            let response = self
                .stub
                .unary_call(request(cases::compressed_unary_request(None, Some(compressed))))?;
            cases::check_large_unary(&response)?;
        }
        Ok(())
    }

    fn client_compressed_streaming(&self) -> Outcome {
        let probe = vec![cases::compressed_input_request(true, cases::COMPRESSED_STREAMING_SIZES[0])];
        expect_error(self.stub.streaming_input_call(request(probe)), StatusCode::InvalidArgument, None)?;
        // The call is compressed; its second message, which says it is not, goes out
        // uncompressed (each gRPC message carries its own compressed flag).
        let [first, second] = cases::COMPRESSED_STREAMING_SIZES;
        let messages = RequestSource::messages(vec![
            OutgoingMessage::new(cases::compressed_input_request(true, first)),
            OutgoingMessage::new(cases::compressed_input_request(false, second)).uncompressed(),
        ]);
        let response = self.stub.streaming_input_call(request(messages).compression(Compression::Gzip))?;
        ensure(response.aggregated_payload_size == cases::COMPRESSED_STREAMING_TOTAL, || {
            format!("aggregated_payload_size {}", response.aggregated_payload_size)
        })
    }

    fn server_compressed_streaming(&self) -> Outcome {
        let call = self
            .stub
            .streaming_output_call(request(cases::server_compressed_streaming_request()));
        let responses = call.collect::<Result<Vec<_>, _>>()?;
        cases::check_stream(&responses, &cases::SERVER_COMPRESSED_SIZES)
    }
}
