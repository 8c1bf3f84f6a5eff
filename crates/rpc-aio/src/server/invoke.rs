//! Running one typed handler for one RPC: tonic decodes the requests (framing, request
//! compression) and encodes the responses; this module feeds the handler, blocking ones
//! on the worker pool and async ones inline, turns what it returns into a response stream
//! that always ends with the final status and the trailing metadata, and compresses the
//! responses as the handler chose ([`super::compress`]).
//!
//! Every kind goes through tonic's streaming-response path, so that trailing metadata can
//! follow an OK response (tonic's unary path has no trailers of its own).

use super::body::LimitedBody;
use super::compress::{PlainMarks, ResponseCompression};
use super::out::{OutStream, Source};
use super::rpc::{Guarded, Rpc, panicked};
use crate::deadline;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, TryFutureExt};
use rpc_core::codegen::{BlockingFn, MethodHandler};
use rpc_core::{ContextControl, RequestIterator, RequestStream, ResponseIterator, RpcError, ServicerContext};
use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use tokio::sync::{mpsc, oneshot};
use tonic::codec::CompressionEncoding;
use tonic::server::Grpc;
use tonic::{Status, Streaming};

/// Responses a blocking handler may produce ahead of the client.
const BLOCKING_RESPONSE_BUFFER: usize = 8;
/// Requests read ahead for a blocking handler.
const BLOCKING_REQUEST_BUFFER: usize = 8;

type Answer<Resp> = BoxFuture<'static, Result<tonic::Response<OutStream<Resp>>, Status>>;

/// Serves one RPC with `handler`.
pub(crate) fn serve<Req, Resp>(
    handler: MethodHandler<Req, Resp>,
    request: http::Request<LimitedBody>,
    rpc: Rpc,
) -> BoxFuture<'static, http::Response<tonic::body::Body>>
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
{
    let grpc = codec::<Req, Resp>(&rpc);
    let compression = ResponseCompression::new(
        rpc.control.clone(),
        rpc.plain.clone(),
        rpc.shared.options.compression,
        request.headers(),
    );
    use MethodHandler::*;
    match handler {
        BlockingUnaryUnary(f) => unary_request(grpc, request, compression, move |m| Box::pin(blocking_unary(rpc, f, m))),
        BlockingUnaryStream(f) => unary_request(grpc, request, compression, move |m| Box::pin(blocking_streaming(rpc, f, m))),
        AsyncUnaryUnary(f) => unary_request(grpc, request, compression, move |m| {
            let fut = f(m, rpc.ctx.clone());
            Box::pin(async_unary(rpc, fut))
        }),
        AsyncUnaryStream(f) => unary_request(grpc, request, compression, move |m| {
            let fut = f(m, rpc.ctx.clone());
            Box::pin(async_streaming(rpc, fut))
        }),
        BlockingStreamUnary(f) => stream_request(grpc, request, compression, move |s| {
            let (rpc, requests) = blocking_requests(rpc, s);
            Box::pin(blocking_unary(rpc, f, requests))
        }),
        BlockingStreamStream(f) => stream_request(grpc, request, compression, move |s| {
            let (rpc, requests) = blocking_requests(rpc, s);
            Box::pin(blocking_streaming(rpc, f, requests))
        }),
        AsyncStreamUnary(f) => stream_request(grpc, request, compression, move |s| {
            let fut = f(async_requests(s), rpc.ctx.clone());
            Box::pin(async_unary(rpc, fut))
        }),
        AsyncStreamStream(f) => stream_request(grpc, request, compression, move |s| {
            let fut = f(async_requests(s), rpc.ctx.clone());
            Box::pin(async_streaming(rpc, fut))
        }),
    }
}

/// tonic's codec for the method, with the server's compression and size settings. The
/// receive limit is enforced by [`LimitedBody`] (with gRPC's RESOURCE_EXHAUSTED).
fn codec<Req, Resp>(rpc: &Rpc) -> Grpc<tonic_prost::ProstCodec<Resp, Req>>
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
{
    let options = &rpc.shared.options;
    Grpc::new(tonic_prost::ProstCodec::<Resp, Req>::default())
        .accept_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Deflate)
        .accept_compressed(CompressionEncoding::Zstd)
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(options.max_send_message_length.unwrap_or(usize::MAX))
}

fn unary_request<Req, Resp, F>(
    mut grpc: Grpc<tonic_prost::ProstCodec<Resp, Req>>,
    request: http::Request<LimitedBody>,
    compression: ResponseCompression,
    f: F,
) -> BoxFuture<'static, http::Response<tonic::body::Body>>
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
    F: FnOnce(Req) -> Answer<Resp> + Send + 'static,
{
    Box::pin(async move { compression.apply(grpc.server_streaming(UnaryIn(Some(f), PhantomData), request).await) })
}

