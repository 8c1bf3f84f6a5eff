//! The behaviour suite against the async face: an rpc-aio server and an rpc-aio client,
//! driven from the test thread through a runtime of the test's own.

mod behaviour;

use behaviour::{Face, Pending, WithMetadata, servicers};
use examples::pb::helloworld::{GreeterStub, HelloRequest, add_greeter_servicer_to_server};
use examples::pb::routeguide::{Feature, Point, Rectangle, RouteGuideStub, RouteNote, RouteSummary, add_route_guide_servicer_to_server};
use futures::TryStreamExt;
use futures::future::BoxFuture;
use rpc_aio::{Continuation, HandlerCallDetails, RpcMethodHandler};
use rpc_core::{ChannelOptions, Request, RpcError, ServerOptions, StatusCode};
use std::sync::Arc;
use std::time::Duration;

struct AioFace {
    runtime: Arc<tokio::runtime::Runtime>,
    server: rpc_aio::Server,
    channel: rpc_aio::Channel,
}

struct RejectMarked;

impl rpc_aio::ServerInterceptor for RejectMarked {
    fn intercept_service(&self, continuation: Continuation, details: HandlerCallDetails) -> BoxFuture<'static, Option<RpcMethodHandler>> {
        Box::pin(async move {
            if details.invocation_metadata.contains_key("x-reject") {
                return Some(RpcMethodHandler::abort(StatusCode::Unauthenticated, "rejected by the interceptor"));
            }
            continuation.run(details).await
        })
    }
}

impl Face for AioFace {
    fn start() -> Self {
        let runtime = Arc::new(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap(),
        );
        let server = rpc_aio::server(ServerOptions::default());
        server.add_interceptor(RejectMarked);
        add_greeter_servicer_to_server(servicers::Async, &server);
        add_route_guide_servicer_to_server(servicers::Async, &server);
        let port = server.add_insecure_port("127.0.0.1:0").unwrap();
        runtime.block_on(server.start()).unwrap();
        let _entered = runtime.enter();
        let channel = rpc_aio::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();
        AioFace { runtime, server, channel }
    }

    fn stop(&self, grace: Option<Duration>) {
        let stop = self.server.stop(grace);
        let done = self
            .runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(30), stop).await });
        assert!(done.is_ok(), "server did not terminate");
    }

    fn hello(&self, request: Request<HelloRequest>) -> Result<WithMetadata, RpcError> {
        let stub = GreeterStub::new(self.channel.clone());
        self.runtime.block_on(async move {
            let (reply, call) = stub.say_hello_with_call(request).await?;
            Ok((reply, call.initial_metadata().clone(), call.trailing_metadata().clone()))
        })
    }

    fn hello_in_background(&self, request: Request<HelloRequest>) -> Pending {
        let stub = GreeterStub::new(self.channel.clone());
        let task = self.runtime.spawn(async move { stub.say_hello(request).await });
        let runtime = self.runtime.clone();
        Box::new(move || runtime.block_on(task).expect("client task panicked"))
    }

    fn list(&self, n: i32) -> Result<Vec<Feature>, RpcError> {
        let rect = Rectangle {
            lo: Some(Point { latitude: n, longitude: 0 }),
            hi: None,
        };
        let stub = RouteGuideStub::new(self.channel.clone());
        self.runtime.block_on(async move { stub.list_features(rect).try_collect().await })
    }

    fn record(&self, points: Vec<Point>) -> Result<RouteSummary, RpcError> {
        let stub = RouteGuideStub::new(self.channel.clone());
        self.runtime.block_on(async move { stub.record_route(points).await })
    }

    fn chat(&self, notes: Vec<RouteNote>) -> Result<Vec<RouteNote>, RpcError> {
        let stub = RouteGuideStub::new(self.channel.clone());
        self.runtime.block_on(async move { stub.route_chat(notes).try_collect().await })
    }
}

behaviour_suite!(AioFace);
