//! Generated registration functions on a mock server: every method is added once, with a
//! handler of its kind (blocking for a blocking servicer, async for an async one), the
//! service descriptor is added, and the handlers call the servicer's methods.

use codegen_check::mock_server::{MockServer, context, now};
use codegen_check::pb::helloworld::{self, AsyncGreeterServicer, GreeterServicer, HelloReply, HelloRequest};
use codegen_check::pb::kw::r#type::v1 as kw;
use codegen_check::pb::routeguide::{self, AsyncRouteGuideServicer, Feature, Point, RouteGuideServicer, RouteNote};
use rpc_core::codegen::{Async, Blocking, MethodHandler, ServiceDescriptor};
use rpc_core::{RequestIterator, ResponseIterator, RpcError, ServicerContext, StatusCode};
use std::sync::Arc;

struct Greeter;

impl GreeterServicer for Greeter {
    fn say_hello(&self, request: HelloRequest, context: &ServicerContext) -> Result<HelloReply, RpcError> {
        Ok(HelloReply {
            message: format!("hello {} on {}", request.name, context.method()),
        })
    }
}

struct AsyncGreeter;

impl AsyncGreeterServicer for AsyncGreeter {
    async fn say_hello(&self, request: HelloRequest, _: &ServicerContext) -> Result<HelloReply, RpcError> {
        Ok(HelloReply {
            message: format!("async hello {}", request.name),
        })
    }
}

/// A servicer that implements nothing (every method answers UNIMPLEMENTED).
struct Nothing;
impl RouteGuideServicer for Nothing {}
impl AsyncRouteGuideServicer for Nothing {}

/// What registering any servicer of `service` must add, in order.
fn expected(service: &ServiceDescriptor, blocking: bool) -> Vec<(&'static str, rpc_core::codegen::MethodKind, bool)> {
    service.methods.iter().map(|m| (m.path, m.kind, blocking)).collect()
}

const SAY_HELLO: &str = "/helloworld.Greeter/SayHello";

#[test]
fn a_blocking_servicer_gets_blocking_handlers_that_call_it() {
    let server = MockServer::new();
    helloworld::add_greeter_servicer_to_server(Greeter, &server);
    assert_eq!(server.methods(), expected(&helloworld::GREETER_SERVICE, true));
    assert_eq!(server.services(), ["helloworld.Greeter"]);
    let MethodHandler::BlockingUnaryUnary(handler) = server.handler::<HelloRequest, HelloReply>(SAY_HELLO) else {
        panic!("not a blocking unary-unary handler");
    };
    let reply = handler(HelloRequest { name: "ada".into() }, &context(SAY_HELLO)).unwrap();
    assert_eq!(reply.message, format!("hello ada on {SAY_HELLO}"));
}

#[test]
fn an_async_servicer_gets_async_handlers_that_call_it() {
    let server = MockServer::new();
    helloworld::add_greeter_servicer_to_server(AsyncGreeter, &server);
    assert_eq!(server.methods(), expected(&helloworld::GREETER_SERVICE, false));
    let MethodHandler::AsyncUnaryUnary(handler) = server.handler::<HelloRequest, HelloReply>(SAY_HELLO) else {
        panic!("not an async unary-unary handler");
    };
    let reply = now(handler(HelloRequest { name: "bo".into() }, context(SAY_HELLO))).unwrap();
    assert_eq!(reply.message, "async hello bo");
}

#[test]
fn an_arc_of_a_servicer_registers_too() {
    let server = MockServer::new();
    helloworld::add_greeter_servicer_to_server(Arc::new(Greeter), &server);
    assert_eq!(server.methods(), expected(&helloworld::GREETER_SERVICE, true));
}

#[test]
fn every_kind_is_registered_with_its_handler_variant() {
    let server = MockServer::new();
    routeguide::add_route_guide_servicer_to_server::<Blocking>(Nothing, &server);
    assert_eq!(server.methods(), expected(&routeguide::ROUTE_GUIDE_SERVICE, true));
    let server = MockServer::new();
    routeguide::add_route_guide_servicer_to_server::<Async>(Nothing, &server);
    assert_eq!(server.methods(), expected(&routeguide::ROUTE_GUIDE_SERVICE, false));
    assert_eq!(server.services(), ["routeguide.RouteGuide"]);
}

#[test]
fn methods_left_out_answer_unimplemented() {
    let server = MockServer::new();
    routeguide::add_route_guide_servicer_to_server::<Blocking>(Nothing, &server);
    let path = routeguide::ROUTE_GUIDE_ROUTE_CHAT.path;
    let MethodHandler::BlockingStreamStream(handler) = server.handler::<RouteNote, RouteNote>(path) else {
        panic!("not a blocking stream-stream handler");
    };
    let requests = RequestIterator::new(std::iter::empty());
    let err: RpcError = handler(requests, &context(path))
        .map(|_: ResponseIterator<RouteNote>| ())
        .unwrap_err();
    assert_eq!(err.code(), StatusCode::Unimplemented);

    let server = MockServer::new();
    routeguide::add_route_guide_servicer_to_server::<Async>(Nothing, &server);
    let path = routeguide::ROUTE_GUIDE_GET_FEATURE.path;
    let MethodHandler::AsyncUnaryUnary(handler) = server.handler::<Point, Feature>(path) else {
        panic!("not an async unary-unary handler");
    };
    assert_eq!(
        now(handler(Point::default(), context(path))).unwrap_err().code(),
        StatusCode::Unimplemented
    );
}

#[test]
fn a_service_without_methods_still_adds_its_descriptor() {
    struct Empty;
    impl kw::NothingServicer for Empty {}
    let server = MockServer::new();
    kw::add_nothing_servicer_to_server(Empty, &server);
    assert!(server.methods().is_empty());
    assert_eq!(server.services(), ["kw.type.v1.Nothing"]);
}

#[test]
fn descriptors_describe_the_protos() {
    let say_hello = &helloworld::GREETER_SAY_HELLO;
    assert_eq!(
        (say_hello.service, say_hello.name, say_hello.path),
        ("helloworld.Greeter", "SayHello", SAY_HELLO)
    );
    assert!(!helloworld::FILE_DESCRIPTOR_SET.is_empty());
    assert_eq!(helloworld::GREETER_SERVICE.file_descriptor_set, helloworld::FILE_DESCRIPTOR_SET);
    for m in routeguide::ROUTE_GUIDE_SERVICE.methods {
        assert_eq!(m.service, routeguide::ROUTE_GUIDE_SERVICE_NAME);
        assert_eq!(m.path, format!("/{}/{}", m.service, m.name));
    }
}
