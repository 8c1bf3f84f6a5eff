//! The behaviour of `grpc.testing.TestService`, written once for both servicers: payloads,
//! echoed status and metadata, compression checks and the replies of the streaming methods.
//!
//! The servicers in [`crate::servicer_sync`] and [`crate::servicer_aio`] only move messages;
//! every rule of gRPC's interop server features lives here.

use crate::pb::{BoolValue, StreamingOutputCallResponse};
use crate::pb::{EchoStatus, Payload, PayloadType, SimpleRequest, SimpleResponse, StreamingInputCallRequest, StreamingOutputCallRequest};
use rpc_core::{Compression, Metadata, RpcError, ServicerContext, StatusCode};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Initial metadata the client asks the server to echo.
pub const ECHO_INITIAL_KEY: &str = "x-grpc-test-echo-initial";
/// Trailing metadata (binary) the client asks the server to echo.
pub const ECHO_TRAILING_KEY: &str = "x-grpc-test-echo-trailing-bin";
/// The compression the server uses when a request asks for a compressed response.
pub const RESPONSE_COMPRESSION: Compression = Compression::Gzip;

/// A payload of `size` zero bytes; a negative size is INVALID_ARGUMENT.
pub fn zeros(size: i32) -> Result<Payload, RpcError> {
    let size = usize::try_from(size).map_err(|_| RpcError::invalid_argument(format!("negative payload size {size}")))?;
    Ok(Payload {
        r#type: PayloadType::Compressable as i32,
        body: vec![0; size],
    })
}

/// The value of an optional `BoolValue`.
pub fn flag(value: Option<&BoolValue>) -> bool {
    value.is_some_and(|b| b.value)
}

/// Echoes the client's `x-grpc-test-echo-*` metadata: the initial entry as initial metadata
/// (sent now, together with `extra_initial`), the trailing one as a trailer. Called first in
/// every handler, so both are echoed on errors too.
pub fn echo_metadata(context: &ServicerContext, extra_initial: Metadata) -> Result<(), RpcError> {
    let invocation = context.invocation_metadata();
    let mut initial = extra_initial;
    if let Some(value) = invocation.get(ECHO_INITIAL_KEY) {
        initial.add(ECHO_INITIAL_KEY, value.clone())?;
    }
    if !initial.is_empty() {
        context.send_initial_metadata(initial)?;
    }
    if let Some(value) = invocation.get(ECHO_TRAILING_KEY) {
        context.add_trailing_metadata(ECHO_TRAILING_KEY, value.clone())?;
    }
    Ok(())
}

/// The status the client asked for with `response_status`, as an error to end the RPC
/// with; `Ok` when it asked for none (or for OK).
pub fn echo_status(context: &ServicerContext, status: Option<&EchoStatus>) -> Result<(), RpcError> {
    match status {
        Some(s) if s.code != 0 => Err(context.abort(StatusCode::from_i32(s.code), s.message.clone())),
        _ => Ok(()),
    }
}

/// The CompressedRequest feature, as strictly as gRPC's official interop servers check it:
/// a request that sets `expect_compressed` must have come compressed (true) or
/// uncompressed (false), judged by that message's own compressed flag, not by the call's
/// `grpc-encoding`; otherwise INVALID_ARGUMENT.
pub fn check_compressed(context: &ServicerContext, expect_compressed: Option<&BoolValue>) -> Result<(), RpcError> {
    let Some(expected) = expect_compressed.map(|b| b.value) else {
        return Ok(());
    };
    match (expected, context.last_request_compressed()) {
        (true, false) => Err(RpcError::invalid_argument("Expected compressed request but it was not compressed")),
        (false, true) => Err(RpcError::invalid_argument("Expected uncompressed request but it was compressed")),
        _ => Ok(()),
    }
}

fn check_payload_type(response_type: i32) -> Result<(), RpcError> {
    if response_type != PayloadType::Compressable as i32 {
        return Err(RpcError::invalid_argument(format!("unsupported response_type {response_type}")));
    }
    Ok(())
}

