//! The generated code against test doubles of the codegen contract: a `Channel` that
//! records each call and answers from a function table, and a `Server` that records what
//! is registered. Proves stubs call the right paths with the right kinds and options,
//! registration covers every method for blocking and async servicers, and the
//! descriptors and `FILE_DESCRIPTOR_SET` are right.

use examples::pb::grpc::health::v1 as health;
use examples::pb::grpc::testing;
use examples::pb::helloworld::*;
use examples::pb::routeguide::*;
use futures::executor::{block_on, block_on_stream};
use prost::Message;
use rpc_core::codegen::{self, MethodDescriptor, MethodHandler, MethodKind};
use rpc_core::{Metadata, Request, RequestSource, RpcError, RpcInfo, ServicerContext, StatusCode};
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One call as the test channel saw it.
#[derive(Debug, Clone)]
struct Recorded {
    path: &'static str,
    kind: MethodKind,
    /// The `Channel` method the stub called.
    via: &'static str,
    timeout: Option<Duration>,
    metadata: Metadata,
    requests: usize,
}

/// A channel whose calls are answered at once by [`respond`], recording each call.
#[derive(Clone, Default, Debug)]
struct TestChannel {
    calls: Arc<Mutex<Vec<Recorded>>>,
}

impl TestChannel {
    fn calls(&self) -> Vec<Recorded> {
        self.calls.lock().unwrap().clone()
    }

    fn call<Req: Message, Resp: Message + Default>(
        &self,
        method: &'static MethodDescriptor,
        via: &'static str,
        request: Request<Vec<Req>>,
    ) -> Result<Vec<Resp>, RpcError> {
        let (messages, options) = request.into_parts();
        self.calls.lock().unwrap().push(Recorded {
            path: method.path,
            kind: method.kind,
            via,
            timeout: options.timeout,
            metadata: options.metadata,
            requests: messages.len(),
        });
        let encoded = messages.iter().map(Message::encode_to_vec).collect();
        let answers = respond(method.path, encoded)?;
        Ok(answers
            .iter()
            .map(|bytes| Resp::decode(bytes.as_slice()).expect("answer decodes as the response type"))
            .collect())
    }

    fn one<Req: Message, Resp: Message + Default>(
        &self,
        method: &'static MethodDescriptor,
        via: &'static str,
        request: Request<Vec<Req>>,
    ) -> Result<Resp, RpcError> {
        let mut answers = self.call(method, via, request)?;
        assert_eq!(answers.len(), 1, "a unary response is one message");
        Ok(answers.remove(0))
    }
}

/// The function table: the encoded answers of the test "server", by path.
fn respond(path: &str, requests: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>, RpcError> {
    match path {
        "/helloworld.Greeter/SayHello" => {
            let req = HelloRequest::decode(requests[0].as_slice()).unwrap();
            Ok(vec![
                HelloReply {
                    message: format!("Hello, {}!", req.name),
                }
                .encode_to_vec(),
            ])
        }
        "/routeguide.RouteGuide/GetFeature" => {
            let point = Point::decode(requests[0].as_slice()).unwrap();
            Ok(vec![
                Feature {
                    name: "here".into(),
                    location: Some(point),
                }
                .encode_to_vec(),
            ])
        }
        "/routeguide.RouteGuide/ListFeatures" => {
            let rect = Rectangle::decode(requests[0].as_slice()).unwrap();
            Ok([rect.lo, rect.hi]
                .into_iter()
                .map(|p| {
                    Feature {
                        name: "corner".into(),
                        location: p,
                    }
                    .encode_to_vec()
                })
                .collect())
        }
        "/routeguide.RouteGuide/RecordRoute" => Ok(vec![
            RouteSummary {
                point_count: requests.len() as i32,
                ..Default::default()
            }
            .encode_to_vec(),
        ]),
        "/routeguide.RouteGuide/RouteChat" => Ok(requests),
        other => Err(RpcError::unimplemented(format!("no answer for {other}"))),
    }
}

fn drain<Req: Send + 'static>(request: Request<RequestSource<Req>>) -> Request<Vec<Req>> {
    request.map(|source| match source {
        RequestSource::Iter(iter) => iter.collect(),
        RequestSource::Stream(stream) => block_on_stream(stream).collect(),
        RequestSource::Writer => Vec::new(),
    })
}

