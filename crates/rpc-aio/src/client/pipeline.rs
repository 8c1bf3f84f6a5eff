//! Where every call starts: the one path from a multi-callable (or a generated stub) to
//! the wire.
//!
//! ```text
//! multicallable::call  (the codec, the method path, the request and its options)
//!   -> pipeline::start   deadline (own and inherited), details, the request body
//!   -> interceptors      (only if the channel has some; type-erased, in order)
//!   -> prepare::attempt  credentials, pick a READY connection, headers, send, response headers
//!   -> call::run         read responses with the codec, deadline, status -> shared state
//!   -> call::Call        the call object: polled inline, or moved onto a task
//! ```
//!
//! A retry or load-balancing stage is one more step between the interceptors and the
//! attempt: the attempt is the unit that can be repeated.

use super::attempt::{Body, Started};
use super::body::{Item, Read, ReadError, Reader, Requests};
use super::call::drive::Drive;
use super::call::run::{Begun, Running, Start};
use super::call::shared::CallShared;
use super::call::shared::EncodingSlot;
use super::call::writer::Writer;
use super::channel::{Channel, ChannelShared};
use super::errors::{When, from_h2};
use super::interceptor::{AnyMessage, ClientCallDetails, Next, RequestHook, Responses};
use super::prepare;
use crate::handoff::{Handoff, Producer, Taken, capacity_for};
use crate::wire::encoding::{Encoding, encode_away};
use crate::wire::{headers, status};
use bytes::{Bytes, BytesMut};
use futures::future::BoxFuture;
use futures::{Stream, StreamExt};
use rpc_core::codec::{BytesCodec, Decoder, Encoder};
use rpc_core::{CallOptions, RequestSource, RpcError, SourceKind};
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

/// How many responses a streaming call moved onto a task reads ahead of its reader.
pub(crate) const STREAM_BUFFER: usize = 8;
/// How many requests a blocking request iterator may run ahead of the connection: at first,
/// then about [`ITER_AHEAD_BYTES`] of them once their encoded size is known, between the
/// bounds. The thread refills half the queue per wake-up.
const ITER_BUFFER: usize = 4;
const ITER_BUFFER_MIN: usize = 2;
const ITER_BUFFER_MAX: usize = 1024;
const ITER_AHEAD_BYTES: usize = 64 * 1024;

/// A method path, without allocating for generated code's `&'static str`.
#[derive(Clone, Debug)]
pub(crate) enum MethodPath {
    Static(&'static str),
    Shared(Arc<str>),
}

impl MethodPath {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            MethodPath::Static(s) => s,
            MethodPath::Shared(s) => s,
        }
    }
}

/// What a call sends, as the multi-callable received it.
pub(crate) enum Input<Req> {
    One(Req),
    Source(RequestSource<Req>),
}

/// How a call object runs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    /// Whether the call starts at once (request-streaming calls) or when first polled.
    pub(crate) eager: bool,
    /// How many responses it buffers once moved onto a task.
    pub(crate) buffer: usize,
}

/// A call, made: how it runs, and its writer if it has a request stream.
pub(crate) struct Made<Req, Resp> {
    pub(crate) drive: Drive<Resp>,
    pub(crate) writer: Option<Writer<Req>>,
}

/// Starts a call of any kind.
pub(crate) fn start<Req, Resp, C>(
    channel: &Channel,
    path: &MethodPath,
    options: CallOptions,
    input: Input<Req>,
    codec: &Arc<C>,
    shape: Shape,
) -> Made<Req, Resp>
where
    Req: Send + 'static,
    Resp: Send + 'static,
    C: Encoder<Req> + Decoder<Resp>,
{
    let shared_channel = channel.shared();
    let now = Instant::now();
    let mut deadline = options.deadline_from(now);
    if !options.ignore_inherited_deadline
        && let Some(inherited) = crate::deadline::inherited_deadline()
    {
        deadline = Some(deadline.map_or(inherited, |d| d.min(inherited)));
    }
    let shared = CallShared::new(deadline, shared_channel.channelz.clone());
    let details = ClientCallDetails {
        method: path.as_str().to_owned(),
        metadata: options.metadata,
        deadline,
        credentials: options.credentials,
        wait_for_ready: options.wait_for_ready,
        compression: options.compression,
        request: None,
        request_hooks: Default::default(),
    };
    let (body, writer) = match input {
        Input::One(m) => (Body::Unary(m), None),
        Input::Source(source) => {
            let (requests, writer) = requests(source, &shared_channel.runtime, &shared);
            (Body::Stream(requests), Some(writer))
        }
    };
    let runtime = shared_channel.runtime.clone();
    if shared_channel.is_closed() {
        shared.fail(closed_error());
        return Made {
            drive: Drive::failed(shared, runtime),
            writer,
        };
    }
    let start = if channel.interceptors().is_empty() {
        direct(shared_channel.clone(), shared.clone(), details, body, codec.clone())
    } else {
        intercepted(channel, shared.clone(), details, body, codec.clone())
    };
    let start = if shape.eager {
        spawned(start, shared.clone(), &runtime)
    } else {
        start
    };
    let running = Running::new(start, shared.clone(), shared_channel.clone(), codec.clone()).boxed();
    Made {
        drive: Drive::new(running, shared, runtime, shape.buffer),
        writer,
    }
}