/// UnaryCall: checks, echoes, and a payload of `response_size` zeros.
pub fn unary_call(request: SimpleRequest, context: &ServicerContext) -> Result<SimpleResponse, RpcError> {
    echo_metadata(context, Metadata::new())?;
    check_compressed(context, request.expect_compressed.as_ref())?;
    echo_status(context, request.response_status.as_ref())?;
    check_payload_type(request.response_type)?;
    if flag(request.response_compressed.as_ref()) {
        context.set_compression(RESPONSE_COMPRESSION);
    }
    Ok(SimpleResponse {
        payload: Some(zeros(request.response_size)?),
        ..SimpleResponse::default()
    })
}

/// CacheableUnaryCall: the current time in nanoseconds as the payload, with cache headers.
pub fn cacheable_unary_call(request: SimpleRequest, context: &ServicerContext) -> Result<SimpleResponse, RpcError> {
    echo_metadata(context, Metadata::new().with("cache-control", "max-age=60, public")?)?;
    echo_status(context, request.response_status.as_ref())?;
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
    Ok(SimpleResponse {
        payload: Some(Payload {
            r#type: PayloadType::Compressable as i32,
            body: nanos.to_string().into_bytes(),
        }),
        ..SimpleResponse::default()
    })
}

/// One response of a streaming method, and when and how to send it.
#[derive(Debug)]
pub struct Reply {
    /// How long to wait before sending it (`interval_us`, relative to the previous reply).
    pub delay: Duration,
    /// Whether it should go compressed (`compressed`).
    pub compressed: bool,
    /// The response.
    pub response: StreamingOutputCallResponse,
}

/// The replies to one `StreamingOutputCallRequest` (StreamingOutputCall, FullDuplexCall,
/// HalfDuplexCall); an echoed status comes back as the error that ends the RPC.
pub fn replies(request: &StreamingOutputCallRequest, context: &ServicerContext) -> Result<Vec<Reply>, RpcError> {
    echo_status(context, request.response_status.as_ref())?;
    check_payload_type(request.response_type)?;
    request
        .response_parameters
        .iter()
        .map(|p| {
            Ok(Reply {
                delay: Duration::from_micros(u64::try_from(p.interval_us).unwrap_or(0)),
                compressed: flag(p.compressed.as_ref()),
                response: StreamingOutputCallResponse {
                    payload: Some(zeros(p.size)?),
                },
            })
        })
        .collect()
}

/// Before a response stream starts: a stream with any reply to compress is compressed
/// (the replies that must not be are sent plain with `disable_next_message_compression`).
pub fn choose_stream_compression(replies: &[Reply], context: &ServicerContext) {
    if replies.iter().any(|r| r.compressed) {
        context.set_compression(RESPONSE_COMPRESSION);
    }
}

/// Just before a reply goes out: sends it uncompressed if it asked for that on a
/// compressed stream.
pub fn before_reply(reply: &Reply, context: &ServicerContext) {
    if !reply.compressed && context.compression().is_some_and(|c| c != Compression::NoCompression) {
        context.disable_next_message_compression();
    }
}

/// StreamingInputCall's bookkeeping: the aggregated payload size so far.
#[derive(Debug, Default)]
pub struct InputTotal(pub i32);

