//! The client test cases, face-neutral: their names, the requests they send and the checks
//! they make (after gRPC's `doc/interop-test-descriptions.md`), and the report that prints
//! one line per case and the closing `N passed, M failed`.
//!
//! [`crate::client_aio`] and [`crate::client_sync`] run the same cases through each face.

use crate::pb::{
    BoolValue, EchoStatus, Payload, ResponseParameters, SimpleRequest, SimpleResponse, StreamingInputCallRequest,
    StreamingOutputCallRequest, StreamingOutputCallResponse,
};
use crate::service::{ECHO_INITIAL_KEY, ECHO_TRAILING_KEY, zeros};
use rpc_core::{ChannelOptions, Metadata, RpcError, StatusCode};
use std::fmt;
use std::process::ExitCode;
use std::time::Duration;

/// Every case the clients run, in the order `all` runs them.
pub const ALL: &[&str] = &[
    "empty_unary",
    "large_unary",
    "client_streaming",
    "server_streaming",
    "ping_pong",
    "empty_stream",
    "status_code_and_message",
    "special_status_message",
    "custom_metadata",
    "unimplemented_method",
    "unimplemented_service",
    "cancel_after_begin",
    "cancel_after_first_response",
    "timeout_on_sleeping_server",
    "client_compressed_unary",
    "server_compressed_unary",
    "client_compressed_streaming",
    "server_compressed_streaming",
];

/// The timeout of each call of a case, so a broken peer fails a case instead of hanging it.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// Parses `--test_case`: one name, a comma-separated list, or `all`.
pub fn parse(spec: &str) -> Result<Vec<&'static str>, String> {
    if spec.trim() == "all" {
        return Ok(ALL.to_vec());
    }
    spec.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|name| {
            ALL.iter()
                .copied()
                .find(|c| *c == name)
                .ok_or_else(|| format!("unknown test case {name:?}"))
        })
        .collect::<Result<Vec<_>, _>>()
        .and_then(|v| {
            if v.is_empty() {
                Err("no test case given".to_owned())
            } else {
                Ok(v)
            }
        })
}

/// Why a case failed.
#[derive(Debug)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<RpcError> for Failure {
    fn from(e: RpcError) -> Failure {
        Failure(format!("unexpected error: {e}"))
    }
}

/// The outcome of one case.
pub type Outcome = Result<(), Failure>;

/// Fails with `why()` unless `condition` holds.
pub fn ensure(condition: bool, why: impl FnOnce() -> String) -> Outcome {
    if condition { Ok(()) } else { Err(Failure(why())) }
}

/// Checks that a call failed with `code` (and, if given, exactly `details`).
pub fn expect_error<T: fmt::Debug>(result: Result<T, RpcError>, code: StatusCode, details: Option<&str>) -> Outcome {
    match result {
        Ok(v) => Err(Failure(format!("expected {code}, the call succeeded with {}", short(&v)))),
        Err(e) => {
            ensure(e.code() == code, || format!("expected {code}, got {}: {:?}", e.code(), e.details()))?;
            match details {
                Some(d) => ensure(e.details() == d, || format!("expected details {d:?}, got {:?}", e.details())),
                None => Ok(()),
            }
        }
    }
}

/// A value's `Debug` form cut to a readable length (payloads are large).
pub fn short(value: &impl fmt::Debug) -> String {
    const LIMIT: usize = 120;
    let text = format!("{value:?}");
    match text.char_indices().nth(LIMIT) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text,
    }
}

/// Checks a payload: `size` bytes, all zero.
pub fn check_payload(payload: Option<&Payload>, size: usize) -> Outcome {
    let body = payload.map_or(&[][..], |p| &p.body[..]);
    ensure(body.len() == size, || {
        format!("expected a payload of {size} bytes, got {}", body.len())
    })?;
    ensure(body.iter().all(|&b| b == 0), || "the payload is not all zeros".to_owned())
}

/// Checks the payload sizes of a stream of responses.
pub fn check_stream(responses: &[StreamingOutputCallResponse], sizes: &[usize]) -> Outcome {
    ensure(responses.len() == sizes.len(), || {
        format!("expected {} responses, got {}", sizes.len(), responses.len())
    })?;
    responses
        .iter()
        .zip(sizes)
        .try_for_each(|(r, &size)| check_payload(r.payload.as_ref(), size))
}

fn payload(size: usize) -> Option<Payload> {
    // Sizes here are the fixed ones of the test descriptions, far below i32::MAX.
    zeros(size as i32).ok()
}

fn bool_value(value: bool) -> Option<BoolValue> {
    Some(BoolValue { value })
}

/// large_unary's sizes.
pub const LARGE_REQUEST: usize = 271_828;
/// large_unary's response size.
pub const LARGE_RESPONSE: usize = 314_159;