fn closed_error() -> RpcError {
    RpcError::cancelled("channel closed: no new calls are accepted")
}

/// The start of a call without interceptors: the attempt itself.
fn direct<Req, C>(channel: Arc<ChannelShared>, shared: Arc<CallShared>, details: ClientCallDetails, body: Body<Req>, codec: Arc<C>) -> Start
where
    Req: Send + 'static,
    C: Encoder<Req>,
{
    Box::pin(async move {
        // A call counts as active for `close(grace)` once it runs, not while it waits to be polled.
        let active = channel.begin_call().ok_or_else(closed_error)?;
        let started = prepare::attempt(&channel, &shared, details, body, codec).await?;
        Ok(Begun::Direct(started, active))
    })
}

/// The start of a call through the channel's interceptors: they see (and may replace) the
/// details and the request of a unary-request call; the attempt is the end of the chain.
fn intercepted<Req, Resp, C>(
    channel: &Channel,
    shared: Arc<CallShared>,
    mut details: ClientCallDetails,
    body: Body<Req>,
    codec: Arc<C>,
) -> Start
where
    Req: Send + 'static,
    Resp: Send + 'static,
    C: Encoder<Req> + Decoder<Resp>,
{
    let shared_channel = channel.shared().clone();
    let chain = channel.interceptors().clone();
    let sent = match body {
        Body::Unary(m) => {
            details.request = Some(AnyMessage::new(m));
            Sent::Unary(None)
        }
        Body::Stream(requests) => Sent::Stream(Some(requests)),
    };
    let terminal = Terminal {
        channel: shared_channel.clone(),
        shared,
        codec,
        sent: Mutex::new(sent),
    };
    let terminal = Arc::new(terminal);
    let run = Arc::new(
        move |details: ClientCallDetails| -> BoxFuture<'static, Result<Responses, RpcError>> {
            let terminal = terminal.clone();
            Box::pin(async move { terminal.run::<Resp>(details).await })
        },
    );
    Box::pin(async move {
        let active = shared_channel.begin_call().ok_or_else(closed_error)?;
        let responses = Next::new(chain, run).run(details).await?;
        Ok(Begun::Erased(responses, active))
    })
}

/// What the runs of a call's continuation send.
enum Sent<Req> {
    /// A unary request, encoded by the first run that had it (later runs send it again).
    Unary(Option<Bytes>),
    /// A request stream, until a run takes it.
    Stream(Option<Requests<Req>>),
}

/// What one run sends.
enum Outgoing<Req> {
    /// A unary request, encoded (without its frame prefix).
    Frame(Bytes),
    /// The request stream.
    Stream(Requests<Req>),
}

/// The end of a call's interceptor chain: each run is one attempt (with the channel's own
/// retries, if it has a retry policy).
struct Terminal<Req, C> {
    channel: Arc<ChannelShared>,
    shared: Arc<CallShared>,
    codec: Arc<C>,
    sent: Mutex<Sent<Req>>,
}

