//! `grpc-timeout` parsing: any bytes parse or are refused without panic, and what parses
//! re-encodes to a value that parses to at least the same duration.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rpc_core::timeout::{encode_grpc_timeout, parse_grpc_timeout};

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = parse_grpc_timeout(data) {
        let encoded = encode_grpc_timeout(d);
        let back = parse_grpc_timeout(encoded.as_bytes()).expect("our own encoding parses");
        assert!(back >= d, "{encoded} < {d:?}");
    }
});
