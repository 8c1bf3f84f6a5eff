//! The [`Face`] abstraction: one trait over the two faces of the library, so that one
//! behaviour test, generic over `F: Face`, runs against rpc-aio ([`AioFace`]) and rpc-sync
//! ([`SyncFace`]); [`both_faces!`](crate::both_faces) makes the two `#[test]`s.
//!
//! A face starts servers of that face with the kit's servicers (either [`Style`]), makes
//! channels of that face, and makes each kind of call, returning plain values: a
//! [`Finished`] call, or a [`LiveCall`] to write to, read from, cancel or drop while it runs.
//! Everything that waits is bounded by [`LIMIT`](crate::LIMIT).

/// Applies `$body` to the call object in a [`Kind`], whatever its kind.
macro_rules! each {
    ($kind:expr, $call:ident => $body:expr) => {
        match $kind {
            $crate::face::Kind::Unary($call) => $body,
            $crate::face::Kind::ServerStream($call) => $body,
            $crate::face::Kind::ClientStream($call) => $body,
            $crate::face::Kind::Bidi($call) => $body,
        }
    };
}

mod aio;
mod sync;

pub use aio::{AioCall, AioEngine, AioFace, AioServer};
pub use sync::{SyncCall, SyncFace, SyncServer};

use crate::pb::Msg;
use crate::probe::Probe;
use crate::servicer::Style;
use crate::tonic_peer::TonicPeer;
use rpc_core::{
    ChannelConnectivity, ChannelCredentials, ChannelOptions, IntoRequest, IntoStreamingRequest, Metadata, RpcError, ServerCredentials,
    ServerOptions, StatusCode,
};
use std::sync::Arc;
use std::time::Duration;

