//! [`AioFace`]: the async face driven from a blocking test, on a tokio runtime it owns;
//! every wait goes through `block_on(bounded(..))`.

use super::{Engine, Face, Finished, LiveCall, Served, StopInner, Stopping};
use crate::pb::{Msg, SvcStub};
use crate::plan;
use crate::probe::Probe;
use crate::servicer::Style;
use crate::wait::bounded;
use futures::StreamExt;
use futures::future::BoxFuture;
use rpc_aio::{Continuation, HandlerCallDetails, RpcMethodHandler};
use rpc_core::{
    ChannelConnectivity, ChannelCredentials, ChannelOptions, IntoRequest, IntoStreamingRequest, Metadata, RpcError, ServerCredentials,
    ServerOptions, StatusCode,
};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The async face (rpc-aio), driven on a runtime of its own.
#[derive(Debug)]
pub struct AioFace {
    runtime: Arc<tokio::runtime::Runtime>,
}

impl AioFace {
    /// The runtime the face runs on (for what only the async face has).
    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }

    /// Runs `work` on the face's runtime, bounded.
    fn run<T>(&self, work: impl Future<Output = T>) -> T {
        run(&self.runtime, work)
    }
}

fn run<T>(runtime: &tokio::runtime::Runtime, work: impl Future<Output = T>) -> T {
    runtime.block_on(bounded(work))
}

/// Refuses calls marked `x-reject` (UNAUTHENTICATED): the async face's server interceptor.
struct RejectMarked;

impl rpc_aio::ServerInterceptor for RejectMarked {
    fn intercept_service(&self, continuation: Continuation, details: HandlerCallDetails) -> BoxFuture<'static, Option<RpcMethodHandler>> {
        Box::pin(async move {
            if details.invocation_metadata.contains_key("x-reject") {
                return Some(RpcMethodHandler::abort(StatusCode::Unauthenticated, plan::REJECTED));
            }
            continuation.run(details).await
        })
    }
}

