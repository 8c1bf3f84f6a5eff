//! The server's gRPC length-prefix scanner: any bytes, split anywhere, give the same
//! verdict as the whole input, and never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let limit = usize::from(u16::from_be_bytes([data[0], data[1]]));
    let split = usize::from(data[2]);
    let wire = &data[3..];
    let whole = rpc_aio::__fuzz::scan_frames([wire], limit);
    let at = split.min(wire.len());
    let (a, b) = wire.split_at(at);
    assert_eq!(whole, rpc_aio::__fuzz::scan_frames([a, b], limit));
    let bytes: Vec<&[u8]> = wire.chunks(1).collect();
    assert_eq!(whole, rpc_aio::__fuzz::scan_frames(bytes, limit));
    if let Err(len) = whole {
        assert!(len > limit as u64);
    }
});