impl codegen::Channel for TestChannel {
    type Unary<Resp: Message + Default + Send + 'static> = Result<Resp, RpcError>;
    type UnaryWithCall<Resp: Message + Default + Send + 'static> = Result<Resp, RpcError>;
    type UnaryFuture<Resp: Message + Default + Send + 'static> = Result<Resp, RpcError>;
    type Streaming<Resp: Message + Default + Send + 'static> = Result<Vec<Resp>, RpcError>;
    type StreamUnary<Req: Message + Send + 'static, Resp: Message + Default + Send + 'static> = Result<Resp, RpcError>;
    type StreamUnaryWithCall<Req: Message + Send + 'static, Resp: Message + Default + Send + 'static> = Result<Resp, RpcError>;
    type StreamUnaryFuture<Req: Message + Send + 'static, Resp: Message + Default + Send + 'static> = Result<Resp, RpcError>;
    type StreamStream<Req: Message + Send + 'static, Resp: Message + Default + Send + 'static> = Result<Vec<Resp>, RpcError>;

    fn unary_unary<Req, Resp>(&self, method: &'static MethodDescriptor, request: Request<Req>) -> Result<Resp, RpcError>
    where
        Req: Message + Send + 'static,
        Resp: Message + Default + Send + 'static,
    {
        self.one(method, "unary_unary", request.map(|m| vec![m]))
    }

    fn unary_unary_with_call<Req, Resp>(&self, method: &'static MethodDescriptor, request: Request<Req>) -> Result<Resp, RpcError>
    where
        Req: Message + Send + 'static,
        Resp: Message + Default + Send + 'static,
    {
        self.one(method, "unary_unary_with_call", request.map(|m| vec![m]))
    }

    fn unary_unary_future<Req, Resp>(&self, method: &'static MethodDescriptor, request: Request<Req>) -> Result<Resp, RpcError>
    where
        Req: Message + Send + 'static,
        Resp: Message + Default + Send + 'static,
    {
        self.one(method, "unary_unary_future", request.map(|m| vec![m]))
    }

    fn unary_stream<Req, Resp>(&self, method: &'static MethodDescriptor, request: Request<Req>) -> Result<Vec<Resp>, RpcError>
    where
        Req: Message + Send + 'static,
        Resp: Message + Default + Send + 'static,
    {
        self.call(method, "unary_stream", request.map(|m| vec![m]))
    }

    fn stream_unary<Req, Resp>(&self, method: &'static MethodDescriptor, request: Request<RequestSource<Req>>) -> Result<Resp, RpcError>
    where
        Req: Message + Send + 'static,
        Resp: Message + Default + Send + 'static,
    {
        self.one(method, "stream_unary", drain(request))
    }

    fn stream_unary_with_call<Req, Resp>(
        &self,
        method: &'static MethodDescriptor,
        request: Request<RequestSource<Req>>,
    ) -> Result<Resp, RpcError>
    where
        Req: Message + Send + 'static,
        Resp: Message + Default + Send + 'static,
    {
        self.one(method, "stream_unary_with_call", drain(request))
    }

    fn stream_unary_future<Req, Resp>(
        &self,
        method: &'static MethodDescriptor,
        request: Request<RequestSource<Req>>,
    ) -> Result<Resp, RpcError>
    where
        Req: Message + Send + 'static,
        Resp: Message + Default + Send + 'static,
    {
        self.one(method, "stream_unary_future", drain(request))
    }

    fn stream_stream<Req, Resp>(
        &self,
        method: &'static MethodDescriptor,
        request: Request<RequestSource<Req>>,
    ) -> Result<Vec<Resp>, RpcError>
    where
        Req: Message + Send + 'static,
        Resp: Message + Default + Send + 'static,
    {
        self.call(method, "stream_stream", drain(request))
    }
}

fn point(latitude: i32, longitude: i32) -> Point {
    Point { latitude, longitude }
}

#[test]
fn greeter_stub_calls_say_hello_in_all_three_forms() {
    let channel = TestChannel::default();
    let stub = GreeterStub::new(channel.clone());
    let reply = stub.say_hello(HelloRequest { name: "ada".into() }).unwrap();
    assert_eq!(reply.message, "Hello, ada!");
    assert_eq!(
        stub.say_hello_with_call(HelloRequest { name: "bob".into() }).unwrap().message,
        "Hello, bob!"
    );
    assert_eq!(
        stub.say_hello_future(HelloRequest { name: "cy".into() }).unwrap().message,
        "Hello, cy!"
    );
    let calls = channel.calls();
    let seen: Vec<(&str, MethodKind, &str)> = calls.iter().map(|c| (c.path, c.kind, c.via)).collect();
    assert_eq!(
        seen,
        [
            ("/helloworld.Greeter/SayHello", MethodKind::UnaryUnary, "unary_unary"),
            ("/helloworld.Greeter/SayHello", MethodKind::UnaryUnary, "unary_unary_with_call"),
            ("/helloworld.Greeter/SayHello", MethodKind::UnaryUnary, "unary_unary_future"),
        ]
    );
    assert!(calls.iter().all(|c| c.timeout.is_none() && c.metadata.is_empty()));
}

#[test]
fn stub_carries_timeout_and_metadata_through_request() {
    let channel = TestChannel::default();
    let stub = GreeterStub::new(channel.clone());
    let metadata = Metadata::from_pairs([("x-user", "ada")]).unwrap();
    let request = Request::new(HelloRequest { name: "ada".into() })
        .timeout(Duration::from_millis(1500))
        .metadata(metadata.clone());
    stub.say_hello(request).unwrap();
    let route = RouteGuideStub::new(channel.clone());
    let notes = vec![RouteNote {
        location: Some(point(1, 2)),
        message: "hi".into(),
    }];
    let echoed = route
        .route_chat(Request::new(notes).timeout(Duration::from_secs(3)).metadata(metadata.clone()))
        .unwrap();
    assert_eq!(echoed.len(), 1);
    let calls = channel.calls();
    assert_eq!(calls[0].timeout, Some(Duration::from_millis(1500)));
    assert_eq!(calls[0].metadata.get_str("x-user"), Some("ada"));
    assert_eq!(calls[1].path, "/routeguide.RouteGuide/RouteChat");
    assert_eq!(calls[1].timeout, Some(Duration::from_secs(3)));
    assert_eq!(calls[1].metadata, metadata);
}

#[test]
fn route_guide_stub_uses_each_kind() {
    let channel = TestChannel::default();
    let stub = RouteGuideStub::new(channel.clone());
    assert_eq!(stub.get_feature(point(5, 6)).unwrap().location, Some(point(5, 6)));
    let features = stub
        .list_features(Rectangle {
            lo: Some(point(0, 0)),
            hi: Some(point(9, 9)),
        })
        .unwrap();
    assert_eq!(features.len(), 2);
    let route = vec![point(1, 1), point(2, 2), point(3, 3)];
    assert_eq!(stub.record_route(route.clone()).unwrap().point_count, 3);
    assert_eq!(
        stub.record_route_with_call(route.clone().into_iter().take(2)).unwrap().point_count,
        2
    );
    let streamed = rpc_core::stream(futures::stream::iter(route));
    assert_eq!(stub.record_route_future(streamed).unwrap().point_count, 3);
    assert_eq!(stub.route_chat(rpc_core::WriteRequests).unwrap().len(), 0);
    let seen: Vec<(&str, MethodKind, &str, usize)> = channel.calls().iter().map(|c| (c.path, c.kind, c.via, c.requests)).collect();
    assert_eq!(
        seen,
        [
            ("/routeguide.RouteGuide/GetFeature", MethodKind::UnaryUnary, "unary_unary", 1),
            ("/routeguide.RouteGuide/ListFeatures", MethodKind::UnaryStream, "unary_stream", 1),
            ("/routeguide.RouteGuide/RecordRoute", MethodKind::StreamUnary, "stream_unary", 3),
            (
                "/routeguide.RouteGuide/RecordRoute",
                MethodKind::StreamUnary,
                "stream_unary_with_call",
                2
            ),
            (
                "/routeguide.RouteGuide/RecordRoute",
                MethodKind::StreamUnary,
                "stream_unary_future",
                3
            ),
            ("/routeguide.RouteGuide/RouteChat", MethodKind::StreamStream, "stream_stream", 0),
        ]
    );
    assert_eq!(stub.channel().calls().len(), 6);
}

/// What the test server saw registered.
#[derive(Default)]
struct TestServer {
    methods: Mutex<Vec<(&'static str, MethodKind, bool)>>,
    handlers: Mutex<HashMap<&'static str, Box<dyn Any + Send>>>,
    services: Mutex<Vec<&'static str>>,
}

impl codegen::Server for TestServer {
    fn add_method<Req, Resp>(&self, method: &'static MethodDescriptor, handler: MethodHandler<Req, Resp>)
    where
        Req: Message + Default + Send + 'static,
        Resp: Message + Send + 'static,
    {
        self.methods
            .lock()
            .unwrap()
            .push((method.path, handler.kind(), handler.is_blocking()));
        self.handlers.lock().unwrap().insert(method.path, Box::new(handler));
    }

    fn add_service_descriptor(&self, service: &'static codegen::ServiceDescriptor) {
        self.services.lock().unwrap().push(service.name);
    }
}

impl TestServer {
    fn handler<Req: 'static, Resp: 'static>(&self, path: &str) -> MethodHandler<Req, Resp> {
        let handlers = self.handlers.lock().unwrap();
        handlers[path]
            .downcast_ref::<MethodHandler<Req, Resp>>()
            .expect("handler has the method's types")
            .clone()
    }

    fn registered(&self) -> Vec<(&'static str, MethodKind, bool)> {
        let mut methods = self.methods.lock().unwrap().clone();
        methods.sort_by_key(|m| m.0);
        methods
    }
}

fn context() -> ServicerContext {
    ServicerContext::new(
        RpcInfo {
            method: "/test".into(),
            ..Default::default()
        },
        None,
    )
    .0
}

fn route_guide_methods(blocking: bool) -> Vec<(&'static str, MethodKind, bool)> {
    vec![
        ("/routeguide.RouteGuide/GetFeature", MethodKind::UnaryUnary, blocking),
        ("/routeguide.RouteGuide/ListFeatures", MethodKind::UnaryStream, blocking),
        ("/routeguide.RouteGuide/RecordRoute", MethodKind::StreamUnary, blocking),
        ("/routeguide.RouteGuide/RouteChat", MethodKind::StreamStream, blocking),
    ]
}

/// Implements GetFeature only: the rest keep their UNIMPLEMENTED defaults.
struct PartialRouteGuide;

impl RouteGuideServicer for PartialRouteGuide {
    fn get_feature(&self, request: Point, context: &codegen::Context) -> Result<Feature, RpcError> {
        Ok(Feature {
            name: context.method().to_owned(),
            location: Some(request),
        })
    }
}

impl AsyncRouteGuideServicer for PartialRouteGuide {
    async fn get_feature(&self, request: Point, _context: &codegen::Context) -> Result<Feature, RpcError> {
        Ok(Feature {
            name: "async".into(),
            location: Some(request),
        })
    }
}

#[test]
fn blocking_servicer_registers_every_method() {
    let server = TestServer::default();
    add_route_guide_servicer_to_server::<codegen::Blocking>(PartialRouteGuide, &server);
    assert_eq!(server.registered(), route_guide_methods(true));
    assert_eq!(*server.services.lock().unwrap(), ["routeguide.RouteGuide"]);

    let MethodHandler::BlockingUnaryUnary(get) = server.handler::<Point, Feature>("/routeguide.RouteGuide/GetFeature") else {
        panic!("GetFeature is blocking unary-unary");
    };
    assert_eq!(
        get(point(1, 2), &context()).unwrap(),
        Feature {
            name: "/test".into(),
            location: Some(point(1, 2))
        }
    );
    let MethodHandler::BlockingUnaryStream(list) = server.handler::<Rectangle, Feature>("/routeguide.RouteGuide/ListFeatures") else {
        panic!("ListFeatures is blocking unary-stream");
    };
    assert_eq!(
        list(Rectangle::default(), &context()).unwrap_err().code(),
        StatusCode::Unimplemented
    );
}

#[test]
fn async_servicer_registers_every_method() {
    let server = TestServer::default();
    add_route_guide_servicer_to_server::<codegen::Async>(Arc::new(PartialRouteGuide), &server);
    assert_eq!(server.registered(), route_guide_methods(false));

    let MethodHandler::AsyncUnaryUnary(get) = server.handler::<Point, Feature>("/routeguide.RouteGuide/GetFeature") else {
        panic!("GetFeature is async unary-unary");
    };
    assert_eq!(block_on(get(point(3, 4), context())).unwrap().name, "async");
    let MethodHandler::AsyncStreamStream(chat) = server.handler::<RouteNote, RouteNote>("/routeguide.RouteGuide/RouteChat") else {
        panic!("RouteChat is async stream-stream");
    };
    let requests = codegen::ReqStream::new(futures::stream::empty());
    let err = block_on(chat(requests, context())).map(|_| ()).unwrap_err();
    assert_eq!(err.code(), StatusCode::Unimplemented);
}

#[test]
fn greeter_registration_needs_no_marker_for_a_one_trait_servicer() {
    struct Greeter;
    impl AsyncGreeterServicer for Greeter {
        async fn say_hello(&self, request: HelloRequest, _context: &codegen::Context) -> Result<HelloReply, RpcError> {
            Ok(HelloReply { message: request.name })
        }
    }
    let server = TestServer::default();
    add_greeter_servicer_to_server(Greeter, &server);
    assert_eq!(
        server.registered(),
        [("/helloworld.Greeter/SayHello", MethodKind::UnaryUnary, false)]
    );
    assert_eq!(*server.services.lock().unwrap(), ["helloworld.Greeter"]);
}

#[test]
fn default_methods_answer_unimplemented() {
    struct Nothing;
    impl GreeterServicer for Nothing {}
    impl AsyncRouteGuideServicer for Nothing {}
    let err = GreeterServicer::say_hello(&Nothing, HelloRequest::default(), &context()).unwrap_err();
    assert_eq!((err.code(), err.details()), (StatusCode::Unimplemented, "Method not implemented!"));
    let requests = codegen::ReqStream::new(futures::stream::empty());
    let err = block_on(AsyncRouteGuideServicer::record_route(&Nothing, requests, &context())).unwrap_err();
    assert_eq!((err.code(), err.details()), (StatusCode::Unimplemented, "Method not implemented!"));
}

#[test]
fn descriptors_and_constants() {
    assert_eq!(GREETER_SERVICE_NAME, "helloworld.Greeter");
    assert_eq!(
        GREETER_SAY_HELLO,
        MethodDescriptor {
            service: "helloworld.Greeter",
            name: "SayHello",
            path: "/helloworld.Greeter/SayHello",
            kind: MethodKind::UnaryUnary
        }
    );
    assert_eq!(GREETER_SERVICE.name, "helloworld.Greeter");
    assert_eq!(GREETER_SERVICE.methods, [&GREETER_SAY_HELLO]);
    assert_eq!(ROUTE_GUIDE_SERVICE_NAME, "routeguide.RouteGuide");
    let kinds: Vec<(&str, MethodKind)> = ROUTE_GUIDE_SERVICE.methods.iter().map(|m| (m.name, m.kind)).collect();
    assert_eq!(
        kinds,
        [
            ("GetFeature", MethodKind::UnaryUnary),
            ("ListFeatures", MethodKind::UnaryStream),
            ("RecordRoute", MethodKind::StreamUnary),
            ("RouteChat", MethodKind::StreamStream)
        ]
    );
    assert_eq!(ROUTE_GUIDE_RECORD_ROUTE.path, "/routeguide.RouteGuide/RecordRoute");
    assert_eq!(
        testing::TEST_SERVICE_FULL_DUPLEX_CALL.path,
        "/grpc.testing.TestService/FullDuplexCall"
    );
    assert_eq!(testing::TEST_SERVICE_SERVICE.methods.len(), 8);
    assert_eq!(testing::UNIMPLEMENTED_SERVICE_SERVICE_NAME, "grpc.testing.UnimplementedService");
    assert_eq!(testing::RECONNECT_SERVICE_STOP.kind, MethodKind::UnaryUnary);
    assert_eq!(health::HEALTH_WATCH.path, "/grpc.health.v1.Health/Watch");
    assert_eq!(health::HEALTH_WATCH.kind, MethodKind::UnaryStream);
    assert_eq!(health::HEALTH_SERVICE_NAME, "grpc.health.v1.Health");
}

fn decode_set(bytes: &[u8]) -> prost_types::FileDescriptorSet {
    prost_types::FileDescriptorSet::decode(bytes).expect("FILE_DESCRIPTOR_SET decodes")
}

#[test]
fn file_descriptor_sets_decode_and_hold_the_services() {
    assert_eq!(GREETER_SERVICE.file_descriptor_set, examples::pb::helloworld::FILE_DESCRIPTOR_SET);
    let hello = decode_set(examples::pb::helloworld::FILE_DESCRIPTOR_SET);
    assert_eq!(hello.file.len(), 1);
    let greeter = &hello.file[0].service[0];
    assert_eq!(greeter.name(), "Greeter");
    assert_eq!(greeter.method[0].name(), "SayHello");

    let interop = decode_set(testing::FILE_DESCRIPTOR_SET);
    let names: Vec<&str> = interop.file.iter().map(|f| f.name()).collect();
    for file in ["grpc/testing/empty.proto", "grpc/testing/messages.proto", "grpc/testing/test.proto"] {
        assert!(names.contains(&file), "{file} missing from {names:?}");
    }
    let services: Vec<&str> = interop.file.iter().flat_map(|f| f.service.iter().map(|s| s.name())).collect();
    assert_eq!(services, ["TestService", "UnimplementedService", "ReconnectService"]);

    let health_set = decode_set(health::FILE_DESCRIPTOR_SET);
    assert_eq!(health_set.file[0].package(), "grpc.health.v1");
    assert_eq!(health_set.file[0].service[0].method.len(), 2);
}
