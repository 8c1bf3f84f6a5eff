//! Running one typed handler for one RPC: the requests are read and decoded
//! ([`super::requests`]), the handler runs (blocking ones on the worker pool, async ones
//! inline on the connection's task, with the RPC's deadline inherited by calls they make),
//! and what it returns becomes the response ([`super::responses`]), which always ends with
//! the final status and the trailing metadata.

use super::context::{Rpc, panicked};
use super::guard::Guarded;
use super::pull::Puller;
use super::requests::{self, Requests};
use super::responses::{ServerBody, Source, error_response, respond, respond_now};
use crate::deadline;
use futures::future::BoxFuture;
use futures::{FutureExt, TryFutureExt};
use hyper::body::Incoming;
use rpc_core::codec::{Decoder, Encoder};
use rpc_core::codegen::{BlockingFn, MethodHandler};
use rpc_core::{ResponseIterator, RpcError, ServicerContext};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tokio::sync::oneshot;

/// Serves one RPC with `handler`, its messages going through `codec`.
pub(crate) async fn serve<Req, Resp, C>(
    handler: MethodHandler<Req, Resp>,
    request: http::Request<Incoming>,
    mut rpc: Rpc,
    codec: Arc<C>,
) -> http::Response<ServerBody>
where
    Req: Send + 'static,
    Resp: Send + 'static,
    C: Decoder<Req> + Encoder<Resp>,
{
    let requests = Requests::new(request.into_body(), &rpc, codec.clone());
    use MethodHandler::*;
    if !handler.kind().client_streaming() {
        let first = {
            let read = Guarded::new(
                &rpc,
                Box::pin(async move {
                    let mut requests = requests;
                    requests::first(&mut requests).await
                }),
                false,
            );
            read.await
        };
        let request = match first {
            Ok((request, compressed)) => {
                rpc.control.set_last_request_compressed(compressed);
                request
            }
            Err(e) => return error_response(rpc, e),
        };
        return match handler {
            BlockingUnaryUnary(f) => blocking_unary(rpc, f, request, codec).await,
            BlockingUnaryStream(f) => blocking_streaming(rpc, f, request, codec, true).await,
            AsyncUnaryUnary(f) => {
                let fut = f(request, rpc.ctx.clone());
                async_unary(rpc, fut, codec).await
            }
            AsyncUnaryStream(f) => {
                let fut = f(request, rpc.ctx.clone());
                async_streaming(rpc, fut, codec).await
            }
            _ => error_response(rpc, RpcError::internal("a request-streaming handler on a unary-request path")),
        };
    }
    match handler {
        BlockingStreamUnary(f) => {
            let iter = requests::iterator(&mut rpc, requests);
            blocking_unary(rpc, f, iter, codec).await
        }
        BlockingStreamStream(f) => {
            let iter = requests::iterator(&mut rpc, requests);
            blocking_streaming(rpc, f, iter, codec, false).await
        }
        AsyncStreamUnary(f) => {
            let fut = f(requests::stream(requests, rpc.control.clone()), rpc.ctx.clone());
            async_unary(rpc, fut, codec).await
        }
        AsyncStreamStream(f) => {
            let fut = f(requests::stream(requests, rpc.control.clone()), rpc.ctx.clone());
            async_streaming(rpc, fut, codec).await
        }
        _ => error_response(rpc, RpcError::internal("a unary-request handler on a request-streaming path")),
    }
}

/// Waits for a handler to produce its responses, or, if it sends initial metadata early
/// first, sends the response headers then and lets the body wait for the handler.
async fn answer<Resp, C>(rpc: Rpc, mut handler: Guarded<Source<Resp>>, codec: Arc<C>) -> http::Response<ServerBody>
where
    Resp: Send + 'static,
    C: Encoder<Resp>,
{
    tokio::select! {
        biased;
        result = &mut handler => match result {
            Ok(source) => respond(rpc, source, codec),
            Err(e) => error_response(rpc, e),
        },
        () = rpc.initial_metadata_sent() => respond_now(rpc, Source::Pending(Box::pin(handler)), codec),
    }
}

/// Runs an async handler future inline, with the RPC's deadline inherited by calls it
/// makes, its panics caught, and its deadline and cancellation watched.
fn guard_async<T: Send + 'static>(rpc: &Rpc, fut: BoxFuture<'static, Result<T, RpcError>>) -> Guarded<T> {
    let fut = deadline::scope_async(rpc.deadline, AssertUnwindSafe(fut).catch_unwind())
        .map(|r| r.unwrap_or_else(|p| Err(panicked(p.as_ref()))))
        .boxed();
    Guarded::new(rpc, fut, true)
}

