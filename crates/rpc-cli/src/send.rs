//! Sending one call whose messages are known only at run time: the multi-callable of the
//! method's kind with rpc-dynamic's [`DynamicCodec`], as a dynamic stub makes it.

use prost_reflect::DynamicMessage;
use rpc_core::{Metadata, Request, RpcError};
use rpc_dynamic::{DynamicCodec, Method, MethodKind};
use std::time::Instant;

/// What came back, besides the responses handed to the caller one by one.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The response headers, when they arrived.
    pub(crate) headers: Option<Metadata>,
    /// The trailers.
    pub(crate) trailers: Metadata,
    /// OK, or the status the call failed with.
    pub(crate) status: Result<(), RpcError>,
    /// How many responses were received.
    pub(crate) received: usize,
}

/// Sends `requests` to `method` on `channel` and hands each response to
/// `on_response` as it arrives (server and bidi streaming print as they go). A unary or
/// server-streaming method takes exactly one request (the caller checks).
pub(crate) async fn send(
    channel: &rpc_aio::Channel,
    method: &Method,
    mut requests: Vec<DynamicMessage>,
    metadata: Metadata,
    deadline: Option<Instant>,
    mut on_response: impl AsyncFnMut(DynamicMessage),
) -> Outcome {
    let path = method.path();
    let codec = || DynamicCodec::for_client(method);
    let options = |request| with_options(request, &metadata, deadline);
    let stream_options = |request| with_options(request, &metadata, deadline);
    let mut received = 0;
    match method.kind() {
        MethodKind::Unary | MethodKind::ServerStreaming if requests.len() != 1 => Outcome {
            headers: None,
            trailers: Metadata::new(),
            status: Err(RpcError::internal("a unary request side takes exactly one request")),
            received,
        },
        MethodKind::Unary => {
            let request = options(Request::new(requests.remove(0)));
            let mut call = channel
                .unary_unary_with_codec::<DynamicMessage, DynamicMessage, _>(&path, codec())
                .call(request);
            let status = match (&mut call).await {
                Ok(response) => {
                    received += 1;
                    on_response(response).await;
                    Ok(())
                }
                Err(e) => Err(e),
            };
            finish(call.initial_metadata().await.ok(), call.trailing_metadata().await, status, received)
        }
        MethodKind::ServerStreaming => {
            let request = options(Request::new(requests.remove(0)));
            let mut call = channel
                .unary_stream_with_codec::<DynamicMessage, DynamicMessage, _>(&path, codec())
                .call(request);
            let status = read_all(&mut received, &mut on_response, async || call.read().await).await;
            finish(call.initial_metadata().await.ok(), call.trailing_metadata().await, status, received)
        }
        MethodKind::ClientStreaming => {
            let request = stream_options(Request::new(requests));
            let mut call = channel
                .stream_unary_with_codec::<DynamicMessage, DynamicMessage, _>(&path, codec())
                .call(request);
            let status = match (&mut call).await {
                Ok(response) => {
                    received += 1;
                    on_response(response).await;
                    Ok(())
                }
                Err(e) => Err(e),
            };
            finish(call.initial_metadata().await.ok(), call.trailing_metadata().await, status, received)
        }
        MethodKind::BidiStreaming => {
            let request = stream_options(Request::new(requests));
            let mut call = channel
                .stream_stream_with_codec::<DynamicMessage, DynamicMessage, _>(&path, codec())
                .call(request);
            let status = read_all(&mut received, &mut on_response, async || call.read().await).await;
            finish(call.initial_metadata().await.ok(), call.trailing_metadata().await, status, received)
        }
    }
}

fn with_options<T>(request: Request<T>, metadata: &Metadata, deadline: Option<Instant>) -> Request<T> {
    let request = request.metadata(metadata.clone());
    match deadline {
        Some(deadline) => request.deadline(deadline),
        None => request,
    }
}

/// Reads responses until the end of the stream or an error.
async fn read_all(
    received: &mut usize,
    on_response: &mut impl AsyncFnMut(DynamicMessage),
    mut read: impl AsyncFnMut() -> Result<Option<DynamicMessage>, RpcError>,
) -> Result<(), RpcError> {
    // Bounded by the server: the stream ends, fails, or the deadline passes.
    loop {
        match read().await? {
            Some(response) => {
                *received += 1;
                on_response(response).await;
            }
            None => return Ok(()),
        }
    }
}

fn finish(headers: Option<Metadata>, trailers: Metadata, status: Result<(), RpcError>, received: usize) -> Outcome {
    // A failed call's status carries the metadata too, when the call objects had none.
    let (headers, trailers) = match &status {
        Err(e) => (
            headers.or_else(|| (!e.initial_metadata().is_empty()).then(|| e.initial_metadata().clone())),
            if trailers.is_empty() {
                e.trailing_metadata().clone()
            } else {
                trailers
            },
        ),
        Ok(()) => (headers, trailers),
    };
    Outcome {
        headers,
        trailers,
        status,
        received,
    }
}
