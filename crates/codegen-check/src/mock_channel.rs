//! A fake [`codegen::Channel`]: its multi-callables record each call (method, kind of
//! multi-callable, which of `call` / `with_call` / `future`, the requests and options) and
//! answer with canned responses, so tests can check what a generated stub method does.

use futures_core::Stream;
use rpc_core::codegen::{self, InMessage, MethodDescriptor, MethodKind, OutMessage};
use rpc_core::{CallOptions, Request, RequestSource, RpcError, SourceKind};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// Which method of a multi-callable made the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// `call`.
    Call,
    /// `with_call`.
    WithCall,
    /// `future`.
    Future,
}

/// Where the requests of a request-streaming call came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// One message (a unary-request call).
    Single,
    /// An iterator.
    Iter,
    /// An async stream.
    Stream,
    /// The call object (`WriteRequests`): no messages up front.
    Writer,
}

/// One call made on a [`MockChannel`].
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The method descriptor the multi-callable was made for.
    pub method: &'static MethodDescriptor,
    /// The `Channel` constructor that made the multi-callable (`unary_unary` is `UnaryUnary`, ...).
    pub made_as: MethodKind,
    /// The callable trait the call went through (`UnaryUnaryCallable` is `UnaryUnary`, ...).
    pub called_as: MethodKind,
    /// Which of the trait's methods was called.
    pub via: Via,
    /// Where the requests came from.
    pub source: Source,
    /// The request messages, encoded (for a `Stream` source: every item it had ready).
    pub requests: Vec<Vec<u8>>,
    /// The call options.
    pub options: CallOptions,
}

impl Recorded {
    /// The `i`-th request message, decoded.
    pub fn request<T: InMessage>(&self, i: usize) -> T {
        T::decode(self.requests[i].as_slice()).expect("a recorded request decodes")
    }
}

#[derive(Debug, Default)]
struct Shared {
    calls: Mutex<Vec<Recorded>>,
    responses: Mutex<Vec<Vec<u8>>>,
}

/// A channel that records its calls; see the module docs.
#[derive(Clone, Debug, Default)]
pub struct MockChannel {
    shared: Arc<Shared>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl MockChannel {
    /// A channel with no canned responses (unary calls then fail with UNIMPLEMENTED).
    pub fn new() -> MockChannel {
        MockChannel::default()
    }

    /// Sets the responses every call answers with: a unary-response call answers the first,
    /// a response-streaming call all of them.
    pub fn respond_with<M: OutMessage>(&self, responses: &[M]) {
        *lock(&self.shared.responses) = responses.iter().map(|m| m.encode_to_vec()).collect();
    }

    /// The calls made so far, in order.
    pub fn calls(&self) -> Vec<Recorded> {
        lock(&self.shared.calls).clone()
    }

    /// The one call made so far; panics unless exactly one was made.
    pub fn only_call(&self) -> Recorded {
        let calls = self.calls();
        assert_eq!(calls.len(), 1, "expected exactly one call, got {calls:#?}");
        calls.into_iter().next().unwrap()
    }

    fn callable<Req, Resp>(&self, method: &'static MethodDescriptor, made_as: MethodKind) -> MockCallable<Req, Resp> {
        MockCallable {
            channel: self.clone(),
            method,
            made_as,
            _messages: PhantomData,
        }
    }
}

impl codegen::Channel for MockChannel {
    type UnaryUnary<Req: OutMessage, Resp: InMessage> = MockCallable<Req, Resp>;
    type UnaryStream<Req: OutMessage, Resp: InMessage> = MockCallable<Req, Resp>;
    type StreamUnary<Req: OutMessage, Resp: InMessage> = MockCallable<Req, Resp>;
    type StreamStream<Req: OutMessage, Resp: InMessage> = MockCallable<Req, Resp>;

    fn unary_unary<Req: OutMessage, Resp: InMessage>(&self, method: &'static MethodDescriptor) -> Self::UnaryUnary<Req, Resp> {
        self.callable(method, MethodKind::UnaryUnary)
    }
    fn unary_stream<Req: OutMessage, Resp: InMessage>(&self, method: &'static MethodDescriptor) -> Self::UnaryStream<Req, Resp> {
        self.callable(method, MethodKind::UnaryStream)
    }
    fn stream_unary<Req: OutMessage, Resp: InMessage>(&self, method: &'static MethodDescriptor) -> Self::StreamUnary<Req, Resp> {
        self.callable(method, MethodKind::StreamUnary)
    }
    fn stream_stream<Req: OutMessage, Resp: InMessage>(&self, method: &'static MethodDescriptor) -> Self::StreamStream<Req, Resp> {
        self.callable(method, MethodKind::StreamStream)
    }
}

/// The multi-callable of one method on a [`MockChannel`], of every kind: which kind it was
/// made as and which trait called it are both recorded, so a mismatch shows.
#[derive(Debug)]
pub struct MockCallable<Req, Resp> {
    channel: MockChannel,
    method: &'static MethodDescriptor,
    made_as: MethodKind,
    _messages: PhantomData<fn(Req) -> Resp>,
}

/// The finished call `with_call` hands back with the response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinishedCall {
    /// The path of the method called.
    pub path: &'static str,
}

