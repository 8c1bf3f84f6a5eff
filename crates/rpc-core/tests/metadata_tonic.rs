//! Metadata <-> tonic `MetadataMap` round trips: order of repeated keys, binary values, protocol headers dropped.

use rpc_core::{Metadata, MetadataValue};
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue as TonicValue};

fn values(md: &Metadata, key: &str) -> Vec<Vec<u8>> {
    md.get_all(key).map(|v| v.as_bytes().to_vec()).collect()
}

#[test]
fn round_trip_keeps_repeats_in_order_and_binary_bytes() {
    let raw: &[u8] = b"\x00\xff\xfe\x80not utf8\xc3";
    let mut md = Metadata::new();
    md.add("x-a", "first").unwrap();
    md.add("x-bin-data-bin", raw).unwrap();
    md.add("x-a", "second").unwrap();
    md.add("x-b", "only").unwrap();
    md.add("x-bin-data-bin", &b""[..]).unwrap();
    md.add("x-a", "third").unwrap();

    let map = md.to_tonic();
    assert_eq!(map.len(), 6);
    let back = Metadata::from_tonic(&map);
    assert_eq!(back.len(), 6);
    assert_eq!(values(&back, "x-a"), [b"first".to_vec(), b"second".to_vec(), b"third".to_vec()]);
    assert_eq!(values(&back, "x-b"), [b"only".to_vec()]);
    assert_eq!(values(&back, "x-bin-data-bin"), [raw.to_vec(), Vec::new()]);
    assert!(back.get_all("x-bin-data-bin").all(MetadataValue::is_binary));
    assert!(back.get_all("x-a").all(|v| !v.is_binary()));

    // A second round trip is stable.
    assert_eq!(Metadata::from_tonic(&back.to_tonic()), back);
    // The From conversions agree with the methods.
    let via_from: MetadataMap = (&md).into();
    assert_eq!(Metadata::from(&via_from), back);
}

#[test]
fn binary_values_are_base64_on_the_wire() {
    let md = Metadata::new().with("x-raw-bin", &[0xffu8, 0x00]).unwrap();
    let headers = md.to_tonic().into_headers();
    let wire = headers.get("x-raw-bin").unwrap().to_str().unwrap();
    assert!(wire == "/wA=" || wire == "/wA", "{wire}");
}

#[test]
fn write_to_tonic_appends() {
    let mut map = MetadataMap::new();
    map.insert("x-a", TonicValue::from_static("existing"));
    Metadata::new().with("x-a", "added").unwrap().write_to_tonic(&mut map);
    let all: Vec<_> = map.get_all("x-a").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    assert_eq!(all, ["existing", "added"]);
}

#[test]
fn from_tonic_drops_protocol_headers_and_keeps_user_ones() {
    let mut map = MetadataMap::new();
    for (k, v) in [
        ("content-type", "application/grpc"),
        ("te", "trailers"),
        ("grpc-timeout", "10S"),
        ("grpc-encoding", "gzip"),
        ("grpc-accept-encoding", "gzip"),
        ("grpc-status", "0"),
        ("grpc-message", "ok"),
        ("x-user", "ada"),
        ("user-agent", "grpc-rust/0.1"),
        ("authorization", "Bearer t"),
    ] {
        map.append(MetadataKey::from_static(k), TonicValue::from_static(v));
    }
    map.append_bin("grpc-status-details-bin", tonic::metadata::BinaryMetadataValue::from_bytes(b"\x01"));
    map.append_bin("x-trace-bin", tonic::metadata::BinaryMetadataValue::from_bytes(b"\x02\x03"));

    let md = Metadata::from_tonic(&map);
    let keys: Vec<_> = md.iter().map(|(k, _)| k.to_owned()).collect();
    assert_eq!(keys, ["x-user", "user-agent", "authorization", "x-trace-bin"]);
    assert_eq!(md.get_str("x-user"), Some("ada"));
    assert_eq!(md.get("x-trace-bin").unwrap().as_bytes(), b"\x02\x03");
    for key in ["content-type", "te", "grpc-timeout", "grpc-status", "grpc-status-details-bin"] {
        assert!(rpc_core::metadata::is_protocol_key(key), "{key}");
        assert!(!md.contains_key(key), "{key}");
    }
}

#[test]
fn undecodable_base64_is_skipped() {
    let mut headers = http::HeaderMap::new();
    headers.append("x-bad-bin", http::HeaderValue::from_static("!!!not base64!!!"));
    headers.append("x-good-bin", http::HeaderValue::from_static("AQI="));
    let map = MetadataMap::from_headers(headers);
    let md = Metadata::from_tonic(&map);
    assert!(!md.contains_key("x-bad-bin"));
    assert_eq!(md.get("x-good-bin").unwrap().as_bytes(), b"\x01\x02");
}

#[test]
fn interleaved_keys_come_back_grouped_by_first_appearance() {
    // tonic's map (an http::HeaderMap) keeps the order of each key's values but groups
    // a key's values together, so only the per-key order survives a round trip.
    let md = Metadata::from_pairs([("x-a", "1"), ("x-b", "2"), ("x-a", "3")]).unwrap();
    let back = Metadata::from_tonic(&md.to_tonic());
    let flat: Vec<_> = back.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap())).collect();
    assert_eq!(flat, ["x-a=1", "x-a=3", "x-b=2"]);
}
