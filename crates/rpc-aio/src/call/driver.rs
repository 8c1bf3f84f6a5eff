//! Running one RPC on tonic, as the inline future of a unary call or the task of a
//! streaming one: credentials, interceptors, wait-for-ready, the deadline, the request
//! body, and publishing metadata, messages and status.

use super::state::{CallCore, CallShared, Headers};
use super::status::too_large;
use crate::channel::{ChannelInner, Interceptors};
use crate::client_interceptor::{AnyMessage, AnyResponses, ClientCallDetails, Next};
use futures::{Stream, StreamExt};
use rpc_core::{AuthMetadataContext, CallOptions, ChannelConnectivity, Metadata, RequestSource, RpcError};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;
use tonic::codec::CompressionEncoding;

type BoxStream<T> = Pin<Box<dyn Stream<Item = T> + Send>>;

/// Where the requests of a call come from.
pub(crate) enum Body<Req> {
    /// One message.
    Unary(Req),
    /// A request source (for `Writer`, the receiver of the call object's writes).
    Source(RequestSource<Req>, Option<mpsc::Receiver<Req>>),
}

/// Where a call's response messages go: the call object's channel (streaming responses,
/// read while the task runs) or a slot (a unary response, returned by the future itself).
pub(crate) trait Sink<Resp>: Send {
    /// Delivers one message; an error ends the call.
    fn put(&mut self, message: Resp) -> impl Future<Output = Result<(), RpcError>> + Send;
}

impl<Resp: Send> Sink<Resp> for mpsc::Sender<Resp> {
    async fn put(&mut self, message: Resp) -> Result<(), RpcError> {
        self.send(message)
            .await
            .map_err(|_| RpcError::cancelled("the call object was dropped"))
    }
}

/// A unary response: the first message is kept.
impl<Resp: Send> Sink<Resp> for Option<Resp> {
    fn put(&mut self, message: Resp) -> impl Future<Output = Result<(), RpcError>> + Send {
        if self.is_none() {
            *self = Some(message);
        }
        std::future::ready(Ok(()))
    }
}

/// Owns the response sender; finishing through it (or dropping it) records the outcome
/// before the sender is dropped, so a reader that sees the end always finds a status.
struct Finisher<Resp> {
    shared: Arc<CallShared>,
    tx: mpsc::Sender<Resp>,
}

impl<Resp> Drop for Finisher<Resp> {
    fn drop(&mut self) {
        self.shared.fail(RpcError::cancelled("call task ended"));
    }
}

/// What every call starts from: its deadline, shared state and details.
struct Begun {
    shared: Arc<CallShared>,
    details: ClientCallDetails,
}

fn begin(path: &str, options: CallOptions) -> Begun {
    let now = Instant::now();
    let mut deadline = options.deadline_from(now);
    if !options.ignore_inherited_deadline
        && let Some(inherited) = crate::deadline::inherited_deadline()
    {
        deadline = Some(deadline.map_or(inherited, |d| d.min(inherited)));
    }
    let shared = CallShared::new(deadline);
    let details = ClientCallDetails {
        method: path.to_owned(),
        metadata: options.metadata,
        deadline,
        credentials: options.credentials,
        wait_for_ready: options.wait_for_ready,
        compression: options.compression,
        request: None,
    };
    Begun { shared, details }
}

fn closed_error() -> RpcError {
    RpcError::cancelled("channel closed: no new calls are accepted")
}

/// Runs the future `$work` until it ends, the deadline passes or the channel is closed.
/// With no interceptors the deadline cannot change, so it is a plain timer (`$fixed` is
/// `Some(deadline)`). A macro rather than an `async fn`: one future level less to move.
macro_rules! race {
    ($inner:expr, $shared:expr, $fixed:expr, $work:expr) => {{
        let mut cancel = $inner.cancel_all.subscribe();
        let fixed: Option<Option<Instant>> = $fixed;
        tokio::select! {
            biased;
            r = $work => r,
            _ = async {
                match fixed {
                    Some(Some(d)) => tokio::time::sleep_until(d.into()).await,
                    Some(None) => std::future::pending().await,
                    None => $shared.expired().await,
                }
            } => Err(RpcError::deadline_exceeded("deadline exceeded")),
            _ = cancel.wait_for(|c| *c) => Err(RpcError::cancelled("channel closed while the call was in flight")),
        }
    }};
}

