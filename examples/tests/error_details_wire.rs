//! Rich error details over the wire: handlers (async and blocking, returning the error or
//! aborting with it) attach BadRequest, ErrorInfo and RetryInfo, and both faces' clients
//! read them back from `grpc-status-details-bin`.

use examples::pb::helloworld::{
    AsyncGreeterServicer, GreeterServicer, GreeterStub, HelloReply, HelloRequest, add_greeter_servicer_to_server,
};
use rpc_core::details::{BadRequest, ErrorInfo, FieldViolation, RetryInfo};
use rpc_core::{ChannelOptions, Request, RpcError, ServicerContext, StatusCode};
use std::time::Duration;

/// The error every handler here fails with, naming the request's `name` as the bad field.
fn rich_error(name: &str) -> RpcError {
    RpcError::invalid_argument("name must not be empty")
        .with_detail(BadRequest {
            field_violations: vec![FieldViolation {
                field: "name".into(),
                description: format!("got {name:?}"),
            }],
        })
        .with_detail(ErrorInfo {
            reason: "EMPTY_NAME".into(),
            domain: "greeter.example".into(),
            metadata: [("field".to_owned(), "name".to_owned())].into_iter().collect(),
        })
        .with_detail(RetryInfo {
            retry_delay: Some(prost_types::Duration { seconds: 2, nanos: 5 }),
        })
}

/// Async: returns the rich error.
struct AsyncRejecter;

impl AsyncGreeterServicer for AsyncRejecter {
    async fn say_hello(&self, request: HelloRequest, _context: &ServicerContext) -> Result<HelloReply, RpcError> {
        Err(rich_error(&request.name))
    }
}

/// Blocking: aborts with the rich error (`abort_with_status`).
struct BlockingRejecter;

impl GreeterServicer for BlockingRejecter {
    fn say_hello(&self, request: HelloRequest, context: &ServicerContext) -> Result<HelloReply, RpcError> {
        Err(context.abort_with_status(rich_error(&request.name)))
    }
}

fn request() -> Request<HelloRequest> {
    Request::new(HelloRequest { name: String::new() }).timeout(Duration::from_secs(10))
}

fn check(err: &RpcError, face: &str) {
    assert_eq!(err.code(), StatusCode::InvalidArgument, "{face}");
    assert_eq!(err.details(), "name must not be empty", "{face}");
    let bad = err
        .detail::<BadRequest>()
        .unwrap_or_else(|| panic!("{face}: BadRequest missing from {err}"));
    assert_eq!(bad.field_violations[0].field, "name");
    assert_eq!(bad.field_violations[0].description, "got \"\"");
    let info = err.detail::<ErrorInfo>().unwrap_or_else(|| panic!("{face}: ErrorInfo missing"));
    assert_eq!((info.reason.as_str(), info.domain.as_str()), ("EMPTY_NAME", "greeter.example"));
    assert_eq!(info.metadata.get("field").map(String::as_str), Some("name"));
    let retry = err.detail::<RetryInfo>().unwrap_or_else(|| panic!("{face}: RetryInfo missing"));
    assert_eq!(retry.retry_delay, Some(prost_types::Duration { seconds: 2, nanos: 5 }));
    assert_eq!(
        err.rich_details(),
        rich_error("").rich_details(),
        "{face}: nothing more, nothing less"
    );
}

/// Both clients against `target`: the async one on `runtime`, the blocking one on the
/// test's thread (a blocking call must not be made on a runtime thread).
fn both_clients_read_the_details(runtime: &tokio::runtime::Runtime, target: &str, server: &str) {
    let err = runtime.block_on(async {
        let channel = rpc_aio::insecure_channel(target, ChannelOptions::default()).unwrap();
        GreeterStub::new(channel).say_hello(request()).await.unwrap_err()
    });
    check(&err, &format!("{server} server, async client"));

    let channel = rpc_sync::insecure_channel(target, ChannelOptions::default()).unwrap();
    let err = GreeterStub::new(channel).say_hello(request()).unwrap_err();
    check(&err, &format!("{server} server, blocking client"));
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

#[test]
fn async_handler_on_the_async_server() {
    let rt = runtime();
    let (server, _) = rt
        .block_on(rpc_aio::testing::serve(|s| add_greeter_servicer_to_server(AsyncRejecter, s)))
        .unwrap();
    both_clients_read_the_details(&rt, &server.target(), "async handler, async");
    rt.block_on(server.stop());
}

#[test]
fn blocking_handler_on_the_async_server() {
    let rt = runtime();
    let (server, _) = rt
        .block_on(rpc_aio::testing::serve(|s| add_greeter_servicer_to_server(BlockingRejecter, s)))
        .unwrap();
    both_clients_read_the_details(&rt, &server.target(), "blocking handler, async");
    rt.block_on(server.stop());
}

#[test]
fn async_handler_on_the_blocking_server() {
    let (server, _) = rpc_sync::testing::serve(|s| add_greeter_servicer_to_server(AsyncRejecter, s)).unwrap();
    both_clients_read_the_details(&runtime(), &server.target(), "async handler, blocking");
}

#[test]
fn blocking_handler_on_the_blocking_server() {
    let (server, _) = rpc_sync::testing::serve(|s| add_greeter_servicer_to_server(BlockingRejecter, s)).unwrap();
    both_clients_read_the_details(&runtime(), &server.target(), "blocking handler, blocking");
}