fn stream_request<Req, Resp, F>(
    mut grpc: Grpc<tonic_prost::ProstCodec<Resp, Req>>,
    request: http::Request<LimitedBody>,
    compression: ResponseCompression,
    f: F,
) -> BoxFuture<'static, http::Response<tonic::body::Body>>
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
    F: FnOnce(Streaming<Req>) -> Answer<Resp> + Send + 'static,
{
    Box::pin(async move { compression.apply(grpc.streaming(StreamIn(Some(f), PhantomData), request).await) })
}

/// tonic's service for a one-request method: called once with the decoded request.
struct UnaryIn<F, Resp>(Option<F>, PhantomData<fn() -> Resp>);

impl<Req, Resp, F> tonic::server::ServerStreamingService<Req> for UnaryIn<F, Resp>
where
    Resp: prost::Message + 'static,
    F: FnOnce(Req) -> Answer<Resp>,
{
    type Response = Resp;
    type ResponseStream = OutStream<Resp>;
    type Future = Answer<Resp>;

    fn call(&mut self, request: tonic::Request<Req>) -> Answer<Resp> {
        match self.0.take() {
            Some(f) => f(request.into_inner()),
            None => Box::pin(std::future::ready(Err(Status::internal(
                "the handler was called twice for one RPC",
            )))),
        }
    }
}

/// tonic's service for a request-streaming method.
struct StreamIn<F, Resp>(Option<F>, PhantomData<fn() -> Resp>);

impl<Req, Resp, F> tonic::server::StreamingService<Req> for StreamIn<F, Resp>
where
    Resp: prost::Message + 'static,
    F: FnOnce(Streaming<Req>) -> Answer<Resp> + Send,
{
    type Response = Resp;
    type ResponseStream = OutStream<Resp>;
    type Future = Answer<Resp>;

    fn call(&mut self, request: tonic::Request<Streaming<Req>>) -> Answer<Resp> {
        match self.0.take() {
            Some(f) => f(request.into_inner()),
            None => Box::pin(std::future::ready(Err(Status::internal(
                "the handler was called twice for one RPC",
            )))),
        }
    }
}

/// The response to send once the handler produced `source` (or the status if it set a
/// non-OK code, which wins over a response).
fn respond<Resp: Send + 'static>(rpc: Rpc, source: Source<Resp>) -> Result<tonic::Response<OutStream<Resp>>, Status> {
    if let Some(code) = rpc.ctx.code()
        && code != rpc_core::StatusCode::Ok
    {
        let details = rpc.ctx.details().unwrap_or_default();
        return Err(rpc.finish_with_error(RpcError::new(code, details)));
    }
    respond_now(rpc, source)
}

/// The response headers (with the initial metadata), and a body of `source`'s responses.
fn respond_now<Resp: Send + 'static>(rpc: Rpc, source: Source<Resp>) -> Result<tonic::Response<OutStream<Resp>>, Status> {
    let headers = rpc.take_initial_metadata().to_tonic();
    let stream = OutStream::new(source, rpc);
    Ok(tonic::Response::from_parts(headers, stream, Default::default()))
}

/// Waits for a handler to produce its responses, or, if it sends initial metadata early
/// first, sends the response headers then and lets the body wait for the handler.
async fn answer<Resp: Send + 'static>(rpc: Rpc, mut handler: Guarded<Source<Resp>>) -> Result<tonic::Response<OutStream<Resp>>, Status> {
    tokio::select! {
        biased;
        result = &mut handler => match result {
            Ok(source) => respond(rpc, source),
            Err(e) => Err(rpc.finish_with_error(e)),
        },
        () = rpc.initial_metadata_sent() => respond_now(rpc, Source::Pending(Box::pin(handler))),
    }
}

fn async_requests<Req: Send + 'static>(s: Streaming<Req>) -> RequestStream<Req> {
    RequestStream::new(s.map(|r| r.map_err(|status| RpcError::from_tonic(&status))))
}

/// Runs an async handler future inline, with the RPC's deadline inherited by calls it
/// makes, its panics caught, and its deadline and cancellation watched.
fn guard_async<T: Send + 'static>(rpc: &Rpc, fut: BoxFuture<'static, Result<T, RpcError>>) -> Guarded<T> {
    let fut = deadline::scope_async(rpc.deadline, AssertUnwindSafe(fut).catch_unwind())
        .map(|r| r.unwrap_or_else(|p| Err(panicked(p.as_ref()))))
        .boxed();
    Guarded::new(rpc, fut, true)
}

async fn async_unary<Resp: Send + 'static>(
    rpc: Rpc,
    fut: BoxFuture<'static, Result<Resp, RpcError>>,
) -> Result<tonic::Response<OutStream<Resp>>, Status> {
    let handler = guard_async(&rpc, fut.map_ok(|m| Source::One(Some(m))).boxed());
    answer(rpc, handler).await
}

