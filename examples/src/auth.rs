//! Token authentication on the server: an interceptor that rejects RPCs without a valid
//! `authorization: Bearer <token>` header with UNAUTHENTICATED before any handler runs.
//! Clients send the token with `CallCredentials::access_token` over a TLS or local channel.

use futures::future::BoxFuture;
use rpc_aio::{Continuation, HandlerCallDetails, RpcMethodHandler, ServerInterceptor, StatusCode};
use std::collections::HashSet;

/// Accepts RPCs whose `authorization` header is `Bearer <one of the tokens>`.
#[derive(Debug, Clone)]
pub struct RequireBearerToken {
    tokens: HashSet<String>,
}

impl RequireBearerToken {
    /// An interceptor accepting any of `tokens`.
    pub fn new(tokens: impl IntoIterator<Item = impl Into<String>>) -> RequireBearerToken {
        RequireBearerToken {
            tokens: tokens.into_iter().map(Into::into).collect(),
        }
    }

    /// Why `header` (the `authorization` value, if any) is refused, or `None` if accepted.
    pub fn check(&self, header: Option<&str>) -> Option<&'static str> {
        let Some(header) = header else {
            return Some("missing authorization header");
        };
        match header.strip_prefix("Bearer ") {
            Some(token) if self.tokens.contains(token) => None,
            Some(_) => Some("invalid token"),
            None => Some("authorization header is not a bearer token"),
        }
    }
}

impl ServerInterceptor for RequireBearerToken {
    fn intercept_service(&self, next: Continuation, details: HandlerCallDetails) -> BoxFuture<'static, Option<RpcMethodHandler>> {
        let refused = self.check(details.invocation_metadata.get_str("authorization"));
        Box::pin(async move {
            match refused {
                Some(why) => Some(RpcMethodHandler::abort(StatusCode::Unauthenticated, why)),
                None => next.run(details).await,
            }
        })
    }
}
