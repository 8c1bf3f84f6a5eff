//! [`Error`]: why loading descriptors, looking up a symbol, converting JSON or asking a
//! server for its descriptors failed, with a kind to branch on and the RPC status when a
//! call failed.

use rpc_core::{RpcError, StatusCode};
use std::fmt;

/// What went wrong, broadly; see [`Error::kind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A `.proto` file could not be read, parsed or resolved (protox's message says which).
    Load,
    /// Descriptors were inconsistent: a file that does not decode, a missing dependency,
    /// a type defined twice.
    Descriptor,
    /// A symbol, method or file is not known.
    NotFound,
    /// A name was malformed (e.g. a method name without a service).
    InvalidName,
    /// JSON did not parse, or does not match the message type.
    Json,
    /// A method was asked for as another kind than it is (a unary method's
    /// multi-callable from a dynamic stub's `stream_stream`, a handler of the wrong kind).
    WrongKind,
    /// A call to the server failed; [`Error::rpc_error`] has the status.
    Rpc,
    /// The server does not serve reflection (v1 nor v1alpha).
    ReflectionUnavailable,
    /// The server answered a reflection request with something unexpected.
    Reflection,
}

/// An error of this crate: a kind, a readable one-line message, and the RPC status when a
/// call failed. One pointer wide.
pub struct Error {
    inner: Box<ErrorImpl>,
}

struct ErrorImpl {
    kind: ErrorKind,
    message: String,
    rpc: Option<RpcError>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            inner: Box::new(ErrorImpl {
                kind,
                message: message.into(),
                rpc: None,
            }),
        }
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::NotFound, message)
    }

    pub(crate) fn invalid_name(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidName, message)
    }

    pub(crate) fn wrong_kind(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::WrongKind, message)
    }

    pub(crate) fn json(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Json, message)
    }

    pub(crate) fn descriptor(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Descriptor, message)
    }

    pub(crate) fn reflection(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Reflection, message)
    }

    /// A failed call, with `what` saying what the call was for.
    pub(crate) fn rpc(what: &str, error: RpcError) -> Error {
        let kind = if error.code() == StatusCode::Unimplemented {
            ErrorKind::ReflectionUnavailable
        } else {
            ErrorKind::Rpc
        };
        let message = match kind {
            ErrorKind::ReflectionUnavailable => {
                format!("{what}: the server does not support the reflection API ({error})")
            }
            _ => format!("{what}: {error}"),
        };
        Error {
            inner: Box::new(ErrorImpl {
                kind,
                message,
                rpc: Some(error),
            }),
        }
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The status of the failed call, for [`ErrorKind::Rpc`] and
    /// [`ErrorKind::ReflectionUnavailable`].
    pub fn rpc_error(&self) -> Option<&RpcError> {
        self.inner.rpc.as_ref()
    }

    /// Whether a symbol, method or file was not found.
    pub fn is_not_found(&self) -> bool {
        self.inner.kind == ErrorKind::NotFound
    }

    /// The message, without the kind.
    pub fn message(&self) -> &str {
        &self.inner.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.inner.kind)
            .field("message", &self.inner.message)
            .field("rpc", &self.inner.rpc.as_ref().map(RpcError::code))
            .finish()
    }
}

impl std::error::Error for Error {}

impl From<prost_reflect::DescriptorError> for Error {
    fn from(error: prost_reflect::DescriptorError) -> Self {
        Error::descriptor(format!("invalid descriptors: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_one_pointer() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn unimplemented_means_no_reflection() {
        let e = Error::rpc("listing services", RpcError::new(StatusCode::Unimplemented, "nope"));
        assert_eq!(e.kind(), ErrorKind::ReflectionUnavailable);
        assert_eq!(e.rpc_error().map(RpcError::code), Some(StatusCode::Unimplemented));
        let e = Error::rpc("listing services", RpcError::new(StatusCode::Unavailable, "down"));
        assert_eq!(e.kind(), ErrorKind::Rpc);
        assert!(e.to_string().starts_with("listing services: "), "{e}");
    }
}
