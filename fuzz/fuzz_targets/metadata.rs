//! Metadata from the wire and from users: arbitrary header names and values read as the
//! engine reads them (`rpc_aio::__fuzz::metadata_round_trip`), and arbitrary keys and
//! values through `Metadata::add`; what is accepted survives a round trip through the
//! headers the engine writes, entry for entry.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rpc_aio::__fuzz::{metadata_headers, metadata_round_trip};
use rpc_core::{Metadata, MetadataValue};

fuzz_target!(|data: &[u8]| {
    // Pairs separated by 0xff, name and value by the first ':'.
    let mut headers = http::HeaderMap::new();
    let mut user = Metadata::new();
    for pair in data.split(|b| *b == 0xff) {
        let Some(colon) = pair.iter().position(|b| *b == b':') else {
            continue;
        };
        let (name, value) = (&pair[..colon], &pair[colon + 1..]);
        if let (Ok(n), Ok(v)) = (http::HeaderName::from_bytes(name), http::HeaderValue::from_bytes(value)) {
            headers.append(n, v);
        }
        let key = String::from_utf8_lossy(name);
        let value = if key.ends_with("-bin") {
            MetadataValue::Binary(value.to_vec().into())
        } else {
            MetadataValue::Text(String::from_utf8_lossy(value).into_owned())
        };
        let _ = user.add(&key, value);
    }
    let (received, _) = metadata_round_trip(&headers);
    for md in [received, user] {
        let (again, _) = metadata_round_trip(&metadata_headers(&md));
        let a: Vec<_> = md.iter().collect();
        let b: Vec<_> = again.iter().collect();
        assert_eq!(a, b);
    }
});