async fn async_unary<Resp, C>(rpc: Rpc, fut: BoxFuture<'static, Result<Resp, RpcError>>, codec: Arc<C>) -> http::Response<ServerBody>
where
    Resp: Send + 'static,
    C: Encoder<Resp>,
{
    let handler = guard_async(&rpc, fut.map_ok(|m| Source::One(Some(m))).boxed());
    answer(rpc, handler, codec).await
}

async fn async_streaming<Resp, C>(
    rpc: Rpc,
    fut: BoxFuture<'static, Result<rpc_core::ResponseStream<Resp>, RpcError>>,
    codec: Arc<C>,
) -> http::Response<ServerBody>
where
    Resp: Send + 'static,
    C: Encoder<Resp>,
{
    let handler = guard_async(&rpc, fut.map_ok(Source::Stream).boxed());
    answer(rpc, handler, codec).await
}

/// Runs `job` on the worker pool; RESOURCE_EXHAUSTED when the pool and its queue are full.
fn on_pool(rpc: &Rpc, job: impl FnOnce(&ServicerContext) + Send + 'static) -> Result<(), RpcError> {
    let ctx = rpc.ctx.clone();
    let deadline = rpc.deadline;
    // The RPC's span (current while the RPC is served) is entered on the worker too.
    let span = tracing::Span::current();
    rpc.env
        .pool
        .execute(move || {
            let _entered = span.enter();
            // An RPC cancelled while its job waited in the queue is not run at all.
            if ctx.is_active() {
                deadline::scope_blocking(deadline, || job(&ctx));
            }
        })
        .map_err(|full| {
            RpcError::resource_exhausted(format!(
                "the server is busy: all {} worker threads are busy and {} RPCs are queued",
                full.workers, full.queued
            ))
        })
}

/// What a blocking job that never ran answers (the RPC ended while it waited for a
/// worker); [`Guarded`] replaces it with the status of what ended the RPC.
fn not_run() -> RpcError {
    RpcError::cancelled("the handler did not run: the RPC ended while it waited for a worker")
}

async fn blocking_unary<In, Resp, C>(rpc: Rpc, f: BlockingFn<In, Resp>, input: In, codec: Arc<C>) -> http::Response<ServerBody>
where
    In: Send + 'static,
    Resp: Send + 'static,
    C: Encoder<Resp>,
{
    let (tx, rx) = oneshot::channel();
    let submitted = on_pool(&rpc, move |ctx| {
        let r = std::panic::catch_unwind(AssertUnwindSafe(|| f(input, ctx))).unwrap_or_else(|p| Err(panicked(p.as_ref())));
        let _ = tx.send(r);
    });
    if let Err(e) = submitted {
        return error_response(rpc, e);
    }
    let wait = async move { rx.await.unwrap_or_else(|_| Err(not_run())).map(|m| Source::One(Some(m))) };
    let handler = Guarded::new(&rpc, Box::pin(wait), false);
    answer(rpc, handler, codec).await
}

async fn blocking_streaming<In, Resp, C>(
    rpc: Rpc,
    f: BlockingFn<In, ResponseIterator<Resp>>,
    input: In,
    codec: Arc<C>,
    worker_encodes: bool,
) -> http::Response<ServerBody>
where
    In: Send + 'static,
    Resp: Send + 'static,
    C: Encoder<Resp>,
{
    let (started_tx, started_rx) = oneshot::channel();
    let (pool, control, deadline) = (rpc.env.pool.clone(), rpc.control.clone(), rpc.deadline);
    let submitted = on_pool(&rpc, move |ctx| {
        let responses = match std::panic::catch_unwind(AssertUnwindSafe(|| f(input, ctx))) {
            Ok(Ok(responses)) => responses,
            Ok(Err(e)) => return drop(started_tx.send(Err(e))),
            Err(p) => return drop(started_tx.send(Err(panicked(p.as_ref())))),
        };
        if responses.is_channel() {
            // Read by the connection without a worker: this one is free at once.
            return drop(started_tx.send(Ok(Source::Sender(responses))));
        }
        // Pulled while the stream can take more: the first batch here, the rest on
        // whichever worker is free when the connection wants them.
        let (puller, first) = Puller::new(responses, pool, ctx.clone(), control, deadline, worker_encodes);
        if started_tx.send(Ok(Source::Pulled(puller))).is_ok() {
            first.run();
        }
    });
    if let Err(e) = submitted {
        return error_response(rpc, e);
    }
    let wait = Guarded::new(
        &rpc,
        Box::pin(async move { started_rx.await.unwrap_or_else(|_| Err(not_run())) }),
        false,
    );
    match wait.await {
        Ok(source) => respond(rpc, source, codec),
        Err(e) => error_response(rpc, e),
    }
}