/// What `future` returns: a call that has (in this fake) already finished.
#[derive(Debug)]
#[must_use = "a future call's outcome is read with `result`"]
pub struct MockFuture<Resp> {
    outcome: Result<Resp, RpcError>,
}

impl<Resp> MockFuture<Resp> {
    /// The call's outcome.
    pub fn result(self) -> Result<Resp, RpcError> {
        self.outcome
    }
}

/// Pulls every item a stream has ready (a test's stream has all of them ready).
fn drain_ready<T>(mut stream: Pin<Box<dyn Stream<Item = T> + Send>>) -> Vec<T> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut items = Vec::new();
    while let Poll::Ready(Some(item)) = stream.as_mut().poll_next(&mut cx) {
        items.push(item);
    }
    items
}

impl<Req: OutMessage, Resp: InMessage> MockCallable<Req, Resp> {
    fn record(&self, called_as: MethodKind, via: Via, source: Source, requests: Vec<Vec<u8>>, options: CallOptions) {
        lock(&self.channel.shared.calls).push(Recorded {
            method: self.method,
            made_as: self.made_as,
            called_as,
            via,
            source,
            requests,
            options,
        });
    }

    fn record_unary(&self, called_as: MethodKind, via: Via, request: Request<Req>) {
        let (message, options) = request.into_parts();
        self.record(called_as, via, Source::Single, vec![message.encode_to_vec()], options);
    }

    fn record_streaming(&self, called_as: MethodKind, via: Via, request: Request<RequestSource<Req>>) {
        let (source, options) = request.into_parts();
        let (source, requests) = match source.into_kind() {
            SourceKind::Iter(iter) => (Source::Iter, iter.map(|m| m.message.encode_to_vec()).collect()),
            SourceKind::Stream(stream) => (
                Source::Stream,
                drain_ready(stream).into_iter().map(|m| m.message.encode_to_vec()).collect(),
            ),
            SourceKind::Writer => (Source::Writer, Vec::new()),
        };
        self.record(called_as, via, source, requests, options);
    }

    fn responses(&self) -> Vec<Resp> {
        lock(&self.channel.shared.responses)
            .iter()
            .map(|bytes| Resp::decode(bytes.as_slice()).expect("a canned response decodes"))
            .collect()
    }

    fn response(&self) -> Result<Resp, RpcError> {
        self.responses()
            .into_iter()
            .next()
            .ok_or_else(|| RpcError::unimplemented("the mock channel has no canned response"))
    }
}

impl<Req: OutMessage, Resp: InMessage> codegen::UnaryUnaryCallable<Req, Resp> for MockCallable<Req, Resp> {
    type Call = Result<Resp, RpcError>;
    type WithCall = Result<(Resp, FinishedCall), RpcError>;
    type Future = MockFuture<Resp>;

    fn call(&self, request: Request<Req>) -> Self::Call {
        self.record_unary(MethodKind::UnaryUnary, Via::Call, request);
        self.response()
    }
    fn with_call(&self, request: Request<Req>) -> Self::WithCall {
        self.record_unary(MethodKind::UnaryUnary, Via::WithCall, request);
        Ok((self.response()?, FinishedCall { path: self.method.path }))
    }
    fn future(&self, request: Request<Req>) -> Self::Future {
        self.record_unary(MethodKind::UnaryUnary, Via::Future, request);
        MockFuture { outcome: self.response() }
    }
}

impl<Req: OutMessage, Resp: InMessage> codegen::UnaryStreamCallable<Req, Resp> for MockCallable<Req, Resp> {
    type Call = Vec<Resp>;

    fn call(&self, request: Request<Req>) -> Self::Call {
        self.record_unary(MethodKind::UnaryStream, Via::Call, request);
        self.responses()
    }
}

impl<Req: OutMessage, Resp: InMessage> codegen::StreamUnaryCallable<Req, Resp> for MockCallable<Req, Resp> {
    type Call = Result<Resp, RpcError>;
    type WithCall = Result<(Resp, FinishedCall), RpcError>;
    type Future = MockFuture<Resp>;

    fn call(&self, request: Request<RequestSource<Req>>) -> Self::Call {
        self.record_streaming(MethodKind::StreamUnary, Via::Call, request);
        self.response()
    }
    fn with_call(&self, request: Request<RequestSource<Req>>) -> Self::WithCall {
        self.record_streaming(MethodKind::StreamUnary, Via::WithCall, request);
        Ok((self.response()?, FinishedCall { path: self.method.path }))
    }
    fn future(&self, request: Request<RequestSource<Req>>) -> Self::Future {
        self.record_streaming(MethodKind::StreamUnary, Via::Future, request);
        MockFuture { outcome: self.response() }
    }
}

impl<Req: OutMessage, Resp: InMessage> codegen::StreamStreamCallable<Req, Resp> for MockCallable<Req, Resp> {
    type Call = Vec<Resp>;

    fn call(&self, request: Request<RequestSource<Req>>) -> Self::Call {
        self.record_streaming(MethodKind::StreamStream, Via::Call, request);
        self.responses()
    }
}
