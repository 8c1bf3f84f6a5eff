//! Generated stubs on a mock channel: each stub method makes the multi-callable of the
//! right method, of the right kind, calls the right one of `call` / `with_call` / `future`,
//! hands over the requests and options untouched and returns what the callable returns.

use codegen_check::mock_channel::{FinishedCall, MockChannel, Recorded, Source, Via};
use codegen_check::pb::helloworld::{self, GreeterStub, HelloReply, HelloRequest};
use codegen_check::pb::kw::r#type::v1::{self as kw, Match, SelfStub};
use codegen_check::pb::routeguide::{self, Feature, Point, Rectangle, RouteGuideStub, RouteNote, RouteSummary};
use rpc_core::codegen::{self, MethodDescriptor, MethodKind, UnaryUnaryCall};
use rpc_core::{Request, RpcError, StatusCode, WriteRequests};
use std::time::Duration;

fn point(latitude: i32, longitude: i32) -> Point {
    Point { latitude, longitude }
}

/// Checks that `call` went to `method` through the multi-callable of its kind.
fn assert_call(call: &Recorded, method: &'static MethodDescriptor, via: Via, source: Source) {
    assert!(
        std::ptr::eq(call.method, method),
        "called {} instead of {}",
        call.method.path,
        method.path
    );
    assert_eq!(
        call.made_as, method.kind,
        "{}: multi-callable made with the wrong constructor",
        method.path
    );
    assert_eq!(
        call.called_as, method.kind,
        "{}: called through the wrong callable trait",
        method.path
    );
    assert_eq!((call.via, call.source), (via, source), "{}", method.path);
}

#[test]
fn unary_unary_call_with_call_and_future() {
    let channel = MockChannel::new();
    channel.respond_with(&[HelloReply { message: "hi ada".into() }]);
    let stub = GreeterStub::new(channel.clone());
    let ada = || HelloRequest { name: "ada".into() };

    let reply: Result<HelloReply, RpcError> = stub.say_hello(ada());
    assert_eq!(reply.unwrap().message, "hi ada");
    let (reply, finished) = stub.say_hello_with_call(ada()).unwrap();
    assert_eq!(
        (reply.message.as_str(), finished),
        (
            "hi ada",
            FinishedCall {
                path: "/helloworld.Greeter/SayHello"
            }
        )
    );
    assert_eq!(stub.say_hello_future(ada()).result().unwrap().message, "hi ada");

    let calls = channel.calls();
    assert_eq!(calls.len(), 3);
    for (call, via) in calls.iter().zip([Via::Call, Via::WithCall, Via::Future]) {
        assert_call(call, &helloworld::GREETER_SAY_HELLO, via, Source::Single);
        assert_eq!(call.request::<HelloRequest>(0), ada());
    }
}

#[test]
fn a_request_keeps_its_options() {
    let channel = MockChannel::new();
    let stub = GreeterStub::new(channel.clone());
    let request = Request::new(HelloRequest { name: "bo".into() })
        .timeout(Duration::from_secs(3))
        .wait_for_ready(true);
    let err = stub.say_hello(request).unwrap_err();
    assert_eq!(err.code(), StatusCode::Unimplemented, "the callable's error comes back as it is");
    let call = channel.only_call();
    assert_eq!(call.options.timeout, Some(Duration::from_secs(3)));
    assert_eq!(call.options.wait_for_ready, Some(true));
    assert_eq!(call.request::<HelloRequest>(0).name, "bo");
}

#[test]
fn unary_stream() {
    let channel = MockChannel::new();
    let features = vec![
        Feature {
            name: "a".into(),
            location: Some(point(1, 1)),
        },
        Feature {
            name: "b".into(),
            location: Some(point(2, 2)),
        },
    ];
    channel.respond_with(&features);
    let stub = RouteGuideStub::new(channel.clone());
    let rectangle = Rectangle {
        lo: Some(point(0, 0)),
        hi: Some(point(5, 5)),
    };
    let got: Vec<Feature> = stub.list_features(rectangle);
    assert_eq!(got, features);
    let call = channel.only_call();
    assert_call(&call, &routeguide::ROUTE_GUIDE_LIST_FEATURES, Via::Call, Source::Single);
    assert_eq!(call.request::<Rectangle>(0), rectangle);
}

#[test]
fn stream_unary_from_an_iterator_a_stream_and_a_request() {
    let channel = MockChannel::new();
    let summary = RouteSummary {
        point_count: 2,
        ..RouteSummary::default()
    };
    channel.respond_with(&[summary]);
    let stub = RouteGuideStub::new(channel.clone());
    let route = vec![point(1, 2), point(3, 4)];

    assert_eq!(stub.record_route(route.clone()).unwrap(), summary);
    assert_eq!(stub.record_route_with_call(route.clone().into_iter()).unwrap().0, summary);
    assert_eq!(
        stub.record_route_future(rpc_core::stream(StreamOf(route.clone())))
            .result()
            .unwrap(),
        summary
    );
    let with_options = Request::new(route.clone()).timeout(Duration::from_millis(250));
    assert_eq!(stub.record_route(with_options).unwrap(), summary);

    let calls = channel.calls();
    let expected = [
        (Via::Call, Source::Iter),
        (Via::WithCall, Source::Iter),
        (Via::Future, Source::Stream),
        (Via::Call, Source::Iter),
    ];
    assert_eq!(calls.len(), expected.len());
    for (call, (via, source)) in calls.iter().zip(expected) {
        assert_call(call, &routeguide::ROUTE_GUIDE_RECORD_ROUTE, via, source);
        let sent: Vec<Point> = (0..call.requests.len()).map(|i| call.request(i)).collect();
        assert_eq!(sent, route);
    }
    assert_eq!(calls[3].options.timeout, Some(Duration::from_millis(250)));
}

