//! The three servers of the benchmark, each serving `bench.Bench` in its own process:
//! raw tonic ([`crate::raw`]), rpc-aio with an async servicer, rpc-sync with a blocking one.
//!
//! The rpc-sync server runs blocking handlers on a pool of `sync_workers` threads
//! ([`DEFAULT_SYNC_WORKERS`] unless told otherwise) with room for [`SYNC_QUEUE`] queued RPCs:
//! the unary handlers here are microseconds long, so a pool a few times the core count keeps
//! every core busy without thousands of threads, and the queue absorbs 256 calls in flight
//! per connection instead of refusing them. The open-calls scenario's handler returns a
//! channel-backed response iterator, which holds no worker while the call stays open.

use crate::Side;
use crate::pb::{AsyncBenchServicer, BenchServicer, Payload, StreamRequest, add_bench_servicer_to_server};
use futures::StreamExt;
use rpc_core::{RequestIterator, RequestStream, ResponseIterator, ResponseStream, RpcError, ServerOptions, ServicerContext};

/// Worker threads of the rpc-sync server unless `--sync-workers` says otherwise.
pub const DEFAULT_SYNC_WORKERS: usize = 16;
/// RPCs the rpc-sync server lets wait for a worker before answering RESOURCE_EXHAUSTED.
pub const SYNC_QUEUE: usize = 4096;

/// The servicer of the rpc-aio server.
#[derive(Debug, Default)]
pub struct AsyncBench;

impl AsyncBenchServicer for AsyncBench {
    async fn call(&self, request: Payload, _context: &ServicerContext) -> Result<Payload, RpcError> {
        Ok(request)
    }

    async fn stream_from(&self, request: StreamRequest, _context: &ServicerContext) -> Result<ResponseStream<Payload>, RpcError> {
        let body = vec![0u8; request.size as usize];
        Ok(ResponseStream::from_messages(
            (0..request.count).map(move |_| Payload { body: body.clone() }),
        ))
    }

    async fn echo(&self, requests: RequestStream<Payload>, _context: &ServicerContext) -> Result<ResponseStream<Payload>, RpcError> {
        Ok(ResponseStream::new(requests))
    }

    async fn hold(&self, request: Payload, _context: &ServicerContext) -> Result<ResponseStream<Payload>, RpcError> {
        Ok(ResponseStream::new(
            futures::stream::iter([Ok(request)]).chain(futures::stream::pending()),
        ))
    }
}

/// The servicer of the rpc-sync server.
#[derive(Debug, Default)]
pub struct BlockingBench;

impl BenchServicer for BlockingBench {
    fn call(&self, request: Payload, _context: &ServicerContext) -> Result<Payload, RpcError> {
        Ok(request)
    }

    fn stream_from(&self, request: StreamRequest, _context: &ServicerContext) -> Result<ResponseIterator<Payload>, RpcError> {
        let body = vec![0u8; request.size as usize];
        Ok(ResponseIterator::from_messages(
            (0..request.count).map(move |_| Payload { body: body.clone() }),
        ))
    }

    fn echo(&self, requests: RequestIterator<Payload>, _context: &ServicerContext) -> Result<ResponseIterator<Payload>, RpcError> {
        Ok(ResponseIterator::new(requests))
    }

    fn hold(&self, request: Payload, context: &ServicerContext) -> Result<ResponseIterator<Payload>, RpcError> {
        // A channel-backed iterator: the connection reads it without a worker, so a held
        // call costs its buffers and no thread. The sender lives until the RPC ends.
        let (tx, responses) = ResponseIterator::channel(1);
        let _ = tx.send(Ok(request));
        context.add_callback(move || drop(tx));
        Ok(responses)
    }
}

/// Serves `side` on 127.0.0.1 (port 0 picks one), calls `on_port` with the port, then
/// serves until the process ends. Pass `sync_workers` for the rpc-sync pool size.
pub fn serve_forever(side: Side, port: u16, sync_workers: usize, on_port: impl FnOnce(u16)) -> Result<(), String> {
    let addr = format!("127.0.0.1:{port}");
    match side {
        Side::Tonic => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|e| e.to_string())?;
                on_port(listener.local_addr().map_err(|e| e.to_string())?.port());
                crate::raw::serve(listener).await.map_err(|e| e.to_string())
            })
        }
        Side::Aio => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let server = rpc_aio::server(ServerOptions::default());
                add_bench_servicer_to_server(AsyncBench, &server);
                let port = server.add_insecure_port(&addr).map_err(|e| e.to_string())?;
                server.start().await.map_err(|e| e.to_string())?;
                on_port(port);
                futures::future::pending::<()>().await;
                Ok(())
            })
        }
        Side::Sync => {
            let options = ServerOptions::default().max_workers(sync_workers).max_queued_rpcs(SYNC_QUEUE);
            let server = rpc_sync::server(options).map_err(|e| e.to_string())?;
            add_bench_servicer_to_server(BlockingBench, &server);
            let port = server.add_insecure_port(&addr).map_err(|e| e.to_string())?;
            server.start().map_err(|e| e.to_string())?;
            on_port(port);
            server.wait_for_termination(None).map_err(|e| e.to_string())?;
            Ok(())
        }
    }
}
