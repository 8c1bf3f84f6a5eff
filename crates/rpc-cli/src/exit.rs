//! `Failure`: what ends a command unsuccessfully, with the exit code it maps to.
//!
//! | exit code | meaning |
//! |---|---|
//! | 0 | success (`health`: the service is SERVING) |
//! | 1 | failure before or around the RPC: bad input, unknown symbol, no connection, reflection failed |
//! | 2 | bad command line (clap's usage errors) |
//! | 4 | `health`: the service answered, and is not SERVING |
//! | 64 + code | the RPC failed with that status code (CANCELLED 65 ... UNAUTHENTICATED 80) |

use rpc_core::RpcError;
use std::fmt;

/// Exit code of a `health` answer other than SERVING.
pub(crate) const NOT_SERVING: i32 = 4;
/// Exit code of a failure that is not the RPC's status.
pub(crate) const GENERAL: i32 = 1;
/// Exit code of a bad command line.
pub(crate) const USAGE: i32 = 2;
/// An RPC that failed with status `code` exits with `RPC_BASE + code`, as grpcurl does.
pub(crate) const RPC_BASE: i32 = 64;

/// A failed command: the message for stderr and the exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: i32,
    pub(crate) message: String,
    /// The failed RPC, printed as grpcurl prints an error status.
    pub(crate) status: Option<RpcError>,
}

impl Failure {
    /// A failure with exit code 1.
    pub(crate) fn general(message: impl Into<String>) -> Failure {
        Failure {
            code: GENERAL,
            message: message.into(),
            status: None,
        }
    }

    /// A bad argument, exit code 2.
    pub(crate) fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: USAGE,
            message: message.into(),
            status: None,
        }
    }

    /// The invoked RPC failed: exit code 64 + its status code.
    pub(crate) fn rpc(error: RpcError) -> Failure {
        Failure {
            code: RPC_BASE + error.code().value(),
            message: String::new(),
            status: Some(error),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<rpc_dynamic::Error> for Failure {
    fn from(error: rpc_dynamic::Error) -> Self {
        Failure::general(error.to_string())
    }
}

/// grpcurl's spelling of a status code in its error block: `NotFound`, `DeadlineExceeded`.
pub(crate) fn camel_case_code(error: &RpcError) -> String {
    error
        .code()
        .name()
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars.flat_map(char::to_lowercase)).collect(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rpc_core::StatusCode;

    #[test]
    fn codes_follow_grpcurl() {
        let failure = Failure::rpc(RpcError::new(StatusCode::NotFound, "x"));
        assert_eq!(failure.code, 69);
        assert_eq!(Failure::rpc(RpcError::new(StatusCode::Unauthenticated, "x")).code, 80);
        assert_eq!(
            camel_case_code(&RpcError::new(StatusCode::DeadlineExceeded, "x")),
            "DeadlineExceeded"
        );
        assert_eq!(camel_case_code(&RpcError::new(StatusCode::NotFound, "x")), "NotFound");
    }
}