impl<Req: Send + 'static, C: Encoder<Req>> Terminal<Req, C> {
    async fn run<Resp>(&self, mut details: ClientCallDetails) -> Result<Responses, RpcError>
    where
        Resp: Send + 'static,
        C: Decoder<Resp>,
    {
        let began = Instant::now();
        let hooks = std::mem::take(&mut details.request_hooks).0;
        let request = details.request.take();
        let started = match self.body(request, hooks)? {
            Outgoing::Frame(frame) => {
                prepare::attempt(&self.channel, &self.shared, details, Body::Unary(frame), Arc::new(BytesCodec)).await?
            }
            Outgoing::Stream(requests) => {
                prepare::attempt(&self.channel, &self.shared, details, Body::Stream(requests), self.codec.clone()).await?
            }
        };
        Ok(erase::<Resp, C>(
            started,
            self.channel.clone(),
            self.shared.clone(),
            self.codec.clone(),
            began,
        ))
    }

    /// What this run sends: a unary request encoded (this run's, or the first run's again),
    /// or the request stream (only once), with the request hooks applied.
    fn body(&self, request: Option<AnyMessage>, hooks: Vec<RequestHook>) -> Result<Outgoing<Req>, RpcError> {
        let mut sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner);
        match &mut *sent {
            Sent::Unary(kept) => {
                let frame = match request {
                    Some(any) => {
                        let mut message = any
                            .downcast::<Req>()
                            .map_err(|_| RpcError::internal("an interceptor replaced the request with a message of another type"))?;
                        for hook in &hooks {
                            hook(&mut message);
                        }
                        let mut buf = BytesMut::new();
                        self.codec.encode(message, &mut buf)?;
                        let frame = buf.freeze();
                        *kept = Some(frame.clone());
                        frame
                    }
                    None => kept
                        .clone()
                        .ok_or_else(|| RpcError::internal("an interceptor removed the request message"))?,
                };
                Ok(Outgoing::Frame(frame))
            }
            Sent::Stream(requests) => {
                let requests = requests.take().ok_or_else(|| {
                    RpcError::failed_precondition(
                        "the request stream of this call was sent by an earlier run of the continuation and cannot be sent again \
                         (a channel retry policy buffers request streams for retries)",
                    )
                })?;
                if hooks.is_empty() {
                    return Ok(Outgoing::Stream(requests));
                }
                self.shared.hook_requests();
                Ok(Outgoing::Stream(Box::pin(requests.map(move |mut item| {
                    if let Item::Message(m) = &mut item {
                        for hook in &hooks {
                            hook(&mut m.message);
                        }
                    }
                    item
                }))))
            }
        }
    }
}

/// A start future run on a task of its own (request-streaming calls start at once); the
/// task is aborted if the call goes away first. A start that fails records the failure at
/// once, so a writer learns the call's status without the call being read.
fn spawned(start: Start, shared: Arc<CallShared>, runtime: &tokio::runtime::Handle) -> Start {
    struct AbortOnDrop(tokio::task::JoinHandle<Result<Begun, RpcError>>);
    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let mut task = AbortOnDrop(runtime.spawn(async move {
        let begun = start.await;
        if let Err(e) = &begun {
            shared.fail(e.clone());
        }
        begun
    }));
    Box::pin(async move {
        match (&mut task.0).await {
            Ok(r) => r,
            Err(e) if e.is_panic() => Err(RpcError::internal("the call's start panicked")),
            Err(_) => Err(RpcError::cancelled("the call's task was cancelled (its runtime shut down?)")),
        }
    })
}

/// The responses of an attempt for the interceptors: type-erased messages; the headers and
/// trailers go to the shared state.
fn erase<Resp, C>(started: Started, channel: Arc<ChannelShared>, shared: Arc<CallShared>, codec: Arc<C>, began: Instant) -> Responses
where
    Resp: Send + 'static,
    C: Decoder<Resp>,
{
    match started {
        Started::TrailersOnly(h) => {
            shared.put_trailers(headers::read_metadata(&h));
            Responses::of_call(futures::stream::empty(), None, shared, began)
        }
        Started::Stream { headers, reader } => {
            let initial = headers::read_metadata(&headers);
            shared.set_initial(headers);
            let stream = Erased::<Resp, C> {
                reader: Some(reader),
                channel,
                shared: shared.clone(),
                codec,
                _resp: std::marker::PhantomData,
            };
            Responses::of_call(stream, Some(initial), shared, began)
        }
    }
}

struct Erased<Resp, C> {
    reader: Option<Reader>,
    channel: Arc<ChannelShared>,
    shared: Arc<CallShared>,
    codec: Arc<C>,
    _resp: std::marker::PhantomData<fn() -> Resp>,
}

impl<Resp, C> Stream for Erased<Resp, C>
where
    Resp: Send + 'static,
    C: Decoder<Resp>,
{
    type Item = Result<AnyMessage, RpcError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let Some(reader) = this.reader.as_mut() else {
            return Poll::Ready(None);
        };
        let item = match std::task::ready!(reader.poll_read::<Resp, C>(&this.codec, cx)) {
            Ok(Read::Message(m)) => return Poll::Ready(Some(Ok(AnyMessage::new(m)))),
            Ok(Read::End(trailers)) => match trailers.as_ref().and_then(status::read) {
                Some(Ok(md)) => {
                    this.shared.put_trailers(md);
                    None
                }
                Some(Err(e)) => Some(Err(e)),
                None => Some(Err(RpcError::internal("the server ended the response without a gRPC status"))),
            },
            Err(ReadError::Status(e)) => Some(Err(e)),
            Err(ReadError::Transport(e)) => Some(Err(this
                .shared
                .error_now()
                .unwrap_or_else(|| from_h2(&this.channel, &e, When::Reading)))),
        };
        this.reader = None;
        Poll::Ready(item)
    }
}