/// The large_unary request (also used by custom_metadata and the compression cases).
pub fn large_unary_request() -> SimpleRequest {
    SimpleRequest {
        response_size: LARGE_RESPONSE as i32,
        payload: payload(LARGE_REQUEST),
        ..SimpleRequest::default()
    }
}

/// Checks a large_unary response.
pub fn check_large_unary(response: &SimpleResponse) -> Outcome {
    check_payload(response.payload.as_ref(), LARGE_RESPONSE)
}

/// client_streaming's request sizes and their sum.
pub const CLIENT_STREAMING_SIZES: [usize; 4] = [27_182, 8, 1_828, 45_904];
/// The aggregated size client_streaming expects.
pub const CLIENT_STREAMING_TOTAL: i32 = 74_922;

/// client_streaming's requests.
pub fn client_streaming_requests() -> Vec<StreamingInputCallRequest> {
    CLIENT_STREAMING_SIZES
        .iter()
        .map(|&n| StreamingInputCallRequest {
            payload: payload(n),
            ..StreamingInputCallRequest::default()
        })
        .collect()
}

/// server_streaming's response sizes (also ping_pong's).
pub const SERVER_STREAMING_SIZES: [usize; 4] = [31_415, 9, 2_653, 58_979];

/// server_streaming's request.
pub fn server_streaming_request() -> StreamingOutputCallRequest {
    StreamingOutputCallRequest {
        response_parameters: SERVER_STREAMING_SIZES
            .iter()
            .map(|&size| ResponseParameters {
                size: size as i32,
                ..ResponseParameters::default()
            })
            .collect(),
        ..StreamingOutputCallRequest::default()
    }
}

/// One full-duplex request: a response of `response_size`, a payload of `payload_size`.
pub fn duplex_request(response_size: usize, payload_size: usize) -> StreamingOutputCallRequest {
    StreamingOutputCallRequest {
        response_parameters: vec![ResponseParameters {
            size: response_size as i32,
            ..ResponseParameters::default()
        }],
        payload: payload(payload_size),
        ..StreamingOutputCallRequest::default()
    }
}

/// ping_pong's requests, one per round: (response size, payload size).
pub fn ping_pong_requests() -> Vec<StreamingOutputCallRequest> {
    SERVER_STREAMING_SIZES
        .iter()
        .zip(CLIENT_STREAMING_SIZES)
        .map(|(&r, p)| duplex_request(r, p))
        .collect()
}

/// status_code_and_message's status.
pub const TEST_STATUS_MESSAGE: &str = "test status message";
/// special_status_message's status: whitespace and Unicode in and beyond the BMP.
pub const SPECIAL_STATUS_MESSAGE: &str = "\t\ntest with whitespace\r\nand Unicode BMP \u{263A} and non-BMP \u{1F608}\t\n";

/// A unary request asking for status UNKNOWN (2) with `message`.
pub fn status_unary_request(message: &str) -> SimpleRequest {
    SimpleRequest {
        response_status: Some(EchoStatus {
            code: StatusCode::Unknown.value(),
            message: message.to_owned(),
        }),
        ..SimpleRequest::default()
    }
}

/// A full-duplex request asking for status UNKNOWN (2) with `message`.
pub fn status_duplex_request(message: &str) -> StreamingOutputCallRequest {
    StreamingOutputCallRequest {
        response_status: Some(EchoStatus {
            code: StatusCode::Unknown.value(),
            message: message.to_owned(),
        }),
        ..StreamingOutputCallRequest::default()
    }
}

/// custom_metadata's values.
pub const ECHO_INITIAL_VALUE: &str = "test_initial_metadata_value";
/// The binary trailer custom_metadata sends and expects back.
pub const ECHO_TRAILING_VALUE: [u8; 3] = [0xab, 0xab, 0xab];

/// The metadata custom_metadata attaches.
pub fn custom_metadata() -> Metadata {
    Metadata::new()
        .with(ECHO_INITIAL_KEY, ECHO_INITIAL_VALUE)
        .and_then(|m| m.with(ECHO_TRAILING_KEY, ECHO_TRAILING_VALUE.to_vec()))
        .expect("the interop metadata keys and values are valid")
}

/// Checks the echoed metadata of a custom_metadata call.
pub fn check_echoed(initial: &Metadata, trailing: &Metadata) -> Outcome {
    ensure(initial.get_str(ECHO_INITIAL_KEY) == Some(ECHO_INITIAL_VALUE), || {
        format!("initial metadata {ECHO_INITIAL_KEY} is {:?}", initial.get(ECHO_INITIAL_KEY))
    })?;
    let echoed = trailing.get(ECHO_TRAILING_KEY).map(|v| v.as_bytes().to_vec());
    ensure(echoed.as_deref() == Some(&ECHO_TRAILING_VALUE[..]), || {
        format!("trailing metadata {ECHO_TRAILING_KEY} is {echoed:?}")
    })
}

