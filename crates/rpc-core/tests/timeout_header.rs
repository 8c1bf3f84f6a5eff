//! The `grpc-timeout` header: a table of valid and invalid values, and encoding that never shortens a timeout.

use rpc_core::timeout::{TimeoutError, encode_grpc_timeout, parse_grpc_timeout};
use std::time::Duration;

#[test]
fn valid_values() {
    let table: &[(&str, Duration)] = &[
        ("1H", Duration::from_secs(3600)),
        ("2M", Duration::from_secs(120)),
        ("5S", Duration::from_secs(5)),
        ("100m", Duration::from_millis(100)),
        ("250u", Duration::from_micros(250)),
        ("7n", Duration::from_nanos(7)),
        ("0S", Duration::ZERO),
        ("00000001S", Duration::from_secs(1)),
        ("99999999H", Duration::from_secs(99_999_999 * 3600)),
        ("99999999n", Duration::from_nanos(99_999_999)),
    ];
    for (value, expected) in table {
        assert_eq!(parse_grpc_timeout(value.as_bytes()), Ok(*expected), "{value}");
    }
}

#[test]
fn invalid_values() {
    let table: &[(&[u8], TimeoutError)] = &[
        (b"", TimeoutError::TooShort(String::new())),
        (b"S", TimeoutError::TooShort("S".into())),
        (b"1", TimeoutError::TooShort("1".into())),
        (b"123456789S", TimeoutError::TooLong("123456789S".into())),
        (b"1x", TimeoutError::BadUnit("1x".into())),
        (b"1s", TimeoutError::BadUnit("1s".into())),
        (b"10h", TimeoutError::BadUnit("10h".into())),
        (b"-1S", TimeoutError::NotANumber("-1S".into())),
        (b"+1S", TimeoutError::NotANumber("+1S".into())),
        (b"1.5S", TimeoutError::NotANumber("1.5S".into())),
        (b" 1S", TimeoutError::NotANumber(" 1S".into())),
        (b"1 S", TimeoutError::NotANumber("1 S".into())),
        (b"SS", TimeoutError::NotANumber("SS".into())),
    ];
    for (value, expected) in table {
        assert_eq!(
            parse_grpc_timeout(value).as_ref(),
            Err(expected),
            "{}",
            String::from_utf8_lossy(value)
        );
    }
    assert!(parse_grpc_timeout(b"\xff\xfeS").is_err());
    assert!(parse_grpc_timeout(b"1\xff").is_err());
}

#[test]
fn error_messages_quote_the_value() {
    assert!(parse_grpc_timeout(b"1x").unwrap_err().to_string().contains("\"1x\""));
}

#[test]
fn encoding_fits_eight_digits_and_never_shortens() {
    let table: &[(Duration, &str)] = &[
        (Duration::ZERO, "0n"),
        (Duration::from_nanos(1), "1n"),
        (Duration::from_millis(100), "100000u"),
        (Duration::from_nanos(99_999_999), "99999999n"),
        (Duration::from_secs(1), "1000000u"),
        (Duration::from_nanos(100_000_001), "100001u"),
    ];
    for (d, expected) in table {
        assert_eq!(encode_grpc_timeout(*d), *expected, "{d:?}");
    }
    for d in [
        Duration::from_nanos(123_456_789),
        Duration::from_secs(86_400 * 400),
        Duration::MAX,
        Duration::from_secs(99_999_999 * 3600),
    ] {
        let enc = encode_grpc_timeout(d);
        assert!(enc.len() <= 9, "{enc}");
        let parsed = parse_grpc_timeout(enc.as_bytes()).unwrap();
        assert!(parsed >= d || enc == "99999999H", "{d:?} -> {enc}");
    }
}
