//! Metadata as HTTP/2 headers: [`Metadata`] written into and read from an
//! `http::HeaderMap` (binary `-bin` values in base64), and the headers every gRPC request
//! and response carries.

use base64::Engine;
use rpc_core::metadata::{Metadata, MetadataValue, is_protocol_key};

/// `application/grpc`.
pub(crate) const CONTENT_TYPE: http::HeaderValue = http::HeaderValue::from_static("application/grpc");

// The gRPC header names both sides write, made once: inserting a custom name given as a
// `&str` copies it into an allocation on every call.
pub(crate) const GRPC_ACCEPT_ENCODING: http::HeaderName = http::HeaderName::from_static("grpc-accept-encoding");
pub(crate) const GRPC_ENCODING: http::HeaderName = http::HeaderName::from_static("grpc-encoding");
pub(crate) const GRPC_TIMEOUT: http::HeaderName = http::HeaderName::from_static("grpc-timeout");
pub(crate) const GRPC_PREVIOUS_ATTEMPTS: http::HeaderName = http::HeaderName::from_static(rpc_core::metadata::PREVIOUS_ATTEMPTS_KEY);
pub(crate) const GRPC_STATUS: http::HeaderName = http::HeaderName::from_static("grpc-status");
pub(crate) const GRPC_MESSAGE: http::HeaderName = http::HeaderName::from_static("grpc-message");
pub(crate) const GRPC_STATUS_DETAILS: http::HeaderName = http::HeaderName::from_static("grpc-status-details-bin");

/// Base64 as gRPC writes binary metadata: standard alphabet, no padding.
const WRITE: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;

/// Base64 as gRPC reads binary metadata: padded or not.
const READ: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new().with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// Decodes a binary header value (padding optional); `None` if it is not base64.
pub(crate) fn decode_binary(value: &[u8]) -> Option<Vec<u8>> {
    READ.decode(value).ok()
}

/// Encodes a binary header value.
pub(crate) fn encode_binary(value: &[u8]) -> String {
    WRITE.encode(value)
}

/// Appends every entry of `metadata` to `headers`, keeping repeats and the order of each
/// key's values. (A header map groups a key's values, so different keys come out in the
/// order of each key's first appearance.)
pub(crate) fn write_metadata(metadata: &Metadata, headers: &mut http::HeaderMap) {
    for (key, value) in metadata.iter() {
        // Keys and values were validated when added (stricter than HTTP's rules), so these
        // conversions succeed; a failure is skipped, never a panic.
        let Ok(name) = http::HeaderName::from_bytes(key.as_bytes()) else {
            continue;
        };
        let value = match value {
            MetadataValue::Text(s) => http::HeaderValue::from_str(s),
            MetadataValue::Binary(b) => http::HeaderValue::from_str(&encode_binary(b)),
        };
        if let Ok(value) = value {
            headers.append(name, value);
        }
    }
}

/// The application metadata in `headers`: protocol headers (`grpc-*`, pseudo-headers,
/// `content-type`, `te`, ...) are left out. Text that is not UTF-8 is kept with
/// replacement characters; a `-bin` value that is not base64 is skipped.
pub(crate) fn read_metadata(headers: &http::HeaderMap) -> Metadata {
    // Grown as entries come: headers with none (the usual response) cost no allocation.
    let mut md = Metadata::new();
    for (name, value) in headers {
        let key = name.as_str();
        if is_protocol_key(key) {
            continue;
        }
        if key.ends_with("-bin") {
            if let Some(bytes) = decode_binary(value.as_bytes()) {
                md.push_received(key.to_owned(), MetadataValue::Binary(bytes.into()));
            }
        } else {
            md.push_received(
                key.to_owned(),
                MetadataValue::Text(String::from_utf8_lossy(value.as_bytes()).into_owned()),
            );
        }
    }
    md
}

/// Whether `headers` hold any application metadata (without converting them).
pub(crate) fn has_metadata(headers: &http::HeaderMap) -> bool {
    headers.keys().any(|k| !is_protocol_key(k.as_str()))
}

/// Whether a `content-type` is gRPC's (`application/grpc`, `application/grpc+proto`, ...).
pub(crate) fn is_grpc_content_type(value: Option<&http::HeaderValue>) -> bool {
    value
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct == "application/grpc" || ct.starts_with("application/grpc+") || ct.starts_with("application/grpc;"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(md: &Metadata, key: &str) -> Vec<MetadataValue> {
        md.get_all(key).cloned().collect()
    }

    #[test]
    fn round_trip_keeps_repeats_in_order_and_binary_bytes() {
        let md = Metadata::from_pairs([
            ("x-a", MetadataValue::from("1")),
            ("x-b-bin", MetadataValue::from(&[0u8, 1, 2, 255][..])),
            ("x-a", MetadataValue::from("2")),
        ])
        .unwrap();
        let mut headers = http::HeaderMap::new();
        write_metadata(&md, &mut headers);
        assert_eq!(headers.get("x-b-bin").unwrap(), "AAEC/w", "unpadded base64 on the wire");
        let back = read_metadata(&headers);
        assert_eq!(values(&back, "x-a"), [MetadataValue::from("1"), MetadataValue::from("2")]);
        assert_eq!(values(&back, "x-b-bin"), [MetadataValue::from(&[0u8, 1, 2, 255][..])]);
        let keys: Vec<&str> = back.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["x-a", "x-a", "x-b-bin"], "grouped by first appearance");
    }

    #[test]
    fn protocol_headers_and_bad_base64_are_left_out() {
        let mut headers = http::HeaderMap::new();
        for (k, v) in [
            ("content-type", "application/grpc"),
            ("grpc-status", "0"),
            ("te", "trailers"),
            ("x-user", "ada"),
            ("x-bad-bin", "!!!"),
            ("x-padded-bin", "AAE="),
        ] {
            headers.append(http::HeaderName::from_static(k), http::HeaderValue::from_static(v));
        }
        let md = read_metadata(&headers);
        let keys: Vec<&str> = md.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["x-user", "x-padded-bin"]);
        assert_eq!(md.get("x-padded-bin").unwrap().as_bytes(), [0, 1]);
        assert!(has_metadata(&headers));
        let mut only_protocol = http::HeaderMap::new();
        only_protocol.insert("grpc-status", http::HeaderValue::from_static("0"));
        assert!(!has_metadata(&only_protocol));
    }

    #[test]
    fn grpc_content_types() {
        for ok in ["application/grpc", "application/grpc+proto", "application/grpc;charset=x"] {
            assert!(is_grpc_content_type(Some(&http::HeaderValue::from_static(ok))), "{ok}");
        }
        for bad in ["application/json", "application/grpcx", "text/plain"] {
            assert!(!is_grpc_content_type(Some(&http::HeaderValue::from_static(bad))), "{bad}");
        }
        assert!(!is_grpc_content_type(None));
    }
}