impl InputTotal {
    /// Adds one request, after checking its compression expectation.
    pub fn add(&mut self, request: &StreamingInputCallRequest, context: &ServicerContext) -> Result<(), RpcError> {
        check_compressed(context, request.expect_compressed.as_ref())?;
        let size = request.payload.as_ref().map_or(0, |p| p.body.len());
        let size = i32::try_from(size).map_err(|_| RpcError::invalid_argument("payload over 2 GiB"))?;
        self.0 = self
            .0
            .checked_add(size)
            .ok_or_else(|| RpcError::invalid_argument("aggregated payload size over 2 GiB"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb::ResponseParameters;
    use rpc_core::RpcInfo;

    fn context(metadata: Metadata, request_compression: Compression) -> ServicerContext {
        let info = RpcInfo {
            method: "/grpc.testing.TestService/UnaryCall".into(),
            invocation_metadata: metadata,
            request_compression,
            ..RpcInfo::default()
        };
        let (ctx, control) = ServicerContext::new(info, Some(Box::new(|_| {})));
        // As the engine does for a request that came as the call says.
        control.set_last_request_compressed(request_compression != Compression::NoCompression);
        ctx
    }

    #[test]
    fn unary_call_sizes_and_echoes_the_status_with_trailers() {
        let md = Metadata::new().with(ECHO_TRAILING_KEY, vec![0xab, 0xab, 0xab]).unwrap();
        let ctx = context(md, Compression::NoCompression);
        let ok = unary_call(
            SimpleRequest {
                response_size: 7,
                ..Default::default()
            },
            &ctx,
        )
        .unwrap();
        assert_eq!(ok.payload.unwrap().body, vec![0; 7]);
        let ctx = context(
            Metadata::new().with(ECHO_TRAILING_KEY, vec![1u8]).unwrap(),
            Compression::NoCompression,
        );
        let request = SimpleRequest {
            response_status: Some(EchoStatus {
                code: 2,
                message: "boom".into(),
            }),
            ..Default::default()
        };
        let err = unary_call(request, &ctx).unwrap_err();
        assert_eq!((err.code(), err.details()), (StatusCode::Unknown, "boom"));
        assert_eq!(err.trailing_metadata().get(ECHO_TRAILING_KEY).unwrap().as_bytes(), &[1u8]);
    }

    #[test]
    fn expect_compressed_is_checked_against_the_message_both_ways() {
        let expecting = |value| SimpleRequest {
            expect_compressed: Some(BoolValue { value }),
            ..Default::default()
        };
        let plain = || context(Metadata::new(), Compression::NoCompression);
        let gzipped = || context(Metadata::new(), Compression::Gzip);
        let err = unary_call(expecting(true), &plain()).unwrap_err();
        assert_eq!(err.code(), StatusCode::InvalidArgument);
        assert!(unary_call(expecting(true), &gzipped()).is_ok());
        let err = unary_call(expecting(false), &gzipped()).unwrap_err();
        assert_eq!(
            (err.code(), err.details()),
            (StatusCode::InvalidArgument, "Expected uncompressed request but it was compressed")
        );
        assert!(unary_call(expecting(false), &plain()).is_ok());
        assert!(unary_call(SimpleRequest::default(), &gzipped()).is_ok(), "no expectation, no check");
    }

    #[test]
    fn replies_follow_the_parameters_and_compression_flags() {
        let ctx = context(Metadata::new(), Compression::NoCompression);
        let request = StreamingOutputCallRequest {
            response_parameters: vec![
                ResponseParameters {
                    size: 3,
                    interval_us: 1500,
                    compressed: Some(BoolValue { value: true }),
                },
                ResponseParameters {
                    size: 1,
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let replies = replies(&request, &ctx).unwrap();
        assert_eq!(replies.len(), 2);
        assert_eq!(replies[0].delay, Duration::from_micros(1500));
        assert!(replies[0].compressed && !replies[1].compressed);
        choose_stream_compression(&replies, &ctx);
        assert_eq!(ctx.compression(), Some(RESPONSE_COMPRESSION));
        assert!(zeros(-1).is_err());
    }

    #[test]
    fn input_total_sums_payloads() {
        let ctx = context(Metadata::new(), Compression::NoCompression);
        let mut total = InputTotal::default();
        for n in [3, 4] {
            let request = StreamingInputCallRequest {
                payload: Some(zeros(n).unwrap()),
                ..Default::default()
            };
            total.add(&request, &ctx).unwrap();
        }
        assert_eq!(total.0, 7);
    }
}
