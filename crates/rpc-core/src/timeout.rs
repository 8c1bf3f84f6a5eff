//! The `grpc-timeout` header: encoding a remaining time and parsing a received one.

use std::time::Duration;

/// The largest value gRPC allows in `grpc-timeout` (eight digits).
const MAX_DIGITS_VALUE: u64 = 99_999_999;

/// Encodes a timeout as a `grpc-timeout` value (at most eight digits and a unit),
/// picking the finest unit that fits; the value is rounded up, never down.
pub fn encode_grpc_timeout(timeout: Duration) -> String {
    let nanos = timeout.as_nanos();
    let units: [(u128, char); 6] = [
        (1, 'n'),
        (1_000, 'u'),
        (1_000_000, 'm'),
        (1_000_000_000, 'S'),
        (60_000_000_000, 'M'),
        (3_600_000_000_000, 'H'),
    ];
    for (per, unit) in units {
        let value = nanos.div_ceil(per);
        if value <= MAX_DIGITS_VALUE as u128 {
            return format!("{value}{unit}");
        }
    }
    format!("{MAX_DIGITS_VALUE}H")
}

/// Why a `grpc-timeout` value was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TimeoutError {
    /// The value is empty or has no unit.
    #[error("grpc-timeout {0:?} is too short: it needs digits and a unit")]
    TooShort(String),
    /// The value has more than eight digits.
    #[error("grpc-timeout {0:?} has more than eight digits")]
    TooLong(String),
    /// The digits are not decimal digits.
    #[error("grpc-timeout {0:?} does not start with decimal digits")]
    NotANumber(String),
    /// The unit is not one of H M S m u n.
    #[error("grpc-timeout {0:?} has an unknown unit (expected H, M, S, m, u or n)")]
    BadUnit(String),
}

/// Parses a `grpc-timeout` value such as `"100m"` or `"5S"`.
pub fn parse_grpc_timeout(value: &[u8]) -> Result<Duration, TimeoutError> {
    let shown = || String::from_utf8_lossy(value).into_owned();
    if value.len() < 2 {
        return Err(TimeoutError::TooShort(shown()));
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    if digits.len() > 8 {
        return Err(TimeoutError::TooLong(shown()));
    }
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(TimeoutError::NotANumber(shown()));
    }
    let n: u64 = digits.iter().fold(0, |acc, d| acc * 10 + u64::from(d - b'0'));
    let d = match unit[0] {
        b'H' => Duration::from_secs(n * 3600),
        b'M' => Duration::from_secs(n * 60),
        b'S' => Duration::from_secs(n),
        b'm' => Duration::from_millis(n),
        b'u' => Duration::from_micros(n),
        b'n' => Duration::from_nanos(n),
        _ => return Err(TimeoutError::BadUnit(shown())),
    };
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        for d in [
            Duration::from_nanos(1),
            Duration::from_millis(1500),
            Duration::from_secs(3600 * 24 * 365),
        ] {
            let enc = encode_grpc_timeout(d);
            assert!(enc.len() <= 9, "{enc}");
            assert!(parse_grpc_timeout(enc.as_bytes()).unwrap() >= d);
        }
        assert_eq!(parse_grpc_timeout(b"100m").unwrap(), Duration::from_millis(100));
        for bad in [&b""[..], b"m", b"123456789S", b"1x", b"-1S", b"1.5S", b"\xff\xfeS"] {
            assert!(parse_grpc_timeout(bad).is_err(), "{bad:?}");
        }
    }
}
