//! `RpcError`: a call's non-OK outcome (code, details, metadata, rich details), one pointer wide.

use crate::details::{ErrorDetail, RpcStatusProto};
use crate::metadata::Metadata;
use crate::status::StatusCode;
use bytes::Bytes;
use prost::Message;
use std::fmt;

/// The error of a gRPC call: a [`StatusCode`], a details message, the metadata the peer
/// sent, and optional rich details (`google.rpc.Status` in `grpc-status-details-bin`).
///
/// The library never reports OK as an error: a call that ends OK gives its response.
/// [`RpcError::new`] takes any code, so code of yours can build one with OK; a handler that
/// returns it (or aborts with it) ends its RPC UNKNOWN, as gRPC does.
///
/// It is boxed inside, so `Result<T, RpcError>` stays small and moving it is cheap.
pub struct RpcError {
    inner: Box<ErrorInner>,
}

#[derive(Clone)]
struct ErrorInner {
    code: StatusCode,
    details: String,
    initial_metadata: Metadata,
    trailing_metadata: Metadata,
    debug_error_string: Option<String>,
    rich: Vec<prost_types::Any>,
}

macro_rules! constructors {
    ($($name:ident => $code:ident),* $(,)?) => {
        $(
            #[doc = concat!("An error with code `", stringify!($code), "` and the given details.")]
            pub fn $name(details: impl Into<String>) -> RpcError {
                RpcError::new(StatusCode::$code, details)
            }
        )*
    };
}

impl RpcError {
    /// An error with `code` and a human-readable `details` message.
    pub fn new(code: StatusCode, details: impl Into<String>) -> RpcError {
        RpcError {
            inner: Box::new(ErrorInner {
                code,
                details: details.into(),
                initial_metadata: Metadata::new(),
                trailing_metadata: Metadata::new(),
                debug_error_string: None,
                rich: Vec::new(),
            }),
        }
    }

    constructors! {
        cancelled => Cancelled,
        unknown => Unknown,
        invalid_argument => InvalidArgument,
        deadline_exceeded => DeadlineExceeded,
        not_found => NotFound,
        already_exists => AlreadyExists,
        permission_denied => PermissionDenied,
        resource_exhausted => ResourceExhausted,
        failed_precondition => FailedPrecondition,
        aborted => Aborted,
        out_of_range => OutOfRange,
        unimplemented => Unimplemented,
        internal => Internal,
        unavailable => Unavailable,
        data_loss => DataLoss,
        unauthenticated => Unauthenticated,
    }

    /// The status code.
    pub fn code(&self) -> StatusCode {
        self.inner.code
    }

    /// The details message (`grpc-message`).
    pub fn details(&self) -> &str {
        &self.inner.details
    }

    /// The initial metadata (headers) the peer sent before the error, if any.
    pub fn initial_metadata(&self) -> &Metadata {
        &self.inner.initial_metadata
    }

    /// The trailing metadata sent with the error.
    pub fn trailing_metadata(&self) -> &Metadata {
        &self.inner.trailing_metadata
    }

    /// A longer description for debugging (where the error came from), if any.
    pub fn debug_error_string(&self) -> Option<&str> {
        self.inner.debug_error_string.as_deref()
    }

    /// Changes the status code, keeping details, metadata and rich details.
    pub fn with_code(mut self, code: StatusCode) -> RpcError {
        self.inner.code = code;
        self
    }

    /// Sets the trailing metadata.
    pub fn with_trailing_metadata(mut self, metadata: Metadata) -> RpcError {
        self.inner.trailing_metadata = metadata;
        self
    }

    /// Sets the initial metadata.
    pub fn with_initial_metadata(mut self, metadata: Metadata) -> RpcError {
        self.inner.initial_metadata = metadata;
        self
    }

    /// Sets the debug string.
    pub fn with_debug_error_string(mut self, debug: impl Into<String>) -> RpcError {
        self.inner.debug_error_string = Some(debug.into());
        self
    }

    /// Mutable access to the trailing metadata.
    pub fn trailing_metadata_mut(&mut self) -> &mut Metadata {
        &mut self.inner.trailing_metadata
    }

    /// Attaches one rich error detail (e.g. [`crate::details::BadRequest`]); it is sent in
    /// `grpc-status-details-bin` as part of a `google.rpc.Status`.
    pub fn with_detail<D: ErrorDetail>(mut self, detail: D) -> RpcError {
        self.inner.rich.push(prost_types::Any {
            type_url: D::TYPE_URL.to_owned(),
            value: detail.encode_to_vec(),
        });
        self
    }