/// The responses of a stream up to its end or first error, with the call's outcome.
async fn drain<K: rpc_aio::kind::ManyResponses + Send, Req: Send>(mut call: rpc_aio::Call<K, Req, Msg>) -> Finished
where
    rpc_aio::Call<K, Req, Msg>: futures::Stream<Item = Result<Msg, RpcError>>,
{
    let mut responses = Vec::new();
    let mut error = None;
    while let Some(item) = call.next().await {
        match item {
            Ok(m) => responses.push(m),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let outcome = call.outcome().await;
    Finished::new(responses, error, &outcome)
}

/// A one-response call awaited to its end, with its outcome.
async fn settle<K: rpc_aio::kind::OneResponse, Req>(mut call: rpc_aio::Call<K, Req, Msg>) -> Finished
where
    rpc_aio::Call<K, Req, Msg>: Future<Output = Result<Msg, RpcError>>,
{
    let result = (&mut call).await;
    let outcome = call.outcome().await;
    Finished::of(result, &outcome)
}

fn with_call(result: Result<(Msg, rpc_aio::CallOutcome), RpcError>) -> Finished {
    match result {
        Ok((m, outcome)) => Finished::of(Ok(m), &outcome),
        Err(e) => Finished::failed(e),
    }
}

impl Face for AioFace {
    const NAME: &'static str = "aio";
    type Channel = rpc_aio::Channel;
    type Server = AioServer;
    type Call = AioCall;

    fn new() -> AioFace {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("aio-face")
            .enable_all()
            .build()
            .expect("the async face's runtime");
        AioFace {
            runtime: Arc::new(runtime),
        }
    }

    fn serve_at(&self, style: Style, options: ServerOptions, address: &str, credentials: ServerCredentials) -> AioServer {
        let server = rpc_aio::server(options);
        server.add_interceptor(RejectMarked);
        let probe = Probe::new();
        style.register(&server, &probe);
        let port = server
            .add_secure_port(address, credentials)
            .expect("a loopback port (or a unix socket) for the server");
        self.run(server.start()).expect("the server starts");
        Served {
            engine: AioEngine {
                server,
                runtime: self.runtime.clone(),
            },
            port,
            probe,
            style,
        }
    }

    fn channel_with(&self, target: &str, options: ChannelOptions) -> rpc_aio::Channel {
        let _entered = self.runtime.enter();
        rpc_aio::insecure_channel(target, options).expect("a channel")
    }

    fn secure_channel(&self, target: &str, credentials: ChannelCredentials, options: ChannelOptions) -> rpc_aio::Channel {
        let _entered = self.runtime.enter();
        rpc_aio::secure_channel(target, credentials, options).expect("a channel")
    }

    fn state(&self, channel: &rpc_aio::Channel) -> ChannelConnectivity {
        channel.get_state(false)
    }

    fn close(&self, channel: &rpc_aio::Channel, grace: Option<Duration>) {
        self.run(channel.close(grace));
    }

    fn unary(&self, channel: &rpc_aio::Channel, request: impl IntoRequest<Msg> + Send + 'static) -> Finished {
        let stub = SvcStub::new(channel.clone());
        with_call(self.run(stub.unary_with_call(request)))
    }

    fn unary_at<Req: prost::Message + Send + 'static>(
        &self,
        channel: &rpc_aio::Channel,
        path: &str,
        request: impl IntoRequest<Req> + Send + 'static,
    ) -> Finished {
        let call = channel.unary_unary::<Req, Msg>(path).call(request);
        self.run(settle(call))
    }

    fn server_stream(&self, channel: &rpc_aio::Channel, request: impl IntoRequest<Msg> + Send + 'static) -> Finished {
        let call = SvcStub::new(channel.clone()).server_stream(request);
        self.run(drain(call))
    }

    fn client_stream(&self, channel: &rpc_aio::Channel, requests: impl IntoStreamingRequest<Msg> + Send + 'static) -> Finished {
        let _entered = self.runtime.enter();
        let call = SvcStub::new(channel.clone()).client_stream_with_call(requests);
        with_call(self.run(call))
    }

    fn bidi(&self, channel: &rpc_aio::Channel, requests: impl IntoStreamingRequest<Msg> + Send + 'static) -> Finished {
        let _entered = self.runtime.enter();
        let call = SvcStub::new(channel.clone()).bidi(requests);
        self.run(drain(call))
    }

    fn start_unary(&self, channel: &rpc_aio::Channel, request: impl IntoRequest<Msg> + Send + 'static) -> AioCall {
        let _entered = self.runtime.enter();
        self.live(Kind::Unary(SvcStub::new(channel.clone()).unary_future(request)))
    }

    fn start_server_stream(&self, channel: &rpc_aio::Channel, request: impl IntoRequest<Msg> + Send + 'static) -> AioCall {
        let _entered = self.runtime.enter();
        let call = SvcStub::new(channel.clone()).server_stream(request);
        call.start();
        self.live(Kind::ServerStream(call))
    }

    fn start_client_stream(&self, channel: &rpc_aio::Channel, requests: impl IntoStreamingRequest<Msg> + Send + 'static) -> AioCall {
        let _entered = self.runtime.enter();
        self.live(Kind::ClientStream(SvcStub::new(channel.clone()).client_stream_future(requests)))
    }

    fn start_bidi(&self, channel: &rpc_aio::Channel, requests: impl IntoStreamingRequest<Msg> + Send + 'static) -> AioCall {
        let _entered = self.runtime.enter();
        let call = SvcStub::new(channel.clone()).bidi(requests);
        call.start();
        self.live(Kind::Bidi(call))
    }
}

impl AioFace {
    fn live(&self, call: Kind) -> AioCall {
        AioCall {
            call,
            runtime: self.runtime.clone(),
        }
    }
}

/// A started rpc-aio server with the test service.
pub type AioServer = Served<AioEngine>;

/// An rpc-aio server and the runtime it was started on.
#[derive(Debug)]
pub struct AioEngine {
    server: rpc_aio::Server,
    runtime: Arc<tokio::runtime::Runtime>,
}

impl AioServer {
    /// The rpc-aio server.
    pub fn server(&self) -> &rpc_aio::Server {
        &self.engine.server
    }
}

impl Engine for AioEngine {
    const FACE: &'static str = "aio";
    fn stop(&self, grace: Option<Duration>) -> Stopping {
        Stopping {
            inner: StopInner::Aio(self.server.stop(grace), self.runtime.clone()),
        }
    }
    fn active_rpcs(&self) -> usize {
        self.server.active_rpcs()
    }
    fn cancelled_rpcs(&self) -> usize {
        self.server.cancelled_rpcs()
    }
    fn is_terminated(&self) -> bool {
        self.server.is_terminated()
    }
}

/// A call of the async face in flight, of any kind.
#[derive(Debug)]
pub struct AioCall {
    call: Kind,
    runtime: Arc<tokio::runtime::Runtime>,
}

type Kind = super::Kind<
    rpc_aio::UnaryCall<Msg>,
    rpc_aio::UnaryStreamCall<Msg>,
    rpc_aio::StreamUnaryCall<Msg, Msg>,
    rpc_aio::StreamStreamCall<Msg, Msg>,
>;

impl LiveCall for AioCall {
    fn write(&mut self, request: Msg) -> Result<(), RpcError> {
        match &mut self.call {
            Kind::ClientStream(call) => run(&self.runtime, call.write(request)),
            Kind::Bidi(call) => run(&self.runtime, call.write(request)),
            _ => panic!("write() on a {} call", self.call.name()),
        }
    }

    fn done_writing(&mut self) -> Result<(), RpcError> {
        match &mut self.call {
            Kind::ClientStream(call) => run(&self.runtime, call.done_writing()),
            Kind::Bidi(call) => run(&self.runtime, call.done_writing()),
            _ => panic!("done_writing() on a {} call", self.call.name()),
        }
    }

    fn read(&mut self) -> Option<Result<Msg, RpcError>> {
        match &mut self.call {
            Kind::ServerStream(call) => run(&self.runtime, call.next()),
            Kind::Bidi(call) => run(&self.runtime, call.next()),
            _ => panic!("read() on a {} call", self.call.name()),
        }
    }

    fn initial_metadata(&mut self) -> Result<Metadata, RpcError> {
        each!(&self.call, call => run(&self.runtime, call.initial_metadata()))
    }

    fn cancel(&self) -> bool {
        each!(&self.call, call => call.cancel())
    }

    fn cancelled(&self) -> bool {
        each!(&self.call, call => call.cancelled())
    }

    fn done(&self) -> bool {
        each!(&self.call, call => call.done())
    }

    fn time_remaining(&self) -> Option<Duration> {
        each!(&self.call, call => call.time_remaining())
    }

    fn finish(self) -> Finished {
        match self.call {
            Kind::Unary(call) => run(&self.runtime, settle(call)),
            Kind::ClientStream(call) => run(&self.runtime, settle(call)),
            Kind::ServerStream(call) => run(&self.runtime, drain(call)),
            Kind::Bidi(call) => run(&self.runtime, drain(call)),
        }
    }
}
