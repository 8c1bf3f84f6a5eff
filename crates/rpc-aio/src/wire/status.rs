//! The status of an RPC in HTTP/2 headers: `grpc-status`, `grpc-message` (percent-encoded)
//! and `grpc-status-details-bin` (a base64 `google.rpc.Status`), written by the server in
//! the trailers (or the headers of a trailers-only response) and read by the client; and
//! gRPC's mapping of HTTP status codes for responses that carry no gRPC status.

use super::headers::{
    GRPC_MESSAGE as MESSAGE, GRPC_STATUS as STATUS, GRPC_STATUS_DETAILS as DETAILS, decode_binary, encode_binary, read_metadata,
    write_metadata,
};
use rpc_core::{Metadata, RpcError, StatusCode};

/// Writes an OK status and `trailing` metadata into `headers`.
pub(crate) fn write_ok(trailing: &Metadata, headers: &mut http::HeaderMap) {
    headers.insert(STATUS, http::HeaderValue::from_static("0"));
    write_metadata(trailing, headers);
}

/// Writes `error` (code, message, rich details and its trailing metadata) into `headers`.
pub(crate) fn write_error(error: &RpcError, headers: &mut http::HeaderMap) {
    headers.insert(STATUS, http::HeaderValue::from(error.code().value()));
    if !error.details().is_empty()
        && let Ok(v) = http::HeaderValue::from_str(&percent_encode(error.details()))
    {
        headers.insert(MESSAGE, v);
    }
    if let Some(details) = error.encoded_status_details()
        && let Ok(v) = http::HeaderValue::from_str(&encode_binary(&details))
    {
        headers.insert(DETAILS, v);
    }
    write_metadata(error.trailing_metadata(), headers);
}

/// Reads the status in `headers`: `None` when there is no `grpc-status`; otherwise the
/// trailing metadata of an OK status, or the error. A `grpc-status` that is not a number is
/// UNKNOWN; details that are not base64 or not a `google.rpc.Status` are dropped (the code
/// and message are kept).
pub(crate) fn read(headers: &http::HeaderMap) -> Option<Result<Metadata, RpcError>> {
    let raw = headers.get(STATUS)?;
    let code = std::str::from_utf8(raw.as_bytes())
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .map_or(StatusCode::Unknown, StatusCode::from_i32);
    let trailing = read_metadata(headers);
    if code == StatusCode::Ok {
        return Some(Ok(trailing));
    }
    let message = headers.get(MESSAGE).map(|v| percent_decode(v.as_bytes())).unwrap_or_default();
    let mut error = RpcError::new(code, message).with_trailing_metadata(trailing);
    if let Some(details) = headers.get(DETAILS).and_then(|v| decode_binary(v.as_bytes())) {
        error = error.with_encoded_status_details(&details);
    }
    Some(Err(error))
}

/// gRPC's code for an HTTP response without a gRPC status (from a proxy, say).
pub(crate) fn from_http_status(status: http::StatusCode) -> RpcError {
    let code = match status.as_u16() {
        400 => StatusCode::Internal,
        401 => StatusCode::Unauthenticated,
        403 => StatusCode::PermissionDenied,
        404 => StatusCode::Unimplemented,
        429 | 502 | 503 | 504 => StatusCode::Unavailable,
        _ => StatusCode::Unknown,
    };
    RpcError::new(code, format!("the server answered HTTP {status} without a gRPC status"))
}

/// Percent-encodes a status message as gRPC does: bytes outside printable ASCII, and `%`.
pub(crate) fn percent_encode(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for b in message.bytes() {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes a percent-encoded status message; malformed escapes are kept as they are and
/// bytes that are not UTF-8 become replacement characters.
pub(crate) fn percent_decode(value: &[u8]) -> String {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        if value[i] == b'%'
            && i + 2 < value.len()
            && let (Some(h), Some(l)) = (hex(value[i + 1]), hex(value[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(value[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rpc_core::details::BadRequest;

    #[test]
    fn an_error_round_trips_with_message_details_and_trailers() {
        let error = RpcError::invalid_argument("bad: 100% \u{e9}t\u{e9}\nnext")
            .with_detail(BadRequest::default())
            .with_trailing_metadata(Metadata::from_pairs([("x-why", "because")]).unwrap());
        let mut headers = http::HeaderMap::new();
        write_error(&error, &mut headers);
        assert_eq!(headers.get("grpc-status").unwrap(), "3");
        assert_eq!(headers.get("grpc-message").unwrap(), "bad: 100%25 %C3%A9t%C3%A9%0Anext");
        let back = read(&headers).unwrap().unwrap_err();
        assert_eq!(back.code(), StatusCode::InvalidArgument);
        assert_eq!(back.details(), error.details());
        assert_eq!(back.detail::<BadRequest>(), Some(BadRequest::default()));
        assert_eq!(back.trailing_metadata().get_str("x-why"), Some("because"));
    }

    #[test]
    fn ok_gives_the_trailers_and_no_status_gives_none() {
        let mut headers = http::HeaderMap::new();
        assert!(read(&headers).is_none());
        write_ok(&Metadata::from_pairs([("x-t", "1")]).unwrap(), &mut headers);
        assert_eq!(read(&headers).unwrap().unwrap().get_str("x-t"), Some("1"));
    }

    #[test]
    fn hostile_status_headers_give_a_status_not_a_panic() {
        for (status, message, details) in [
            ("abc", "x", "{"),
            ("99", "%zz%4", "!!!!"),
            ("-1", "%", "abc=d"),
            ("3", "%C3", "CAM"),
        ] {
            let mut headers = http::HeaderMap::new();
            headers.insert("grpc-status", http::HeaderValue::from_static(status));
            headers.insert("grpc-message", http::HeaderValue::from_static(message));
            headers.insert("grpc-status-details-bin", http::HeaderValue::from_static(details));
            let e = read(&headers).unwrap().unwrap_err();
            assert!(
                e.code() == StatusCode::Unknown || e.code() == StatusCode::InvalidArgument,
                "{status}"
            );
        }
        assert_eq!(percent_decode(b"%zz%4"), "%zz%4");
        assert_eq!(percent_decode(b"a%41"), "aA");
    }

    #[test]
    fn http_statuses_map_as_grpc_says() {
        assert_eq!(from_http_status(http::StatusCode::NOT_FOUND).code(), StatusCode::Unimplemented);
        assert_eq!(
            from_http_status(http::StatusCode::SERVICE_UNAVAILABLE).code(),
            StatusCode::Unavailable
        );
        assert_eq!(from_http_status(http::StatusCode::IM_A_TEAPOT).code(), StatusCode::Unknown);
    }
}
