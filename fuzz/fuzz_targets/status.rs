//! Status decoding as the client does it: arbitrary `grpc-status`, `grpc-message`
//! (percent-encoded) and `grpc-status-details-bin` headers, sanitized as the channel does,
//! through tonic's decoder and `RpcError::from_tonic`, then back to tonic and again: code
//! and details are stable. (Unsanitized, tonic panics on non-base64 details: the crash in
//! regressions/status/, now a regression test in rpc-aio.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use rpc_core::RpcError;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == 0xff);
    let (status, message, details) = (
        parts.next().unwrap_or(b""),
        parts.next().unwrap_or(b""),
        parts.next().unwrap_or(b""),
    );
    let mut headers = http::HeaderMap::new();
    for (name, value) in [
        ("grpc-status", status),
        ("grpc-message", message),
        ("grpc-status-details-bin", details),
    ] {
        if let Ok(v) = http::HeaderValue::from_bytes(value) {
            headers.insert(name, v);
        }
    }
    rpc_aio::__fuzz::sanitize_status_headers(&mut headers);
    let Some(status) = tonic::Status::from_header_map(&headers) else {
        return;
    };
    let err = RpcError::from_tonic(&status);
    let _ = err.rich_details();
    let _ = err.to_string();
    let again = RpcError::from_tonic(&err.to_tonic());
    assert_eq!(again.code(), err.code());
    assert_eq!(again.details(), err.details());
});