#[test]
fn stream_stream_and_write_requests() {
    let channel = MockChannel::new();
    let note = RouteNote {
        location: Some(point(7, 7)),
        message: "here".into(),
    };
    channel.respond_with(&[note.clone(), note.clone()]);
    let stub = RouteGuideStub::new(channel.clone());

    assert_eq!(stub.route_chat(vec![note.clone()]), vec![note.clone(), note.clone()]);
    assert_eq!(stub.route_chat(WriteRequests).len(), 2);

    let calls = channel.calls();
    assert_eq!(calls.len(), 2);
    assert_call(&calls[0], &routeguide::ROUTE_GUIDE_ROUTE_CHAT, Via::Call, Source::Iter);
    assert_eq!(calls[0].request::<RouteNote>(0), note);
    assert_call(&calls[1], &routeguide::ROUTE_GUIDE_ROUTE_CHAT, Via::Call, Source::Writer);
    assert!(calls[1].requests.is_empty());
}

#[test]
fn every_route_guide_method_goes_to_its_own_descriptor() {
    let channel = MockChannel::new();
    let stub = RouteGuideStub::new(channel.clone());
    let _ = stub.get_feature(point(0, 0));
    let _ = stub.list_features(Rectangle::default());
    let _ = stub.record_route(Vec::<Point>::new());
    let _ = stub.route_chat(Vec::<RouteNote>::new());
    let paths: Vec<(&str, MethodKind)> = channel.calls().iter().map(|c| (c.method.path, c.made_as)).collect();
    let expected: Vec<(&str, MethodKind)> = routeguide::ROUTE_GUIDE_SERVICE.methods.iter().map(|m| (m.path, m.kind)).collect();
    assert_eq!(paths, expected);
    assert_eq!(
        expected.iter().map(|(_, kind)| *kind).collect::<Vec<_>>(),
        [
            MethodKind::UnaryUnary,
            MethodKind::UnaryStream,
            MethodKind::StreamUnary,
            MethodKind::StreamStream
        ],
        "route_guide has one method of each kind"
    );
}

#[test]
fn awkward_names_call_the_right_methods() {
    let channel = MockChannel::new();
    let stub = SelfStub::new(channel.clone());
    let _ = stub.r#type(Match::default());
    let _ = stub.type_with_call(Match::default());
    let _ = stub.call_new(vec![Match::default()]);
    let _ = stub.call_new_future(vec![Match::default()]);
    let _ = stub.call_channel(Match::default());
    let _ = stub.r#async(vec![Match::default()]);
    let got: Vec<(&str, MethodKind, Via)> = channel.calls().iter().map(|c| (c.method.path, c.called_as, c.via)).collect();
    assert_eq!(
        got,
        [
            ("/kw.type.v1.Self/Type", MethodKind::UnaryUnary, Via::Call),
            ("/kw.type.v1.Self/Type", MethodKind::UnaryUnary, Via::WithCall),
            ("/kw.type.v1.Self/New", MethodKind::StreamUnary, Via::Call),
            ("/kw.type.v1.Self/New", MethodKind::StreamUnary, Via::Future),
            ("/kw.type.v1.Self/Channel", MethodKind::UnaryStream, Via::Call),
            ("/kw.type.v1.Self/Async", MethodKind::StreamStream, Via::Call),
        ]
    );
    assert_eq!(kw::SELF_SERVICE.methods.len(), 4);
    assert!(kw::NOTHING_SERVICE.methods.is_empty());
    // The stub's own functions are still there.
    let _: &MockChannel = stub.channel();
}

/// Generic code over any channel names a stub method's result with the codegen aliases.
fn greet<C: codegen::Channel>(stub: &GreeterStub<C>, name: &str) -> UnaryUnaryCall<C, HelloRequest, HelloReply> {
    stub.say_hello(HelloRequest { name: name.into() })
}

#[test]
fn stubs_work_in_code_generic_over_the_channel() {
    let channel = MockChannel::new();
    channel.respond_with(&[HelloReply { message: "generic".into() }]);
    let stub = GreeterStub::new(channel.clone());
    assert_eq!(greet(&stub, "cy").unwrap().message, "generic");
    assert_eq!(stub.clone().into_channel().calls().len(), 1);
}

/// A stream that has all its items ready: a `Vec` turned into a `futures_core::Stream`.
struct StreamOf<T>(Vec<T>);

impl<T: Unpin> futures_core::Stream for StreamOf<T> {
    type Item = T;
    fn poll_next(mut self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<Option<T>> {
        std::task::Poll::Ready(if self.0.is_empty() { None } else { Some(self.0.remove(0)) })
    }
}