    /// Every attached detail of type `D`, in order (undecodable ones are skipped).
    pub fn details_of<D: ErrorDetail>(&self) -> Vec<D> {
        self.inner
            .rich
            .iter()
            .filter(|any| any.type_url == D::TYPE_URL)
            .filter_map(|any| D::decode(any.value.as_slice()).ok())
            .collect()
    }

    /// The first attached detail of type `D`.
    pub fn detail<D: ErrorDetail>(&self) -> Option<D> {
        self.details_of::<D>().into_iter().next()
    }

    /// The raw rich details (`google.protobuf.Any` values).
    pub fn rich_details(&self) -> &[prost_types::Any] {
        &self.inner.rich
    }

    /// The whole `google.rpc.Status`, as sent in `grpc-status-details-bin`.
    pub fn status_proto(&self) -> RpcStatusProto {
        RpcStatusProto {
            code: self.code().value(),
            message: self.details().to_owned(),
            details: self.inner.rich.clone(),
        }
    }

    /// The encoded `grpc-status-details-bin` value, or `None` when there are no rich details.
    pub fn encoded_status_details(&self) -> Option<Bytes> {
        if self.inner.rich.is_empty() {
            None
        } else {
            Some(Bytes::from(self.status_proto().encode_to_vec()))
        }
    }

    /// Reads rich details back from an encoded `google.rpc.Status`; undecodable bytes are ignored.
    pub fn with_encoded_status_details(mut self, encoded: &[u8]) -> RpcError {
        if let Ok(status) = RpcStatusProto::decode(encoded) {
            self.inner.rich = status.details;
        }
        self
    }

    /// Whether the code is `Cancelled`.
    pub fn is_cancelled(&self) -> bool {
        self.code() == StatusCode::Cancelled
    }

    /// Whether the code is `DeadlineExceeded`.
    pub fn is_deadline_exceeded(&self) -> bool {
        self.code() == StatusCode::DeadlineExceeded
    }

    /// Whether the code is `Unavailable`.
    pub fn is_unavailable(&self) -> bool {
        self.code() == StatusCode::Unavailable
    }
}

impl Clone for RpcError {
    fn clone(&self) -> Self {
        RpcError { inner: self.inner.clone() }
    }
}

impl fmt::Display for RpcError {
    /// One line: `CODE: details` (line breaks in the details are escaped).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code().name())?;
        if !self.details().is_empty() {
            f.write_str(": ")?;
            for ch in self.details().chars() {
                match ch {
                    '\n' => f.write_str("\\n")?,
                    '\r' => f.write_str("\\r")?,
                    c => fmt::Write::write_char(f, c)?,
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RpcError");
        d.field("code", &self.code()).field("details", &self.details());
        if !self.initial_metadata().is_empty() {
            d.field("initial_metadata", self.initial_metadata());
        }
        if !self.trailing_metadata().is_empty() {
            d.field("trailing_metadata", self.trailing_metadata());
        }
        if let Some(s) = self.debug_error_string() {
            d.field("debug_error_string", &s);
        }
        if !self.inner.rich.is_empty() {
            d.field("rich_details", &self.inner.rich.len());
        }
        d.finish()
    }
}

impl std::error::Error for RpcError {}

impl From<crate::credentials::CredentialsError> for RpcError {
    /// Credentials that cannot be used (bad PEM, a key without its chain) are
    /// `INVALID_ARGUMENT` naming the problem, so `ServerCredentials::ssl(..)?` works in a
    /// function that returns `RpcError`.
    fn from(err: crate::credentials::CredentialsError) -> Self {
        RpcError::invalid_argument(err.to_string())
    }
}

impl From<crate::metadata::MetadataError> for RpcError {
    /// Invalid metadata from the application is an `INTERNAL` error naming the problem.
    fn from(err: crate::metadata::MetadataError) -> Self {
        RpcError::internal(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_one_pointer_wide() {
        assert_eq!(std::mem::size_of::<RpcError>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn display_is_one_line() {
        let e = RpcError::unavailable("connect failed\nretry");
        assert_eq!(e.to_string(), "UNAVAILABLE: connect failed\\nretry");
        assert_eq!(RpcError::new(StatusCode::Cancelled, "").to_string(), "CANCELLED");
    }
}