/// Starts a call with streaming responses or requests: computes its deadline and spawns
/// its task at once.
pub(crate) fn start<Req, Resp>(
    inner: &Arc<ChannelInner>,
    interceptors: &Interceptors,
    path: &str,
    options: CallOptions,
    body: Body<Req>,
    capacity: usize,
) -> CallCore<Resp>
where
    Req: prost::Message + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
{
    let Begun { shared, details } = begin(path, options);
    let (tx, rx) = mpsc::channel(capacity);
    let mut core = CallCore {
        shared: shared.clone(),
        rx,
        task: None,
        terminated: false,
        cancelled_locally: Default::default(),
    };
    let Some(guard) = inner.begin_call() else {
        shared.fail(closed_error());
        return core;
    };
    let fin = Finisher { shared, tx };
    let (inner2, interceptors) = (inner.clone(), interceptors.clone());
    let task = inner.runtime.spawn(async move {
        let _guard = guard;
        drive(inner2, interceptors, fin, details, body).await;
    });
    core.task = Some(task);
    core
}

/// Prepares a unary-unary call: the returned future runs the whole RPC (inline in whoever
/// polls it, or on a task once the call is started in the background) and records the
/// outcome in the shared state before it returns the response. On a closed channel there
/// is no future: the call has failed already.
pub(crate) fn prepare_unary<Req, Resp>(
    inner: &Arc<ChannelInner>,
    interceptors: &Interceptors,
    path: &str,
    options: CallOptions,
    message: Req,
) -> (Arc<CallShared>, Option<UnaryRun<Resp>>)
where
    Req: prost::Message + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
{
    let Begun { shared, details } = begin(path, options);
    if inner.is_closed() {
        shared.fail(closed_error());
        return (shared, None);
    }
    let (inner, interceptors, shared2) = (inner.clone(), interceptors.clone(), shared.clone());
    let run: UnaryRun<Resp> = Box::pin(async move {
        // A call counts as active for `close(grace)` once it runs, not while it waits to
        // be awaited.
        let Some(_guard) = inner.begin_call() else {
            let e = closed_error();
            shared2.fail(e.clone());
            return Err(e);
        };
        run_unary(inner, interceptors, shared2, details, message).await
    });
    (shared, Some(run))
}

/// The future of a unary-unary call.
pub(crate) type UnaryRun<Resp> = Pin<Box<dyn Future<Output = Result<Resp, RpcError>> + Send>>;

async fn run_unary<Req, Resp>(
    inner: Arc<ChannelInner>,
    interceptors: Interceptors,
    shared: Arc<CallShared>,
    details: ClientCallDetails,
    message: Req,
) -> Result<Resp, RpcError>
where
    Req: prost::Message + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
{
    let mut response: Option<Resp> = None;
    let fixed_deadline = interceptors.is_empty().then_some(details.deadline);
    let result: Result<Headers, RpcError> = race!(
        inner,
        shared,
        fixed_deadline,
        perform(&inner, interceptors, &shared, &mut response, details, Body::Unary(message))
    );
    let outcome = match (result, response) {
        (Ok(trailers), Some(response)) => {
            if shared.finish(Ok(trailers)) {
                return Ok(response);
            }
            None
        }
        (Ok(_), None) => Some(RpcError::internal("the server sent no response message")),
        (Err(e), _) => Some(e),
    };
    let error = match outcome {
        Some(e) if shared.fail(e.clone()) => e,
        // Someone else ended the call first (a local cancel): that is its outcome.
        other => shared
            .error_now()
            .or(other)
            .unwrap_or_else(|| RpcError::internal("call ended without a status")),
    };
    Err(error)
}

async fn drive<Req, Resp>(
    inner: Arc<ChannelInner>,
    interceptors: Interceptors,
    fin: Finisher<Resp>,
    details: ClientCallDetails,
    body: Body<Req>,
) where
    Req: prost::Message + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
{
    let shared = fin.shared.clone();
    // A clone: the Finisher keeps its sender until the outcome is recorded, so a reader
    // that sees the response channel close always finds the status.
    let mut tx = fin.tx.clone();
    let fixed_deadline = interceptors.is_empty().then_some(details.deadline);
    let result: Result<Headers, RpcError> = race!(
        inner,
        shared,
        fixed_deadline,
        perform(&inner, interceptors, &shared, &mut tx, details, body)
    );
    drop(tx);
    // The Finisher's sender goes only after the outcome is recorded.
    fin.shared.finish(result);
}