async fn async_streaming<Resp: Send + 'static>(
    rpc: Rpc,
    fut: BoxFuture<'static, Result<rpc_core::ResponseStream<Resp>, RpcError>>,
) -> Result<tonic::Response<OutStream<Resp>>, Status> {
    let handler = guard_async(&rpc, fut.map_ok(Source::Stream).boxed());
    answer(rpc, handler).await
}

/// Runs `job` on the worker pool; RESOURCE_EXHAUSTED when the pool and its queue are full.
fn on_pool(rpc: &Rpc, job: impl FnOnce(&ServicerContext) + Send + 'static) -> Result<(), RpcError> {
    let ctx = rpc.ctx.clone();
    let deadline = rpc.deadline;
    rpc.shared
        .pool
        .execute(move || {
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

fn not_run() -> RpcError {
    RpcError::cancelled("the handler did not run: the RPC ended while it waited for a worker")
}

async fn blocking_unary<In, Resp>(rpc: Rpc, f: BlockingFn<In, Resp>, input: In) -> Result<tonic::Response<OutStream<Resp>>, Status>
where
    In: Send + 'static,
    Resp: Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    let submitted = on_pool(&rpc, move |ctx| {
        let r = std::panic::catch_unwind(AssertUnwindSafe(|| f(input, ctx))).unwrap_or_else(|p| Err(panicked(p.as_ref())));
        let _ = tx.send(r);
    });
    if let Err(e) = submitted {
        return Err(rpc.finish_with_error(e));
    }
    let wait = async move { rx.await.unwrap_or_else(|_| Err(not_run())).map(|m| Source::One(Some(m))) };
    let handler = Guarded::new(&rpc, Box::pin(wait), false);
    answer(rpc, handler).await
}

async fn blocking_streaming<In, Resp>(
    rpc: Rpc,
    f: BlockingFn<In, ResponseIterator<Resp>>,
    input: In,
) -> Result<tonic::Response<OutStream<Resp>>, Status>
where
    In: Send + 'static,
    Resp: Send + 'static,
{
    let (started_tx, started_rx) = oneshot::channel();
    let (items_tx, items_rx) = mpsc::channel(BLOCKING_RESPONSE_BUFFER);
    let (control, marks) = (rpc.control.clone(), rpc.plain.clone());
    let submitted = on_pool(&rpc, move |ctx| {
        let responses = match std::panic::catch_unwind(AssertUnwindSafe(|| f(input, ctx))) {
            Ok(Ok(responses)) => responses,
            Ok(Err(e)) => return drop(started_tx.send(Err(e))),
            Err(p) => return drop(started_tx.send(Err(panicked(p.as_ref())))),
        };
        if started_tx.send(Ok(())).is_err() {
            return;
        }
        pump_responses(responses, &items_tx, ctx, &control, &marks);
    });
    if let Err(e) = submitted {
        return Err(rpc.finish_with_error(e));
    }
    let wait = Guarded::new(
        &rpc,
        Box::pin(async move { started_rx.await.unwrap_or_else(|_| Err(not_run())) }),
        false,
    );
    match wait.await {
        Ok(()) => respond(rpc, Source::Channel(items_rx)),
        Err(e) => Err(rpc.finish_with_error(e)),
    }
}

/// Pulls a blocking handler's responses on its worker and hands them to the connection;
/// stops at the first error, when the client is gone, or when the RPC is no longer active.
/// A response the handler asked to send uncompressed is marked as it is produced (the
/// worker runs ahead of the encoder).
fn pump_responses<Resp>(
    mut responses: ResponseIterator<Resp>,
    tx: &mpsc::Sender<Result<Resp, RpcError>>,
    ctx: &ServicerContext,
    control: &ContextControl,
    marks: &PlainMarks,
) {
    for index in 0u64.. {
        let next = std::panic::catch_unwind(AssertUnwindSafe(|| responses.next())).unwrap_or_else(|p| Some(Err(panicked(p.as_ref()))));
        let Some(item) = next else { return };
        if item.is_ok() && control.take_disable_next_compression() {
            marks.mark(index);
        }
        let last = item.is_err();
        if tx.blocking_send(item).is_err() || last || ctx.cancelled() {
            return;
        }
    }
}

/// A blocking handler's request iterator, fed by a task that reads the request stream.
fn blocking_requests<Req: Send + 'static>(mut rpc: Rpc, mut stream: Streaming<Req>) -> (Rpc, RequestIterator<Req>) {
    let (tx, mut rx) = mpsc::channel(BLOCKING_REQUEST_BUFFER);
    let pump = tokio::spawn(async move {
        while let Some(item) = stream.next().await {
            let last = item.is_err();
            if tx.send(item.map_err(|s| RpcError::from_tonic(&s))).await.is_err() || last {
                break;
            }
        }
    });
    rpc.attach_pump(pump.abort_handle());
    (rpc, RequestIterator::new(std::iter::from_fn(move || rx.blocking_recv())))
}
