//! The blocking call objects: futures for unary responses (gRPC Python's `Future` + `Call`)
//! and iterators for streamed ones, each holding its rpc-aio call object.
//!
//! # Design
//!
//! An rpc-aio call runs as a task on the private runtime and publishes what happens;
//! a blocking call object polls its aio call object *on the caller's thread*, parking
//! between polls ([`RuntimeHandle::wait`]), so a response reaches the caller with one
//! thread hop and no extra task. Dropping a blocking call object drops the aio one, which
//! cancels an unfinished call. Request iterators are pumped by rpc-aio on the runtime's
//! blocking pool, where they may block (even on other blocking calls).

mod streaming;
mod unary;

pub use rpc_aio::CallDetails;
pub use streaming::{StreamStreamCall, UnaryStreamCall};
pub use unary::{StreamUnaryCall, UnaryCall};

use crate::channel::Channel;
use crate::runtime::{self, RuntimeHandle};
use rpc_core::{IntoRequestSource, Request, RequestSource, RpcError};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Starts a call and blocks until it finishes; refused (nothing sent) where blocking is not
/// allowed.
pub(crate) fn blocking<T, F>(runtime: &RuntimeHandle, start: impl FnOnce() -> F) -> Result<T, RpcError>
where
    F: Future<Output = Result<T, RpcError>>,
{
    runtime.may_block()?;
    runtime.wait(start())?
}

/// A request source as rpc-aio's multi-callables take it.
pub(crate) struct Source<T>(pub(crate) RequestSource<T>);

impl<T> IntoRequestSource<T> for Source<T> {
    fn into_request_source(self) -> RequestSource<T> {
        self.0
    }
}

/// Lets a request iterator block (rpc-aio pumps it on the private runtime's blocking pool).
struct MayBlock<T>(Box<dyn Iterator<Item = T> + Send>);

impl<T> Iterator for MayBlock<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        runtime::allow_blocking(|| self.0.next())
    }
}

/// Prepares the request source of a request-streaming call: iterators may block; a
/// `WriteRequests` source (nothing can write in the blocking face) gets a channel view that
/// fails the call with FAILED_PRECONDITION before anything is sent.
pub(crate) fn prepare<Req: Send + 'static>(
    channel: &Channel,
    request: Request<RequestSource<Req>>,
) -> (Option<rpc_aio::Channel>, Request<RequestSource<Req>>) {
    let mut refuse = None;
    let request = request.map(|source| match source {
        RequestSource::Iter(iter) => RequestSource::Iter(Box::new(MayBlock(iter))),
        RequestSource::Writer => {
            refuse = Some(channel.as_aio().with_interceptors([Arc::new(|_, _| async {
                Err(RpcError::failed_precondition(
                    "WriteRequests has no writer in rpc-sync: pass the requests as an iterator (or use rpc-aio)",
                ))
            }) as Arc<dyn rpc_aio::ClientInterceptor>]));
            RequestSource::Writer
        }
        stream => stream,
    });
    (refuse, request)
}

/// The error of a `result(timeout)` that timed out.
pub(crate) fn wait_timed_out(timeout: Option<Duration>) -> RpcError {
    RpcError::deadline_exceeded(format!(
        "timed out after {:?} waiting for the result; the call goes on",
        timeout.unwrap_or_default()
    ))
}

/// Runs a done callback on the blocking pool, where it may block.
pub(crate) fn on_blocking_pool(
    runtime: &RuntimeHandle,
    callback: impl FnOnce(&CallDetails) + Send + 'static,
) -> impl FnOnce(&CallDetails) + Send + 'static {
    let runtime = runtime.clone();
    move |details: &CallDetails| {
        let details = details.clone();
        drop(runtime.spawn_blocking(move || callback(&details)));
    }
}