/// custom_metadata's full-duplex request.
pub fn custom_metadata_duplex_request() -> StreamingOutputCallRequest {
    duplex_request(LARGE_RESPONSE, LARGE_REQUEST)
}

/// A compression-case unary request: `expect_compressed` and `response_compressed` as given.
pub fn compressed_unary_request(expect_compressed: Option<bool>, response_compressed: Option<bool>) -> SimpleRequest {
    SimpleRequest {
        expect_compressed: expect_compressed.and_then(bool_value),
        response_compressed: response_compressed.and_then(bool_value),
        ..large_unary_request()
    }
}

/// A client_compressed_streaming request.
pub fn compressed_input_request(expect_compressed: bool, size: usize) -> StreamingInputCallRequest {
    StreamingInputCallRequest {
        payload: payload(size),
        expect_compressed: bool_value(expect_compressed),
    }
}

/// client_compressed_streaming's sizes (the compressed one first) and their sum.
pub const COMPRESSED_STREAMING_SIZES: [usize; 2] = [27_182, 45_904];
/// The aggregated size client_compressed_streaming expects.
pub const COMPRESSED_STREAMING_TOTAL: i32 = 73_086;

/// server_compressed_streaming's response sizes (compressed, then not).
pub const SERVER_COMPRESSED_SIZES: [usize; 2] = [31_415, 92_653];

/// server_compressed_streaming's request.
pub fn server_compressed_streaming_request() -> StreamingOutputCallRequest {
    StreamingOutputCallRequest {
        response_parameters: SERVER_COMPRESSED_SIZES
            .iter()
            .zip([true, false])
            .map(|(&size, compressed)| ResponseParameters {
                size: size as i32,
                compressed: bool_value(compressed),
                ..ResponseParameters::default()
            })
            .collect(),
        ..StreamingOutputCallRequest::default()
    }
}

/// The per-case lines and the closing count.
#[derive(Debug, Default)]
pub struct Report {
    passed: usize,
    failed: usize,
}

/// The start of a client run: the cases `--test_case` names and the channel the flags
/// describe (made by `channel`, one face's constructor), or the exit code of a run that
/// cannot start (the reason printed).
pub fn start<C>(
    args: &crate::args::ClientArgs,
    channel: impl FnOnce(&str, rpc_core::ChannelCredentials, ChannelOptions) -> Result<C, RpcError>,
) -> Result<(Vec<&'static str>, C), ExitCode> {
    let names = parse(&args.test_case).map_err(|e| {
        eprintln!("{e}");
        ExitCode::FAILURE
    })?;
    let made = crate::tls::client_settings(args).and_then(|(creds, options)| channel(&args.target(), creds, options));
    let channel = made.map_err(|e| {
        eprintln!("cannot make a channel to {}: {e}", args.target());
        ExitCode::FAILURE
    })?;
    Ok((names, channel))
}

impl Report {
    /// Records and prints one case: `PASS name` or `FAIL name: why`.
    pub fn record(&mut self, name: &str, outcome: Outcome) {
        match outcome {
            Ok(()) => {
                self.passed += 1;
                println!("PASS {name}");
            }
            Err(why) => {
                self.failed += 1;
                println!("FAIL {name}: {why}");
            }
        }
    }

    /// Prints `N passed, M failed`; failure if any case failed (or none ran).
    pub fn finish(self) -> ExitCode {
        println!("{} passed, {} failed", self.passed, self.failed);
        if self.failed == 0 && self.passed > 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_takes_one_a_list_or_all() {
        assert_eq!(parse("all").unwrap().len(), ALL.len());
        assert_eq!(parse("empty_unary, ping_pong").unwrap(), vec!["empty_unary", "ping_pong"]);
        assert!(parse("nope").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn sizes_add_up_as_the_descriptions_say() {
        assert_eq!(CLIENT_STREAMING_SIZES.iter().sum::<usize>() as i32, CLIENT_STREAMING_TOTAL);
        assert_eq!(COMPRESSED_STREAMING_SIZES.iter().sum::<usize>() as i32, COMPRESSED_STREAMING_TOTAL);
    }

    #[test]
    fn checks_fail_on_wrong_answers() {
        assert!(check_payload(payload(3).as_ref(), 3).is_ok());
        assert!(check_payload(payload(3).as_ref(), 4).is_err());
        assert!(expect_error::<()>(Err(RpcError::cancelled("x")), StatusCode::Cancelled, Some("x")).is_ok());
        assert!(expect_error::<()>(Err(RpcError::cancelled("x")), StatusCode::Unknown, None).is_err());
        assert!(expect_error(Ok(1), StatusCode::Cancelled, None).is_err());
        assert_eq!(short(&vec![0u8; 1000]).chars().count(), 123);
        let md = custom_metadata();
        assert!(check_echoed(&md, &md).is_ok());
        assert!(check_echoed(&Metadata::new(), &md).is_err());
    }
}
