//! How users unit-test with `rpc_aio::testing` and `rpc_sync::testing`: a servicer tested
//! through a real channel, and client code tested against a fake servicer, in each face;
//! and what the helpers promise (a loopback port, a stop on drop).

use examples::clients::{greet_aio, greet_sync};
use examples::greeter::{AsyncGreeter, BlockingGreeter};
use examples::pb::helloworld::{
    AsyncGreeterServicer, GreeterServicer, GreeterStub, HelloReply, HelloRequest, add_greeter_servicer_to_server,
};
use rpc_core::{Request, RpcError, ServicerContext, StatusCode};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn hello(name: &str) -> Request<HelloRequest> {
    Request::new(HelloRequest { name: name.to_owned() }).timeout(Duration::from_secs(10))
}

/// The name and `x-client` header of each request a fake saw.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A fake greeter for testing client code: records what clients sent and answers as told.
#[derive(Clone, Default)]
struct FakeGreeter {
    seen: Seen,
    fail_with: Option<StatusCode>,
}

impl FakeGreeter {
    fn record(&self, request: &HelloRequest, context: &ServicerContext) -> Result<HelloReply, RpcError> {
        let client = context.invocation_metadata().get_str("x-client").map(str::to_owned);
        self.seen.lock().unwrap().push((request.name.clone(), client));
        match self.fail_with {
            Some(code) => Err(context.abort(code, "the fake says no")),
            None => Ok(HelloReply {
                message: "canned".to_owned(),
            }),
        }
    }
}

impl AsyncGreeterServicer for FakeGreeter {
    async fn say_hello(&self, request: HelloRequest, context: &ServicerContext) -> Result<HelloReply, RpcError> {
        self.record(&request, context)
    }
}

impl GreeterServicer for FakeGreeter {
    fn say_hello(&self, request: HelloRequest, context: &ServicerContext) -> Result<HelloReply, RpcError> {
        self.record(&request, context)
    }
}

#[tokio::test]
async fn aio_unit_test_of_a_servicer() {
    let (server, channel) = rpc_aio::testing::serve(|server| add_greeter_servicer_to_server(AsyncGreeter, server))
        .await
        .unwrap();
    assert!(server.target().starts_with("127.0.0.1:"), "a loopback port");
    let reply = GreeterStub::new(channel).say_hello(hello("unit")).await.unwrap();
    assert_eq!(reply.message, "Hello, unit! (from an async handler)");
    server.stop().await;
}

#[tokio::test]
async fn aio_unit_test_of_client_code_against_a_fake() {
    let fake = FakeGreeter::default();
    let (server, channel) =
        rpc_aio::testing::serve(|server| add_greeter_servicer_to_server::<rpc_core::codegen::Async>(fake.clone(), server))
            .await
            .unwrap();
    assert_eq!(greet_aio(channel, "client under test").await.unwrap(), "canned");
    assert_eq!(
        *fake.seen.lock().unwrap(),
        [("client under test".to_owned(), Some("aio".to_owned()))],
        "the client sent its name and its x-client header"
    );

    let failing = FakeGreeter {
        fail_with: Some(StatusCode::ResourceExhausted),
        ..FakeGreeter::default()
    };
    let (_server, channel) = rpc_aio::testing::serve(|server| add_greeter_servicer_to_server::<rpc_core::codegen::Async>(failing, server))
        .await
        .unwrap();
    let err = greet_aio(channel, "x").await.unwrap_err();
    assert_eq!(err.code(), StatusCode::ResourceExhausted, "the client passes the server's error on");
    drop(server);
}

#[tokio::test]
async fn aio_test_server_stops_when_dropped() {
    let (server, channel) = rpc_aio::testing::serve(|server| add_greeter_servicer_to_server(AsyncGreeter, server))
        .await
        .unwrap();
    let handle = server.server().clone();
    drop(server);
    assert!(
        handle.wait_for_termination(Some(Duration::from_secs(10))).await,
        "dropping the TestServer stops it"
    );
    let err = GreeterStub::new(channel).say_hello(hello("late")).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Unavailable);
}

#[test]
fn sync_unit_test_of_a_servicer() {
    let (server, channel) = rpc_sync::testing::serve(|server| add_greeter_servicer_to_server(BlockingGreeter, server)).unwrap();
    let reply = GreeterStub::new(channel).say_hello(hello("unit")).unwrap();
    assert_eq!(reply.message, "Hello, unit! (from a blocking handler)");
    assert_eq!(server.target(), format!("127.0.0.1:{}", server.port()));
}

#[test]
fn sync_unit_test_of_client_code_against_a_fake() {
    let fake = FakeGreeter::default();
    let (server, channel) =
        rpc_sync::testing::serve(|server| add_greeter_servicer_to_server::<rpc_core::codegen::Blocking>(fake.clone(), server)).unwrap();
    assert_eq!(greet_sync(channel.clone(), "blocking client").unwrap(), "canned");
    assert_eq!(
        *fake.seen.lock().unwrap(),
        [("blocking client".to_owned(), Some("sync".to_owned()))]
    );

    let handle = server.server().clone();
    drop(server);
    assert!(handle.is_terminated(), "dropping the blocking TestServer waits for the stop");
    assert_eq!(greet_sync(channel, "late").unwrap_err().code(), StatusCode::Unavailable);
}