/// One face of the library, as a behaviour test drives it.
pub trait Face: Sized + 'static {
    /// `"aio"` or `"sync"`, for messages.
    const NAME: &'static str;
    /// A channel of this face.
    type Channel: Clone + Send + 'static;
    /// A started server of this face.
    type Server: FaceServer;
    /// A call of this face in flight.
    type Call: LiveCall;

    /// The face, with whatever it needs to run (the async face owns a tokio runtime).
    fn new() -> Self;

    /// Starts a server of this face on a free loopback port, serving the test service
    /// with `style` handlers and an interceptor of this face that refuses calls marked
    /// `x-reject` (UNAUTHENTICATED).
    fn serve(&self, style: Style) -> Self::Server {
        self.serve_on(style, ServerOptions::default(), 0)
    }

    /// [`serve`](Self::serve) with server options, on `port` (0: a free one).
    fn serve_on(&self, style: Style, options: ServerOptions, port: u16) -> Self::Server {
        self.serve_at(style, options, &format!("127.0.0.1:{port}"), ServerCredentials::insecure())
    }

    /// [`serve_on`](Self::serve_on) at any address the server binds (a loopback
    /// `host:port`, `unix:path`, `unix-abstract:name`), with `credentials`; the server's
    /// `port` is what `add_secure_port` returned.
    fn serve_at(&self, style: Style, options: ServerOptions, address: &str, credentials: ServerCredentials) -> Self::Server;

    /// A channel of this face to `target`.
    fn channel(&self, target: &str) -> Self::Channel {
        self.channel_with(target, ChannelOptions::default())
    }

    /// A channel of this face to `target`, with options.
    fn channel_with(&self, target: &str, options: ChannelOptions) -> Self::Channel;

    /// A channel of this face to `target` with `credentials` (the face's `secure_channel`).
    fn secure_channel(&self, target: &str, credentials: ChannelCredentials, options: ChannelOptions) -> Self::Channel;

    /// The channel's connectivity state (without trying to connect).
    fn state(&self, channel: &Self::Channel) -> ChannelConnectivity;

    /// Closes the channel, giving calls in flight `grace` (`None`: cancels them at once).
    fn close(&self, channel: &Self::Channel, grace: Option<Duration>);

    /// Calls Unary (through the generated stub's `*_with_call`) and waits for the end.
    fn unary(&self, channel: &Self::Channel, request: impl IntoRequest<Msg> + Send + 'static) -> Finished;

    /// Calls the unary method at `path` with a request of any message type (an unknown
    /// method; bytes the server cannot decode), through a multi-callable.
    fn unary_at<Req: prost::Message + Send + 'static>(
        &self,
        channel: &Self::Channel,
        path: &str,
        request: impl IntoRequest<Req> + Send + 'static,
    ) -> Finished;

    /// Calls ServerStream and reads every response.
    fn server_stream(&self, channel: &Self::Channel, request: impl IntoRequest<Msg> + Send + 'static) -> Finished;

    /// Calls ClientStream with `requests` (through `*_with_call`) and waits for the end.
    fn client_stream(&self, channel: &Self::Channel, requests: impl IntoStreamingRequest<Msg> + Send + 'static) -> Finished;

    /// Calls Bidi with `requests` and reads every response.
    fn bidi(&self, channel: &Self::Channel, requests: impl IntoStreamingRequest<Msg> + Send + 'static) -> Finished;

    /// Starts Unary in the background (the stub's `*_future`).
    fn start_unary(&self, channel: &Self::Channel, request: impl IntoRequest<Msg> + Send + 'static) -> Self::Call;

    /// Starts ServerStream in the background.
    fn start_server_stream(&self, channel: &Self::Channel, request: impl IntoRequest<Msg> + Send + 'static) -> Self::Call;

    /// Starts ClientStream (with `WriteRequests`, write through the call).
    fn start_client_stream(&self, channel: &Self::Channel, requests: impl IntoStreamingRequest<Msg> + Send + 'static) -> Self::Call;

    /// Starts Bidi (with `WriteRequests`, write through the call).
    fn start_bidi(&self, channel: &Self::Channel, requests: impl IntoStreamingRequest<Msg> + Send + 'static) -> Self::Call;

    /// Calls each kind once with `metadata` (Unary with `x`, ServerStream asking for one
    /// response, ClientStream with `[a]`, Bidi with `[b]`), each named for messages.
    fn every_kind(&self, channel: &Self::Channel, metadata: &Metadata) -> [(&'static str, Finished); 4] {
        let with = |m| rpc_core::Request::new(m).metadata(metadata.clone());
        [
            ("unary", self.unary(channel, with(crate::msg("x")))),
            ("server stream", self.server_stream(channel, with(Msg { n: 1, ..crate::msg("") }))),
            ("client stream", self.client_stream(channel, with(crate::msg("a")).map(|m| vec![m]))),
            ("bidi", self.bidi(channel, with(crate::msg("b")).map(|m| vec![m]))),
        ]
    }

    /// The servers a client test runs against: the tonic peer, and a server of this face
    /// with each style of handlers.
    fn peers(&self) -> Vec<Box<dyn Peer>> {
        vec![
            Box::new(TonicPeer::start()),
            Box::new(self.serve(Style::Blocking)),
            Box::new(self.serve(Style::Async)),
        ]
    }
}

/// A server that serves the test service and records into a probe of its own.
pub trait Peer: Send {
    /// What it is, for messages (`tonic`, `aio server, blocking handlers`, ...).
    fn name(&self) -> String;
    /// Its port on 127.0.0.1.
    fn port(&self) -> u16;
    /// Its address, `127.0.0.1:PORT`.
    fn target(&self) -> String {
        format!("127.0.0.1:{}", self.port())
    }
    /// What it saw.
    fn probe(&self) -> &Arc<Probe>;
    /// Whether its handlers can tell a request stream the client reset (RST_STREAM
    /// CANCEL) from one the client finished: hyper's server body, under tonic, reads that
    /// reset as a clean end of the body, so a tonic client-streaming handler cannot.
    fn sees_reset_request_streams(&self) -> bool {
        true
    }
}

impl Peer for TonicPeer {
    fn name(&self) -> String {
        "tonic peer".to_owned()
    }
    fn port(&self) -> u16 {
        TonicPeer::port(self)
    }
    fn target(&self) -> String {
        TonicPeer::target(self)
    }
    fn probe(&self) -> &Arc<Probe> {
        TonicPeer::probe(self)
    }
    fn sees_reset_request_streams(&self) -> bool {
        false
    }
}

/// A call object of a face, of one of the four kinds.
#[derive(Debug)]
pub(crate) enum Kind<U, SS, CS, B> {
    Unary(U),
    ServerStream(SS),
    ClientStream(CS),
    Bidi(B),
}

impl<U, SS, CS, B> Kind<U, SS, CS, B> {
    /// The kind, for messages.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Kind::Unary(_) => "unary-unary",
            Kind::ServerStream(_) => "unary-stream",
            Kind::ClientStream(_) => "stream-unary",
            Kind::Bidi(_) => "stream-stream",
        }
    }
}

/// The server of a face, as [`Served`] drives it.
pub trait Engine: Send + std::fmt::Debug {
    /// `"aio"` or `"sync"`.
    const FACE: &'static str;
    /// Starts a stop; returns at once.
    fn stop(&self, grace: Option<Duration>) -> Stopping;
    /// RPCs in flight.
    fn active_rpcs(&self) -> usize;
    /// RPCs a stop cancelled for outliving its grace.
    fn cancelled_rpcs(&self) -> usize;
    /// Whether the server has terminated.
    fn is_terminated(&self) -> bool;
}

/// A started server of a face serving the test service, with its probe.
///
/// # Drop behavior
/// Dropping it stops the server at once (`stop(None)`) without waiting.
#[derive(Debug)]
pub struct Served<S: Engine> {
    pub(crate) engine: S,
    pub(crate) port: u16,
    pub(crate) probe: Arc<Probe>,
    pub(crate) style: Style,
}

impl<S: Engine> Peer for Served<S> {
    fn name(&self) -> String {
        format!("{} server, {:?} handlers", S::FACE, self.style)
    }
    fn port(&self) -> u16 {
        self.port
    }
    fn probe(&self) -> &Arc<Probe> {
        &self.probe
    }
}

impl<S: Engine> FaceServer for Served<S> {
    fn style(&self) -> Style {
        self.style
    }
    fn stop(&self, grace: Option<Duration>) -> Stopping {
        self.engine.stop(grace)
    }
    fn active_rpcs(&self) -> usize {
        self.engine.active_rpcs()
    }
    fn cancelled_rpcs(&self) -> usize {
        self.engine.cancelled_rpcs()
    }
    fn is_terminated(&self) -> bool {
        self.engine.is_terminated()
    }
}

impl<S: Engine> Drop for Served<S> {
    fn drop(&mut self) {
        drop(self.engine.stop(None));
    }
}

/// A started server of a face.
pub trait FaceServer: Peer {
    /// The style of its handlers.
    fn style(&self) -> Style;
    /// Starts a stop (new RPCs refused at once, those in flight cancelled after `grace`);
    /// returns at once.
    fn stop(&self, grace: Option<Duration>) -> Stopping;
    /// RPCs in flight.
    fn active_rpcs(&self) -> usize;
    /// RPCs a stop cancelled for outliving its grace.
    fn cancelled_rpcs(&self) -> usize;
    /// Whether the server has terminated.
    fn is_terminated(&self) -> bool;
}

/// A stop in progress (what [`FaceServer::stop`] returns).
#[derive(Debug)]
pub struct Stopping {
    inner: StopInner,
}

#[derive(Debug)]
enum StopInner {
    Aio(rpc_aio::StopHandle, Arc<tokio::runtime::Runtime>),
    Sync(rpc_sync::StopHandle),
}

impl Stopping {
    /// Whether the server has terminated.
    pub fn is_done(&self) -> bool {
        match &self.inner {
            StopInner::Aio(handle, _) => handle.is_done(),
            StopInner::Sync(handle) => handle.is_done(),
        }
    }

    /// Waits (up to [`LIMIT`](crate::LIMIT)) for the server to terminate; whether it did.
    pub fn wait(&self) -> bool {
        match &self.inner {
            StopInner::Aio(handle, runtime) => runtime.block_on(handle.wait(Some(crate::LIMIT))),
            StopInner::Sync(handle) => handle.wait(Some(crate::LIMIT)),
        }
    }
}

/// A call of a face in flight. Dropping it drops the call (which cancels it if unfinished).
pub trait LiveCall: Send {
    /// Writes one request (request-streaming calls made with `WriteRequests`).
    fn write(&mut self, request: Msg) -> Result<(), RpcError>;
    /// Half-closes the request stream.
    fn done_writing(&mut self) -> Result<(), RpcError>;
    /// The next response of a streaming call (`None` at the end; the error once).
    ///
    /// # Panics
    /// On a one-response call.
    fn read(&mut self) -> Option<Result<Msg, RpcError>>;
    /// Waits for the initial metadata.
    fn initial_metadata(&mut self) -> Result<Metadata, RpcError>;
    /// Cancels the call; `false` if it had ended.
    fn cancel(&self) -> bool;
    /// Whether it ended CANCELLED.
    fn cancelled(&self) -> bool;
    /// Whether it has ended.
    fn done(&self) -> bool;
    /// Time left until its deadline.
    fn time_remaining(&self) -> Option<Duration>;
    /// Waits for the end: the response (or the rest of the responses) and the status.
    fn finish(self) -> Finished;
}

/// A call that has ended, as plain values: what it received and how it ended.
#[derive(Clone, Debug)]
pub struct Finished {
    /// The responses received, in order (one for a successful one-response call).
    pub responses: Vec<Msg>,
    /// The call's error, if it failed (after `responses`, for a stream).
    pub error: Option<RpcError>,
    /// The initial metadata.
    pub initial: Metadata,
    /// The trailing metadata.
    pub trailing: Metadata,
    /// The status code.
    pub code: StatusCode,
    /// The status details.
    pub details: String,
}

impl Finished {
    /// A call that ended with `error` and no response.
    pub(crate) fn failed(error: RpcError) -> Finished {
        Finished {
            responses: Vec::new(),
            initial: error.initial_metadata().clone(),
            trailing: error.trailing_metadata().clone(),
            code: error.code(),
            details: error.details().to_owned(),
            error: Some(error),
        }
    }

    /// A call that received `responses`, ended with `error` (if any) as `outcome` says.
    pub(crate) fn new(responses: Vec<Msg>, error: Option<RpcError>, outcome: &rpc_aio::CallOutcome) -> Finished {
        Finished {
            responses,
            error,
            initial: outcome.initial_metadata().clone(),
            trailing: outcome.trailing_metadata().clone(),
            code: outcome.code(),
            details: outcome.details().to_owned(),
        }
    }

    /// A one-response call's result.
    pub(crate) fn of(result: Result<Msg, RpcError>, outcome: &rpc_aio::CallOutcome) -> Finished {
        match result {
            Ok(m) => Finished::new(vec![m], None, outcome),
            Err(e) => Finished::new(Vec::new(), Some(e), outcome),
        }
    }

    /// The responses of a call that succeeded.
    ///
    /// # Panics
    /// If it failed (showing the error).
    pub fn ok(self) -> Vec<Msg> {
        if let Some(e) = &self.error {
            panic!("expected the call to succeed, it failed: {e:?}");
        }
        self.responses
    }

    /// The one response of a call that succeeded.
    ///
    /// # Panics
    /// If it failed, or did not receive exactly one response.
    pub fn reply(self) -> Msg {
        let mut responses = self.ok();
        assert_eq!(responses.len(), 1, "expected one response, got {responses:?}");
        responses.remove(0)
    }

    /// The error of a call that failed.
    ///
    /// # Panics
    /// If it succeeded (showing the responses).
    pub fn err(&self) -> &RpcError {
        match &self.error {
            Some(e) => e,
            None => panic!("expected the call to fail, it succeeded with {:?}", self.responses),
        }
    }

    /// The texts of the responses.
    pub fn texts(&self) -> Vec<&str> {
        self.responses.iter().map(|m| m.text.as_str()).collect()
    }
}
