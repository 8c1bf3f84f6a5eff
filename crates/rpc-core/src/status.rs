//! `StatusCode`: the seventeen gRPC status codes with their numbers and canonical names.

use std::fmt;

/// A gRPC status code, as carried in the `grpc-status` trailer.
///
/// The numbers and canonical names are gRPC's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(i32)]
pub enum StatusCode {
    /// Not an error; returned on success.
    Ok = 0,
    /// The operation was cancelled, typically by the caller.
    Cancelled = 1,
    /// Unknown error, e.g. a handler that panicked.
    Unknown = 2,
    /// The client specified an invalid argument.
    InvalidArgument = 3,
    /// The deadline expired before the operation could complete.
    DeadlineExceeded = 4,
    /// Some requested entity was not found.
    NotFound = 5,
    /// The entity that a client attempted to create already exists.
    AlreadyExists = 6,
    /// The caller does not have permission to execute the operation.
    PermissionDenied = 7,
    /// Some resource has been exhausted (quota, message size, server capacity).
    ResourceExhausted = 8,
    /// The system is not in a state required for the operation's execution.
    FailedPrecondition = 9,
    /// The operation was aborted, typically due to a concurrency issue.
    Aborted = 10,
    /// The operation was attempted past the valid range.
    OutOfRange = 11,
    /// The operation is not implemented or not supported.
    Unimplemented = 12,
    /// Internal error: an invariant expected by the system has been broken.
    Internal = 13,
    /// The service is currently unavailable; retrying may help.
    Unavailable = 14,
    /// Unrecoverable data loss or corruption.
    DataLoss = 15,
    /// The request does not have valid authentication credentials.
    Unauthenticated = 16,
}

impl StatusCode {
    /// All seventeen codes, in numeric order.
    pub const ALL: [StatusCode; 17] = [
        StatusCode::Ok,
        StatusCode::Cancelled,
        StatusCode::Unknown,
        StatusCode::InvalidArgument,
        StatusCode::DeadlineExceeded,
        StatusCode::NotFound,
        StatusCode::AlreadyExists,
        StatusCode::PermissionDenied,
        StatusCode::ResourceExhausted,
        StatusCode::FailedPrecondition,
        StatusCode::Aborted,
        StatusCode::OutOfRange,
        StatusCode::Unimplemented,
        StatusCode::Internal,
        StatusCode::Unavailable,
        StatusCode::DataLoss,
        StatusCode::Unauthenticated,
    ];

    /// The numeric value sent on the wire.
    pub const fn value(self) -> i32 {
        self as i32
    }

    /// The code for a wire number; numbers outside 0..=16 map to `Unknown`,
    /// as gRPC specifies.
    pub const fn from_i32(value: i32) -> StatusCode {
        if value >= 0 && value <= 16 {
            StatusCode::ALL[value as usize]
        } else {
            StatusCode::Unknown
        }
    }

    /// The canonical upper-case name, e.g. `"DEADLINE_EXCEEDED"`.
    pub const fn name(self) -> &'static str {
        match self {
            StatusCode::Ok => "OK",
            StatusCode::Cancelled => "CANCELLED",
            StatusCode::Unknown => "UNKNOWN",
            StatusCode::InvalidArgument => "INVALID_ARGUMENT",
            StatusCode::DeadlineExceeded => "DEADLINE_EXCEEDED",
            StatusCode::NotFound => "NOT_FOUND",
            StatusCode::AlreadyExists => "ALREADY_EXISTS",
            StatusCode::PermissionDenied => "PERMISSION_DENIED",
            StatusCode::ResourceExhausted => "RESOURCE_EXHAUSTED",
            StatusCode::FailedPrecondition => "FAILED_PRECONDITION",
            StatusCode::Aborted => "ABORTED",
            StatusCode::OutOfRange => "OUT_OF_RANGE",
            StatusCode::Unimplemented => "UNIMPLEMENTED",
            StatusCode::Internal => "INTERNAL",
            StatusCode::Unavailable => "UNAVAILABLE",
            StatusCode::DataLoss => "DATA_LOSS",
            StatusCode::Unauthenticated => "UNAUTHENTICATED",
        }
    }

    /// Parses a canonical name (as returned by [`StatusCode::name`]).
    pub fn from_name(name: &str) -> Option<StatusCode> {
        StatusCode::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_number_and_name() {
        for (i, code) in StatusCode::ALL.into_iter().enumerate() {
            assert_eq!(code.value(), i as i32);
            assert_eq!(StatusCode::from_i32(i as i32), code);
            assert_eq!(StatusCode::from_name(code.name()), Some(code));
        }
        assert_eq!(StatusCode::from_i32(17), StatusCode::Unknown);
        assert_eq!(StatusCode::from_i32(-1), StatusCode::Unknown);
        assert_eq!(StatusCode::DeadlineExceeded.to_string(), "DEADLINE_EXCEEDED");
    }
}
