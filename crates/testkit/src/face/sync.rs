//! [`SyncFace`]: the blocking face, called as blocking code calls it; every blocking call
//! runs under `bounded(..)` (on a thread of its own, the call object moved there and back).

use super::{Engine, Face, Finished, LiveCall, Served, StopInner, Stopping};
use crate::pb::{Msg, SvcStub};
use crate::plan;
use crate::probe::Probe;
use crate::servicer::Style;
use crate::wait::{LIMIT, bounded};
use rpc_aio::{HandlerCallDetails, RpcMethodHandler};
use rpc_core::{
    ChannelConnectivity, ChannelCredentials, ChannelOptions, IntoRequest, IntoStreamingRequest, Metadata, RpcError, ServerCredentials,
    ServerOptions, StatusCode,
};
use rpc_sync::WaitError;
use std::time::Duration;

/// The blocking face (rpc-sync).
#[derive(Debug, Default)]
pub struct SyncFace;

/// Refuses calls marked `x-reject` (UNAUTHENTICATED): the blocking face's server interceptor.
fn reject_marked(continuation: rpc_sync::Continuation, details: HandlerCallDetails) -> Option<RpcMethodHandler> {
    if details.invocation_metadata.contains_key("x-reject") {
        return Some(RpcMethodHandler::abort(StatusCode::Unauthenticated, plan::REJECTED));
    }
    continuation.run(details)
}

/// The responses of an iterator of responses up to its end or first error, with the
/// call's outcome.
fn drain<K: rpc_sync::kind::ManyResponses, Req>(mut call: rpc_sync::Call<K, Req, Msg>) -> Finished {
    let mut responses = Vec::new();
    let mut error = None;
    for item in call.by_ref() {
        match item {
            Ok(m) => responses.push(m),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let outcome = call.outcome().expect("a finished call's outcome");
    Finished::new(responses, error, &outcome)
}

/// A one-response call waited for, with its outcome.
fn settle<K: rpc_sync::kind::OneResponse, Req>(mut call: rpc_sync::Call<K, Req, Msg>) -> Finished {
    let result = match call.result(Some(LIMIT)) {
        Ok(m) => Ok(m),
        Err(WaitError::Rpc(e)) => Err(e),
        Err(timeout) => panic!("the call hung: {timeout}"),
    };
    let outcome = call.outcome().expect("a finished call's outcome");
    Finished::of(result, &outcome)
}

fn with_call(result: Result<(Msg, rpc_aio::CallOutcome), RpcError>) -> Finished {
    match result {
        Ok((m, outcome)) => Finished::of(Ok(m), &outcome),
        Err(e) => Finished::failed(e),
    }
}

impl Face for SyncFace {
    const NAME: &'static str = "sync";
    type Channel = rpc_sync::Channel;
    type Server = SyncServer;
    type Call = SyncCall;

    fn new() -> SyncFace {
        SyncFace
    }

    fn serve_at(&self, style: Style, options: ServerOptions, address: &str, credentials: ServerCredentials) -> SyncServer {
        let server = rpc_sync::server(options).expect("a blocking server");
        server.add_interceptor(reject_marked);
        let probe = Probe::new();
        style.register(&server, &probe);
        let port = server
            .add_secure_port(address, credentials)
            .expect("a loopback port (or a unix socket) for the server");
        server.start().expect("the server starts");
        Served {
            engine: server,
            port,
            probe,
            style,
        }
    }

    fn channel_with(&self, target: &str, options: ChannelOptions) -> rpc_sync::Channel {
        rpc_sync::insecure_channel(target, options).expect("a channel")
    }

    fn secure_channel(&self, target: &str, credentials: ChannelCredentials, options: ChannelOptions) -> rpc_sync::Channel {
        rpc_sync::secure_channel(target, credentials, options).expect("a channel")
    }

    fn state(&self, channel: &rpc_sync::Channel) -> ChannelConnectivity {
        channel.get_state(false)
    }

    fn close(&self, channel: &rpc_sync::Channel, grace: Option<Duration>) {
        let channel = channel.clone();
        bounded(move || channel.close(grace));
    }

    fn unary(&self, channel: &rpc_sync::Channel, request: impl IntoRequest<Msg> + Send + 'static) -> Finished {
        let stub = SvcStub::new(channel.clone());
        with_call(bounded(move || stub.unary_with_call(request)))
    }

    fn unary_at<Req: prost::Message + Send + 'static>(
        &self,
        channel: &rpc_sync::Channel,
        path: &str,
        request: impl IntoRequest<Req> + Send + 'static,
    ) -> Finished {
        let callable = channel.unary_unary::<Req, Msg>(path);
        match bounded(move || callable.with_call(request)) {
            Ok((m, outcome)) => Finished::of(Ok(m), &outcome),
            Err(e) => Finished::failed(e),
        }
    }

    fn server_stream(&self, channel: &rpc_sync::Channel, request: impl IntoRequest<Msg> + Send + 'static) -> Finished {
        let call = SvcStub::new(channel.clone()).server_stream(request);
        bounded(move || drain(call))
    }

    fn client_stream(&self, channel: &rpc_sync::Channel, requests: impl IntoStreamingRequest<Msg> + Send + 'static) -> Finished {
        let stub = SvcStub::new(channel.clone());
        with_call(bounded(move || stub.client_stream_with_call(requests)))
    }

    fn bidi(&self, channel: &rpc_sync::Channel, requests: impl IntoStreamingRequest<Msg> + Send + 'static) -> Finished {
        let call = SvcStub::new(channel.clone()).bidi(requests);
        bounded(move || drain(call))
    }

    fn start_unary(&self, channel: &rpc_sync::Channel, request: impl IntoRequest<Msg> + Send + 'static) -> SyncCall {
        SyncCall::new(Kind::Unary(SvcStub::new(channel.clone()).unary_future(request)))
    }

    fn start_server_stream(&self, channel: &rpc_sync::Channel, request: impl IntoRequest<Msg> + Send + 'static) -> SyncCall {
        let call = SvcStub::new(channel.clone()).server_stream(request);
        call.start();
        SyncCall::new(Kind::ServerStream(call))
    }

    fn start_client_stream(&self, channel: &rpc_sync::Channel, requests: impl IntoStreamingRequest<Msg> + Send + 'static) -> SyncCall {
        SyncCall::new(Kind::ClientStream(SvcStub::new(channel.clone()).client_stream_future(requests)))
    }

    fn start_bidi(&self, channel: &rpc_sync::Channel, requests: impl IntoStreamingRequest<Msg> + Send + 'static) -> SyncCall {
        let call = SvcStub::new(channel.clone()).bidi(requests);
        call.start();
        SyncCall::new(Kind::Bidi(call))
    }
}

/// A started rpc-sync server with the test service.
pub type SyncServer = Served<rpc_sync::Server>;

impl SyncServer {
    /// The rpc-sync server.
    pub fn server(&self) -> &rpc_sync::Server {
        &self.engine
    }
}

impl Engine for rpc_sync::Server {
    const FACE: &'static str = "sync";
    fn stop(&self, grace: Option<Duration>) -> Stopping {
        Stopping {
            inner: StopInner::Sync(rpc_sync::Server::stop(self, grace)),
        }
    }
    fn active_rpcs(&self) -> usize {
        rpc_sync::Server::active_rpcs(self)
    }
    fn cancelled_rpcs(&self) -> usize {
        rpc_sync::Server::cancelled_rpcs(self)
    }
    fn is_terminated(&self) -> bool {
        rpc_sync::Server::is_terminated(self)
    }
}

/// A call of the blocking face in flight, of any kind.
#[derive(Debug)]
pub struct SyncCall {
    /// Moved to the thread of a bounded wait and back; `None` only while one runs.
    call: Option<Kind>,
}

type Kind = super::Kind<
    rpc_sync::UnaryCall<Msg>,
    rpc_sync::UnaryStreamCall<Msg>,
    rpc_sync::StreamUnaryCall<Msg, Msg>,
    rpc_sync::StreamStreamCall<Msg, Msg>,
>;

impl SyncCall {
    fn new(call: Kind) -> SyncCall {
        SyncCall { call: Some(call) }
    }

    fn kind(&self) -> &Kind {
        self.call.as_ref().expect("the call is back from its last wait")
    }

    /// Runs the blocking `work` on the call under a hang guard.
    fn blocking<T: Send + 'static>(&mut self, work: impl FnOnce(&mut Kind) -> T + Send + 'static) -> T {
        let mut call = self.call.take().expect("the call is back from its last wait");
        let (call, out) = bounded(move || {
            let out = work(&mut call);
            (call, out)
        });
        self.call = Some(call);
        out
    }
}

