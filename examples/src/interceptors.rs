//! Interceptors on both ends of a call: on the client, [`LoggingInterceptor`] logs each
//! call and how it ended; on the server, [`RequireBearerToken`]
//! refuses calls without a valid token with UNAUTHENTICATED before any handler runs.
//! [`run`] shows the two together: one call without a token, one with.

use crate::auth::RequireBearerToken;
use crate::greeter::AsyncGreeter;
use crate::pb::helloworld::{GreeterStub, HelloRequest, add_greeter_servicer_to_server};
use futures::StreamExt;
use futures::future::BoxFuture;
use rpc_aio::{ClientCallDetails, ClientInterceptor, Next, Responses};
use rpc_core::{CallCredentials, ChannelCredentials, Request, RpcError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A client interceptor that logs every call: the method on the way out, then each
/// response or the error, with the time taken. Lines go to stdout and are kept, so tests
/// can read them ([`lines`](Self::lines)). Clones share the log.
#[derive(Debug, Clone, Default)]
pub struct LoggingInterceptor {
    lines: Arc<Mutex<Vec<String>>>,
}

impl LoggingInterceptor {
    /// A logger with an empty log.
    pub fn new() -> LoggingInterceptor {
        LoggingInterceptor::default()
    }

    /// The lines logged so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn log(&self, line: String) {
        println!("  [client log] {line}");
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).push(line);
    }
}

impl ClientInterceptor for LoggingInterceptor {
    fn intercept(&self, details: ClientCallDetails, next: Next) -> BoxFuture<'static, Result<Responses, RpcError>> {
        let log = self.clone();
        let method = details.method.clone();
        let start = Instant::now();
        log.log(format!(
            "-> {method} (timeout {:?})",
            details.timeout().map(|t| Duration::from_secs(t.as_secs_f64().round() as u64))
        ));
        Box::pin(async move {
            let ended = {
                let (log, method) = (log.clone(), method.clone());
                move |err: &RpcError| {
                    log.log(format!(
                        "<- {method}: {} {:?} after {:?}",
                        err.code(),
                        err.details(),
                        start.elapsed()
                    ))
                }
            };
            match next.run(details).await {
                Err(err) => {
                    ended(&err);
                    Err(err)
                }
                Ok(responses) => Ok(Responses::from_stream(responses.inspect(move |item| match item {
                    Ok(_) => log.log(format!("<- {method}: a response after {:?}", start.elapsed())),
                    Err(err) => ended(err),
                }))),
            }
        })
    }
}

/// Starts an async greeter on `127.0.0.1:port` (0 picks one) that requires `token`.
///
/// # Errors
/// If the port cannot be bound or the server cannot start.
pub async fn start_server(port: u16, token: &str) -> Result<(rpc_aio::Server, u16), RpcError> {
    let server = rpc_aio::server(rpc_core::ServerOptions::default());
    server.add_interceptor(RequireBearerToken::new([token]));
    add_greeter_servicer_to_server(AsyncGreeter, &server);
    let port = server.add_insecure_port(&format!("127.0.0.1:{port}"))?;
    server.start().await?;
    Ok((server, port))
}

/// Calls the greeter at `target` twice through a logging channel: without a token (the
/// server's interceptor answers UNAUTHENTICATED) and with `token` as call credentials
/// (a local channel may carry them). Returns the first call's error and the second's reply.
///
/// # Errors
/// If the first call succeeds (the token check is missing) or the second fails.
pub async fn run(target: &str, token: &str, log: &LoggingInterceptor) -> Result<(RpcError, String), RpcError> {
    let say_hello = async |credentials: ChannelCredentials| {
        let channel = rpc_aio::Channel::builder(target)
            .credentials(credentials)
            .interceptor(log.clone())
            .build()?;
        let request = Request::new(HelloRequest {
            name: "interceptors".into(),
        })
        .timeout(Duration::from_secs(5));
        GreeterStub::new(channel).say_hello(request).await
    };
    let refused = match say_hello(ChannelCredentials::local()).await {
        Ok(reply) => return Err(RpcError::internal(format!("served without a token: {}", reply.message))),
        Err(err) => err,
    };
    let with_token = ChannelCredentials::local().with_call_credentials(CallCredentials::access_token(token));
    let reply = say_hello(with_token).await?;
    Ok((refused, reply.message))
}