async fn perform<Req, Resp, S>(
    inner: &Arc<ChannelInner>,
    interceptors: Interceptors,
    shared: &Arc<CallShared>,
    sink: &mut S,
    details: ClientCallDetails,
    body: Body<Req>,
) -> Result<Headers, RpcError>
where
    Req: prost::Message + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
    S: Sink<Resp>,
{
    if interceptors.is_empty() {
        let mut stream = send(inner, shared, details, body).await?;
        loop {
            match stream.message().await {
                Ok(Some(m)) => sink.put(m).await?,
                Ok(None) => break,
                Err(s) => return Err(inner.map_status(&s, false)),
            }
        }
        return match stream.trailers().await {
            Ok(t) => Ok(Headers::Raw(t.unwrap_or_default())),
            Err(s) => Err(inner.map_status(&s, false)),
        };
    }
    let (inner2, shared2) = (inner.clone(), shared.clone());
    // Interceptors see (and may replace) the request of a unary-request call.
    let mut details = details;
    let body = match body {
        Body::Unary(m) => {
            details.request = Some(AnyMessage::new(m));
            None
        }
        other => Some(other),
    };
    let terminal = Box::new(
        move |mut details: ClientCallDetails| -> futures::future::BoxFuture<'static, Result<AnyResponses, RpcError>> {
            Box::pin(async move {
                let body = match (body, details.request.take()) {
                    (Some(body), _) => body,
                    (None, Some(any)) => Body::Unary(
                        any.downcast::<Req>()
                            .map_err(|_| RpcError::internal("an interceptor replaced the request with a message of another type"))?,
                    ),
                    (None, None) => return Err(RpcError::internal("an interceptor removed the request message")),
                };
                let stream = send::<Req, Resp>(&inner2, &shared2, details, body).await?;
                Ok(erase(inner2, shared2, stream))
            })
        },
    );
    let next = Next::new(interceptors, terminal);
    let mut responses = next.run(details).await?;
    while let Some(item) = responses.next().await {
        let m = item?
            .downcast::<Resp>()
            .map_err(|_| RpcError::internal("an interceptor produced a response of the wrong message type"))?;
        sink.put(m).await?;
    }
    Ok(Headers::Converted(shared.take_trailers().unwrap_or_default()))
}

/// Type-erases a tonic response stream for interceptors; trailers go to the shared state.
fn erase<Resp>(inner: Arc<ChannelInner>, shared: Arc<CallShared>, stream: tonic::codec::Streaming<Resp>) -> AnyResponses
where
    Resp: prost::Message + Default + Send + 'static,
{
    let s = futures::stream::unfold(Some(stream), move |state| {
        let (inner, shared) = (inner.clone(), shared.clone());
        async move {
            let mut stream = state?;
            match stream.message().await {
                Ok(Some(m)) => Some((Ok(AnyMessage::new(m)), Some(stream))),
                Ok(None) => match stream.trailers().await {
                    Ok(t) => {
                        shared.put_trailers(t.map(|t| Metadata::from_tonic(&t)).unwrap_or_default());
                        None
                    }
                    Err(s) => Some((Err(inner.map_status(&s, false)), None)),
                },
                Err(s) => Some((Err(inner.map_status(&s, false)), None)),
            }
        }
    });
    Box::pin(s)
}

