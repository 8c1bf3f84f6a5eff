//! The behaviour suite against the blocking face: an rpc-sync server and an rpc-sync client.

mod behaviour;

use behaviour::{Face, Pending, WithMetadata, servicers};
use examples::pb::helloworld::{GreeterStub, HelloRequest, add_greeter_servicer_to_server};
use examples::pb::routeguide::{Feature, Point, Rectangle, RouteGuideStub, RouteNote, RouteSummary, add_route_guide_servicer_to_server};
use rpc_aio::{HandlerCallDetails, RpcMethodHandler};
use rpc_core::{ChannelOptions, Request, RpcError, ServerOptions, StatusCode};
use std::time::Duration;

struct SyncFace {
    server: rpc_sync::Server,
    channel: rpc_sync::Channel,
}

fn reject_marked(continuation: rpc_sync::Continuation, details: HandlerCallDetails) -> Option<RpcMethodHandler> {
    if details.invocation_metadata.contains_key("x-reject") {
        return Some(RpcMethodHandler::abort(StatusCode::Unauthenticated, "rejected by the interceptor"));
    }
    continuation.run(details)
}

impl Face for SyncFace {
    fn start() -> Self {
        let server = rpc_sync::server(ServerOptions::default()).unwrap();
        server.add_interceptor(reject_marked);
        add_greeter_servicer_to_server(servicers::Blocking, &server);
        add_route_guide_servicer_to_server(servicers::Blocking, &server);
        let port = server.add_insecure_port("127.0.0.1:0").unwrap();
        server.start().unwrap();
        let channel = rpc_sync::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();
        SyncFace { server, channel }
    }

    fn stop(&self, grace: Option<Duration>) {
        assert!(
            self.server.stop(grace).wait(Some(Duration::from_secs(30))),
            "server did not terminate"
        );
    }

    fn hello(&self, request: Request<HelloRequest>) -> Result<WithMetadata, RpcError> {
        let (reply, call) = GreeterStub::new(self.channel.clone()).say_hello_with_call(request)?;
        Ok((reply, call.initial_metadata().clone(), call.trailing_metadata().clone()))
    }

    fn hello_in_background(&self, request: Request<HelloRequest>) -> Pending {
        let stub = GreeterStub::new(self.channel.clone());
        let call = std::thread::spawn(move || stub.say_hello(request));
        Box::new(move || call.join().expect("client thread panicked"))
    }

    fn list(&self, n: i32) -> Result<Vec<Feature>, RpcError> {
        let rect = Rectangle {
            lo: Some(Point { latitude: n, longitude: 0 }),
            hi: None,
        };
        RouteGuideStub::new(self.channel.clone()).list_features(rect).collect()
    }

    fn record(&self, points: Vec<Point>) -> Result<RouteSummary, RpcError> {
        RouteGuideStub::new(self.channel.clone()).record_route(points)
    }

    fn chat(&self, notes: Vec<RouteNote>) -> Result<Vec<RouteNote>, RpcError> {
        RouteGuideStub::new(self.channel.clone()).route_chat(notes).collect()
    }
}

behaviour_suite!(SyncFace);
