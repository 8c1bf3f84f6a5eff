//! [`RpcOutcome`]: how one call (client interceptors) or one RPC (server interceptors) ended,
//! as the status hooks of both sides see it.

use rpc_core::{Metadata, RpcError, StatusCode};
use std::time::Duration;

/// How a call or an RPC ended: its final status (code, details, trailing metadata, the
/// error with its rich details if it failed) and how long it took. Given to the status hooks
/// of interceptors: [`Responses::on_status`](crate::Responses::on_status) on the client,
/// [`RpcMethodHandler::on_status`](crate::RpcMethodHandler::on_status) on the server.
#[derive(Clone, Debug)]
pub struct RpcOutcome {
    result: Result<Metadata, RpcError>,
    elapsed: Duration,
}

impl RpcOutcome {
    /// An outcome: `Ok` with the trailing metadata of an OK end, or the error it ended with.
    pub fn new(result: Result<Metadata, RpcError>, elapsed: Duration) -> RpcOutcome {
        RpcOutcome { result, elapsed }
    }

    /// The status code (OK for a success).
    pub fn code(&self) -> StatusCode {
        match &self.result {
            Ok(_) => StatusCode::Ok,
            Err(e) => e.code(),
        }
    }

    /// The status details (empty for a success).
    pub fn details(&self) -> &str {
        match &self.result {
            Ok(_) => "",
            Err(e) => e.details(),
        }
    }

    /// The trailing metadata sent with the status.
    pub fn trailing_metadata(&self) -> &Metadata {
        match &self.result {
            Ok(md) => md,
            Err(e) => e.trailing_metadata(),
        }
    }

    /// The error the call or RPC ended with, if it failed.
    pub fn error(&self) -> Option<&RpcError> {
        self.result.as_ref().err()
    }

    /// How long it took: on the client from the run of the continuation that made the
    /// responses to the end; on the server from the moment the handler was given the RPC
    /// to the final status.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }
}