/// The request stream of a request-streaming call, and the call's writer.
fn requests<Req: Send + 'static>(
    source: RequestSource<Req>,
    runtime: &tokio::runtime::Handle,
    shared: &Arc<CallShared>,
) -> (Requests<Req>, Writer<Req>) {
    match source.into_kind() {
        SourceKind::Writer => {
            let (writer, mut rx) = Writer::channel();
            (Box::pin(futures::stream::poll_fn(move |cx| rx.poll_recv(cx))), writer)
        }
        SourceKind::Stream(s) => (
            Box::pin(s.map(Item::Message).chain(futures::stream::once(std::future::ready(Item::End)))),
            Writer::with_source(),
        ),
        SourceKind::Iter(iter) => (
            Box::pin(Pumped {
                iter: Some(iter),
                queue: None,
                taken: VecDeque::new(),
                runtime: runtime.clone(),
                request_size: shared.request_size(),
                encoding: shared.request_encoding(),
            }),
            Writer::with_source(),
        ),
    }
}

/// A request iterator pulled on a blocking thread (it may block), started when the
/// request body is first read. The thread refills the queue half of it at a time, so a fast
/// iterator costs a wake-up per several requests, not per request.
struct Pumped<Req> {
    iter: Option<Box<dyn Iterator<Item = rpc_core::OutgoingMessage<Req>> + Send>>,
    queue: Option<Arc<Handoff<Item<Req>>>>,
    /// Requests taken from the queue in one go, not sent yet.
    taken: VecDeque<Item<Req>>,
    runtime: tokio::runtime::Handle,
    /// Where the body notes the encoded size of the requests.
    request_size: Arc<AtomicUsize>,
    /// Where the call leaves the thread an encoding of the requests, if it does.
    encoding: EncodingSlot,
}

// Nothing is pinned in place.
impl<Req> Unpin for Pumped<Req> {}

impl<Req: Send + 'static> Stream for Pumped<Req> {
    type Item = Item<Req>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item<Req>>> {
        let this = &mut *self;
        if let Some(iter) = this.iter.take() {
            let queue = Arc::new(Handoff::new(ITER_BUFFER));
            let producer = Producer(queue.clone());
            let request_size = this.request_size.clone();
            // Set up by the call before its body first asks for a request.
            let encoding = this.encoding.lock().unwrap_or_else(|p| p.into_inner()).take();
            let mut encoding = encoding.and_then(|e| e.downcast::<Encoding<Req>>().ok());
            this.runtime.spawn_blocking(move || {
                let mut sized = 0;
                for m in iter {
                    let size = request_size.load(Ordering::Relaxed);
                    // 0: no request encoded yet.
                    if size != sized && size > 0 {
                        sized = size;
                        producer.set_capacity(capacity_for(ITER_AHEAD_BYTES, size, ITER_BUFFER_MIN, ITER_BUFFER_MAX));
                    }
                    let item = match encoding.as_mut() {
                        // Encoded here, where it was made (see `wire/encoding.rs`).
                        Some(e) if encode_away(size) => match e.encode(m.message, m.options.no_compress) {
                            Ok(encoded) => {
                                request_size.store(encoded.len(), Ordering::Relaxed);
                                Item::Encoded(encoded)
                            }
                            Err(error) => Item::Failed(error),
                        },
                        _ => Item::Message(m),
                    };
                    let failed = matches!(item, Item::Failed(_));
                    if producer.push_blocking(item).is_err() || failed {
                        return;
                    }
                }
                let _ = producer.push_blocking(Item::End);
            });
            this.queue = Some(queue);
        }
        if let Some(item) = this.taken.pop_front() {
            return Poll::Ready(Some(item));
        }
        let Some(queue) = &this.queue else { return Poll::Ready(None) };
        // What the thread queued meanwhile, under one lock (or the wait for the next).
        match queue.take_all(&mut this.taken) {
            Taken::Some => Poll::Ready(this.taken.pop_front()),
            Taken::Ended => Poll::Ready(None),
            Taken::Nothing => queue.poll_pop(cx),
        }
    }
}

impl<Req> Drop for Pumped<Req> {
    fn drop(&mut self) {
        // A thread blocked on a full queue lets go of the iterator.
        if let Some(queue) = &self.queue {
            queue.close_consumer();
        }
    }
}
