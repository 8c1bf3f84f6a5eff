//! Status decoding as the client does it (`rpc_aio::__fuzz::read_status`): arbitrary
//! `grpc-status`, `grpc-message` (percent-encoded) and `grpc-status-details-bin` headers
//! never panic; an error read is written back as a server writes it
//! (`rpc_aio::__fuzz::status_headers`) and read again with the same code and details.
//! (regressions/status/ holds a crash of the tonic-based decoder this replaced: non-base64
//! details.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use rpc_aio::__fuzz::{read_status, status_headers};

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
    let Some(Err(err)) = read_status(&headers) else {
        return;
    };
    let _ = err.rich_details();
    let _ = err.to_string();
    match read_status(&status_headers(&err)) {
        Some(Err(again)) => {
            assert_eq!(again.code(), err.code());
            assert_eq!(again.details(), err.details());
        }
        other => panic!("{err:?} written and read again gave {other:?}"),
    }
});