impl LiveCall for SyncCall {
    fn write(&mut self, request: Msg) -> Result<(), RpcError> {
        self.blocking(move |call| match call {
            Kind::ClientStream(call) => call.write(request),
            Kind::Bidi(call) => call.write(request),
            other => panic!("write() on a {} call", other.name()),
        })
    }

    fn done_writing(&mut self) -> Result<(), RpcError> {
        self.blocking(|call| match call {
            Kind::ClientStream(call) => call.done_writing(),
            Kind::Bidi(call) => call.done_writing(),
            other => panic!("done_writing() on a {} call", other.name()),
        })
    }

    fn read(&mut self) -> Option<Result<Msg, RpcError>> {
        self.blocking(|call| match call {
            Kind::ServerStream(call) => call.next(),
            Kind::Bidi(call) => call.next(),
            other => panic!("read() on a {} call", other.name()),
        })
    }

    fn initial_metadata(&mut self) -> Result<Metadata, RpcError> {
        self.blocking(|call| each!(call, call => call.initial_metadata()))
    }

    fn cancel(&self) -> bool {
        each!(self.kind(), call => call.cancel())
    }

    fn cancelled(&self) -> bool {
        each!(self.kind(), call => call.cancelled())
    }

    fn done(&self) -> bool {
        each!(self.kind(), call => call.done())
    }

    fn time_remaining(&self) -> Option<Duration> {
        each!(self.kind(), call => call.time_remaining())
    }

    fn finish(mut self) -> Finished {
        let call = self.call.take().expect("the call is back from its last wait");
        bounded(move || match call {
            Kind::Unary(call) => settle(call),
            Kind::ClientStream(call) => settle(call),
            Kind::ServerStream(call) => drain(call),
            Kind::Bidi(call) => drain(call),
        })
    }
}
