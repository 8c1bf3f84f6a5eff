//! A transparent gRPC proxy: every RPC that reaches the server, whatever its method and
//! kind, is forwarded to a backend channel as raw bytes (no generated code, no schema),
//! with its metadata and deadline; the backend's response headers, messages, status and
//! trailers come back unchanged. One generic handler over raw bytes does it, in each face:
//! [`forward_to`] on an rpc-aio server, [`blocking_forward_to`] on an rpc-sync server
//! (either handler works on either server; the blocking one holds a worker per RPC).
//!
//! On the wire every kind of RPC is a stream of messages each way, so one stream-stream
//! call to the backend serves all four kinds. Requests go on with the client's compression,
//! each message compressed or not as it came. What the proxy changes: the `user-agent` (the
//! backend sees the proxy's channel) and the compression of responses (the backend and the
//! proxy negotiate it with their own clients). A client that cancels, or whose deadline
//! passes, cancels the backend call too.

use futures::StreamExt;
use rpc_core::codec::{Bytes, BytesCodec};
use rpc_core::{
    Metadata, OutgoingMessage, Request, RequestIterator, RequestSource, RequestStream, ResponseIterator, ResponseStream, RpcError,
    ServicerContext,
};

/// The client's metadata as the backend should see it: all of it but the user agent,
/// which the proxy's own channel sets.
fn forwarded(metadata: &Metadata) -> Metadata {
    let mut metadata = metadata.clone();
    metadata.remove("user-agent");
    metadata
}

/// The request message just read, to be sent compressed if it came compressed (the call
/// compresses with the client's algorithm, see [`forwarded_request`]).
fn as_it_came(message: Bytes, context: &ServicerContext) -> OutgoingMessage<Bytes> {
    let message = OutgoingMessage::new(message);
    if context.last_request_compressed() {
        message
    } else {
        message.uncompressed()
    }
}

/// The backend call's request: the client's messages, metadata and compression.
fn forwarded_request(requests: RequestSource<Bytes>, context: &ServicerContext) -> Request<RequestSource<Bytes>> {
    Request::new(requests)
        .metadata(forwarded(context.invocation_metadata()))
        .compression(context.request_compression())
}

/// Passes the backend's response headers on, once they arrived. Fails with the backend's
/// status when it failed before sending any (a Trailers-Only answer).
fn pass_headers(headers: Result<Metadata, RpcError>, context: &ServicerContext) -> Result<(), RpcError> {
    let headers = headers?;
    // Only fails if headers went out already, and nothing else sends them here.
    let _ = context.send_initial_metadata(headers);
    Ok(())
}

/// At the end of the backend's response stream: its trailers become this RPC's.
fn pass_trailers(outcome: Option<rpc_aio::CallOutcome>, context: &ServicerContext) {
    if let Some(outcome) = outcome {
        context.set_trailing_metadata(outcome.trailing_metadata().clone());
    }
}

/// An async generic handler that forwards every RPC to `backend` (register it on either
/// server with `add_generic_rpc_handlers`).
pub fn forward_to(backend: rpc_aio::Channel) -> rpc_aio::GenericRpcHandler {
    rpc_aio::raw_generic_rpc_handler(move |requests: RequestStream<Bytes>, context: ServicerContext| {
        let backend = backend.clone();
        async move {
            // The requests until the client is done (or the RPC fails), each compressed on
            // the way on if it came compressed.
            let read = context.clone();
            let requests = requests.scan((), move |_, request| std::future::ready(request.ok().map(|r| as_it_came(r, &read))));
            let request = forwarded_request(RequestSource::message_stream(requests), &context);
            // Made inside the handler's future, the call inherits the RPC's deadline.
            let call = backend
                .stream_stream_with_codec::<Bytes, Bytes, _>(context.method(), BytesCodec)
                .call(request);
            pass_headers(call.initial_metadata().await, &context)?;
            let responses = futures::stream::unfold(Some((call, context)), |state| async move {
                let (mut call, context) = state?;
                match call.read().await {
                    Ok(Some(message)) => Some((Ok(message), Some((call, context)))),
                    Ok(None) => {
                        pass_trailers(call.outcome_now(), &context);
                        None
                    }
                    // The backend's status, its trailers included, ends this RPC.
                    Err(status) => Some((Err(status), None)),
                }
            });
            Ok(ResponseStream::new(responses))
        }
    })
}

/// A blocking generic handler that forwards every RPC to `backend`, on the server's worker
/// pool (one worker for each RPC in flight).
pub fn blocking_forward_to(backend: rpc_sync::Channel) -> rpc_sync::GenericRpcHandler {
    rpc_sync::raw_generic_rpc_handler(move |requests: RequestIterator<Bytes>, context: &ServicerContext| {
        let read = context.clone();
        let requests = requests.map_while(Result::ok).map(move |r| as_it_came(r, &read));
        let request = forwarded_request(RequestSource::messages(requests), context);
        let mut call = backend
            .stream_stream_with_codec::<Bytes, Bytes, _>(context.method(), BytesCodec)
            .call(request);
        pass_headers(call.initial_metadata(), context)?;
        let context = context.clone();
        let mut ended = false;
        Ok(ResponseIterator::new(std::iter::from_fn(move || {
            if ended {
                return None;
            }
            match call.read() {
                Ok(Some(message)) => Some(Ok(message)),
                Ok(None) => {
                    ended = true;
                    pass_trailers(call.outcome_now(), &context);
                    None
                }
                Err(status) => {
                    ended = true;
                    Some(Err(status))
                }
            }
        })))
    })
}

/// Serves a proxy on `address` that forwards to `backend`, from an rpc-aio server (or an
/// rpc-sync one when `blocking`); calls `on_listening` with the port once it serves, and
/// serves until the process ends (or, for the async face, Ctrl-C). What the `proxy`
/// binaries run.
///
/// # Errors
/// A target or address that does not work, or a port that cannot be bound.
pub fn run(address: &str, backend: &str, blocking: bool, on_listening: impl FnOnce(u16)) -> Result<(), RpcError> {
    let options = rpc_core::ChannelOptions::default();
    if blocking {
        let server = rpc_sync::server(rpc_core::ServerOptions::default())?;
        server.add_generic_rpc_handlers([blocking_forward_to(rpc_sync::insecure_channel(backend, options)?)]);
        let port = server.add_insecure_port(address)?;
        server.start()?;
        on_listening(port);
        server.wait_for_termination(None)?;
        return Ok(());
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| RpcError::unavailable(format!("cannot start a runtime: {e}")))?;
    runtime.block_on(async {
        let server = rpc_aio::server(rpc_core::ServerOptions::default());
        server.add_generic_rpc_handlers([forward_to(rpc_aio::insecure_channel(backend, options)?)]);
        let port = server.add_insecure_port(address)?;
        server.start().await?;
        on_listening(port);
        let _ = tokio::signal::ctrl_c().await;
        server.stop(Some(std::time::Duration::from_secs(1))).await;
        Ok(())
    })
}