/// Applies credentials, waits for readiness if asked, and sends the request; publishes the
/// initial metadata.
async fn send<Req, Resp>(
    inner: &Arc<ChannelInner>,
    shared: &Arc<CallShared>,
    details: ClientCallDetails,
    body: Body<Req>,
) -> Result<tonic::codec::Streaming<Resp>, RpcError>
where
    Req: prost::Message + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
{
    let path = http::uri::PathAndQuery::try_from(details.method.as_str())
        .map_err(|_| RpcError::internal(format!("invalid method path {:?}", details.method)))?;
    shared.set_deadline(details.deadline);
    let mut metadata = details.metadata;
    let channel_creds = inner.credentials.call_credentials();
    if details.credentials.is_some() || !channel_creds.is_empty() {
        if !inner.credentials.permits_call_credentials() {
            return Err(RpcError::unauthenticated(
                "call credentials need a secure channel (TLS or local credentials); the call was not sent",
            ));
        }
        let (service, method) = details
            .method
            .trim_start_matches('/')
            .split_once('/')
            .unwrap_or(("", &details.method));
        let ctx = AuthMetadataContext {
            service_url: format!("https://{}/{}", inner.authority, service),
            method_name: method.to_owned(),
        };
        for creds in channel_creds.iter().chain(details.credentials.as_ref()) {
            metadata.extend(creds.metadata(&ctx)?);
        }
    }
    if details.wait_for_ready.unwrap_or(inner.options.wait_for_ready) {
        wait_ready(inner).await?;
    }
    let max_send = inner.options.max_send_message_length;
    if let (Some(max), Body::Unary(m)) = (max_send, &body)
        && m.encoded_len() > max
    {
        return Err(too_large(m.encoded_len(), max));
    }
    let streaming_body = matches!(body, Body::Source(..));
    let stream: BoxStream<Req> = match body {
        Body::Unary(m) => Box::pin(futures::stream::once(std::future::ready(m))),
        Body::Source(RequestSource::Stream(s), _) => s,
        Body::Source(RequestSource::Iter(iter), _) => {
            let (tx, rx) = mpsc::channel(4);
            inner.runtime.spawn_blocking(move || {
                for item in iter {
                    if tx.blocking_send(item).is_err() {
                        break;
                    }
                }
            });
            Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))
        }
        Body::Source(RequestSource::Writer, rx) => match rx {
            Some(rx) => Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx)),
            None => Box::pin(futures::stream::empty()),
        },
    };
    let stream: BoxStream<Req> = match max_send {
        Some(max) if streaming_body => {
            let shared = shared.clone();
            Box::pin(stream.take_while(move |m| {
                let len = m.encoded_len();
                std::future::ready(len <= max || !shared.fail(too_large(len, max)))
            }))
        }
        _ => stream,
    };
    let mut request = tonic::Request::new(stream);
    metadata.write_to_tonic(request.metadata_mut());
    if let Some(d) = details.deadline {
        let left = d.saturating_duration_since(Instant::now());
        if let Ok(v) = rpc_core::timeout::encode_grpc_timeout(left).parse() {
            request.metadata_mut().insert("grpc-timeout", v);
        }
    }
    let mut grpc = tonic::client::Grpc::new(super::body::CallService {
        inner: inner.tonic.clone(),
        shared: streaming_body.then(|| shared.clone()),
    })
    .accept_compressed(CompressionEncoding::Gzip)
    .accept_compressed(CompressionEncoding::Deflate)
    .accept_compressed(CompressionEncoding::Zstd)
    .max_decoding_message_size(inner.options.max_receive_message_length);
    if let Some(max) = inner.options.max_send_message_length {
        grpc = grpc.max_encoding_message_size(max);
    }
    if let Some(enc) = crate::compression::to_tonic(details.compression.unwrap_or(inner.options.default_compression)) {
        grpc = grpc.send_compressed(enc);
    }
    grpc.ready()
        .await
        .map_err(|e| RpcError::unavailable(format!("channel to {} is not usable: {e}", inner.target)))?;
    let codec = tonic_prost::ProstCodec::<Req, Resp>::default();
    let response = grpc.streaming(request, path, codec).await.map_err(|s| inner.map_status(&s, true))?;
    let (initial, stream, _) = response.into_parts();
    shared.set_initial(initial);
    Ok(stream)
}

/// Waits until the channel is READY, triggering connection attempts (with backoff).
pub(crate) async fn wait_ready(inner: &ChannelInner) -> Result<(), RpcError> {
    let mut rx = inner.connectivity.subscribe();
    loop {
        let state = *rx.borrow_and_update();
        match state {
            ChannelConnectivity::Ready => return Ok(()),
            ChannelConnectivity::Shutdown => return Err(RpcError::cancelled("channel closed")),
            _ => inner.connectivity.try_connect(),
        }
        let wake = inner.connectivity.next_attempt();
        tokio::select! {
            r = rx.changed() => if r.is_err() { return Err(RpcError::cancelled("channel closed")) },
            _ = async { match wake { Some(w) => tokio::time::sleep_until(w.into()).await, None => std::future::pending().await } } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{ChannelOptions, Request, StatusCode, insecure_channel};
    use std::time::{Duration, Instant};

    #[derive(Clone, PartialEq, prost::Message)]
    struct Empty {}

    #[tokio::test]
    async fn calls_inherit_the_served_rpc_deadline_unless_told_not_to() {
        let ch = insecure_channel("127.0.0.1:1", ChannelOptions::default()).unwrap();
        let mc = ch.unary_unary::<Empty, Empty>("/x.Y/Z");
        let deadline = Instant::now() + Duration::from_millis(200);
        crate::deadline::scope_async(Some(deadline), async {
            let call = mc.call(Request::new(Empty {}).wait_for_ready(true));
            assert!(call.time_remaining().is_some_and(|t| t <= Duration::from_millis(200)));
            let own = mc.call(Request::new(Empty {}).timeout(Duration::from_millis(50)));
            assert!(own.time_remaining().is_some_and(|t| t <= Duration::from_millis(50)));
            let free = mc.call(Request::new(Empty {}).ignore_inherited_deadline());
            assert_eq!(free.time_remaining(), None);
            let err = tokio::time::timeout(Duration::from_secs(20), call).await.unwrap().unwrap_err();
            assert_eq!(err.code(), StatusCode::DeadlineExceeded);
        })
        .await;
    }
}
