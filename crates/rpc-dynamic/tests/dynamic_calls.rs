//! Dynamic stubs against our servers on 127.0.0.1, both faces, all four kinds, with the
//! schema from `.proto` files and from the server's reflection: every response equals
//! what the generated stub gets for the same request, JSON in and out included; the
//! errors of a wrong method kind, an unknown method and a message of the wrong type.

use examples::pb::routeguide::{Feature, Point, Rectangle, RouteGuideStub, RouteNote, RouteSummary, add_route_guide_servicer_to_server};
use examples::route_guide::{AsyncRouteGuide, BlockingRouteGuide};
use futures::StreamExt;
use prost_reflect::{DynamicMessage, ReflectMessage};
use rpc_core::{ChannelOptions, Request, ServerOptions, StatusCode, WriteRequests};
use rpc_dynamic::{DynamicStub, ErrorKind, JsonOptions, message_to_json};
use std::time::Duration;

mod common;

use common::{TIMEOUT, from_dynamic as generated, route_guide_pool as proto_pool, to_dynamic as dynamic};

fn point(latitude: i32, longitude: i32) -> Point {
    Point { latitude, longitude }
}

fn area() -> Rectangle {
    Rectangle {
        lo: Some(point(400_000_000, -750_000_000)),
        hi: Some(point(420_000_000, -730_000_000)),
    }
}

fn route() -> Vec<Point> {
    vec![
        point(407_838_351, -746_143_763),
        point(408_122_808, -743_999_179),
        point(413_628_156, -749_015_468),
    ]
}

fn note(at: i32, message: &str) -> RouteNote {
    RouteNote {
        location: Some(point(at, at)),
        message: message.to_owned(),
    }
}

/// What the generated stub gets, to compare with: the feature at the first route point,
/// the features in the area, the summary of the route.
async fn generated_answers(channel: &rpc_aio::Channel) -> (Feature, Vec<Feature>, RouteSummary) {
    let stub = RouteGuideStub::new(channel.clone());
    let feature = stub.get_feature(route()[0]).await.unwrap();
    let listed: Vec<Feature> = stub.list_features(area()).map(|f| f.unwrap()).collect().await;
    let summary = stub.record_route(route()).await.unwrap();
    (feature, listed, summary)
}

/// Every kind through `stub`, compared with `expected`; the bidi chat at `at` (a place
/// no other run uses, the server keeps notes).
async fn every_kind_aio(stub: &DynamicStub, expected: &(Feature, Vec<Feature>, RouteSummary), at: i32) {
    let pool = stub.pool().clone();

    let get = stub
        .unary_unary::<DynamicMessage, DynamicMessage>("routeguide.RouteGuide/GetFeature")
        .unwrap();
    let request = Request::new(dynamic(&pool, "routeguide.Point", &route()[0])).timeout(TIMEOUT);
    let mut call = get.call(request);
    let feature = (&mut call).await.unwrap();
    assert_eq!(feature.descriptor().full_name(), "routeguide.Feature");
    assert_eq!(generated::<Feature>(&feature), expected.0);
    assert_eq!(call.code().await, StatusCode::Ok);

    let list = stub
        .unary_stream::<DynamicMessage, DynamicMessage>("routeguide.RouteGuide.ListFeatures")
        .unwrap();
    let listed: Vec<Feature> = list
        .call(dynamic(&pool, "routeguide.Rectangle", &area()))
        .map(|f| generated(&f.unwrap()))
        .collect()
        .await;
    assert_eq!(listed, expected.1);
    assert!(!listed.is_empty());

    let record = stub
        .stream_unary::<DynamicMessage, DynamicMessage>("routeguide.RouteGuide/RecordRoute")
        .unwrap();
    let points: Vec<DynamicMessage> = route().iter().map(|p| dynamic(&pool, "routeguide.Point", p)).collect();
    let summary = record.call(points).await.unwrap();
    assert_eq!(generated::<RouteSummary>(&summary).point_count, 3);
    assert_eq!(generated::<RouteSummary>(&summary).distance, expected.2.distance);

    // Bidi, driven by hand: send, receive, half-close, the end of the stream.
    let chat = stub
        .stream_stream::<DynamicMessage, DynamicMessage>("routeguide.RouteGuide/RouteChat")
        .unwrap();
    let mut call = chat.call(Request::new(WriteRequests).timeout(TIMEOUT));
    call.write(dynamic(&pool, "routeguide.RouteNote", &note(at, "first")))
        .await
        .unwrap();
    call.write(dynamic(&pool, "routeguide.RouteNote", &note(at, "second")))
        .await
        .unwrap();
    let earlier = call.read().await.unwrap().expect("the first note comes back");
    assert_eq!(generated::<RouteNote>(&earlier), note(at, "first"));
    call.done_writing().await.unwrap();
    assert!(call.read().await.unwrap().is_none(), "the end of the stream");
    assert_eq!(call.code().await, StatusCode::Ok);

    // JSON in and out: the text prost's message prints.
    let get_json = stub.unary_unary::<String, String>("routeguide.RouteGuide/GetFeature").unwrap();
    let json = get_json
        .call(r#"{"latitude": 407838351, "longitude": -746143763}"#.to_owned())
        .await
        .unwrap();
    let want = message_to_json(&dynamic(&pool, "routeguide.Feature", &expected.0), &JsonOptions::new()).unwrap();
    assert_eq!(json, want);
    assert!(json.contains("Patriots Path"), "{json}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_stubs_by_proto_and_by_reflection() {
    let server = rpc_aio::server(ServerOptions::default());
    add_route_guide_servicer_to_server(AsyncRouteGuide::new(), &server);
    rpc_reflection::enable_server_reflection(&server);
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().await.unwrap();
    let channel = rpc_aio::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();
    let expected = generated_answers(&channel).await;

    let by_proto = DynamicStub::new(channel.clone(), proto_pool());
    every_kind_aio(&by_proto, &expected, 1).await;
    let by_reflection = DynamicStub::from_reflection(channel.clone()).await.unwrap();
    assert!(
        by_reflection
            .pool()
            .get_service_by_name("grpc.reflection.v1.ServerReflection")
            .is_some()
    );
    every_kind_aio(&by_reflection, &expected, 2).await;

    server.stop(None).await;
}

#[test]
fn blocking_stubs_by_proto_and_by_reflection() {
    let server = rpc_sync::server(ServerOptions::default()).unwrap();
    add_route_guide_servicer_to_server(BlockingRouteGuide::new(), &server);
    rpc_reflection::enable_server_reflection(&server);
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().unwrap();
    let channel = rpc_sync::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();
    let generated_stub = RouteGuideStub::new(channel.clone());
    let expected_feature = generated_stub.get_feature(route()[0]).unwrap();
    let expected_list: Vec<Feature> = generated_stub.list_features(area()).map(|f| f.unwrap()).collect();
    let expected_summary = generated_stub.record_route(route()).unwrap();

    let by_proto = rpc_dynamic::blocking::DynamicStub::new(channel.clone(), proto_pool());
    let by_reflection = rpc_dynamic::blocking::DynamicStub::from_reflection(channel.clone()).unwrap();
    for (at, stub) in [(3, by_proto), (4, by_reflection)] {
        let pool = stub.pool().clone();
        let get = stub
            .unary_unary::<DynamicMessage, DynamicMessage>("routeguide.RouteGuide/GetFeature")
            .unwrap();
        let (feature, call) = get.with_call(dynamic(&pool, "routeguide.Point", &route()[0])).unwrap();
        assert_eq!(generated::<Feature>(&feature), expected_feature);
        assert_eq!(call.code(), StatusCode::Ok);

        let list = stub
            .unary_stream::<DynamicMessage, DynamicMessage>("routeguide.RouteGuide/ListFeatures")
            .unwrap();
        let listed: Vec<Feature> = list
            .call(dynamic(&pool, "routeguide.Rectangle", &area()))
            .map(|f| generated(&f.unwrap()))
            .collect();
        assert_eq!(listed, expected_list);

        let record = stub.stream_unary::<String, String>("routeguide.RouteGuide/RecordRoute").unwrap();
        let points: Vec<String> = route()
            .iter()
            .map(|p| format!(r#"{{"latitude": {}, "longitude": {}}}"#, p.latitude, p.longitude))
            .collect();
        let summary = record.call(points).unwrap();
        let want = message_to_json(&dynamic(&pool, "routeguide.RouteSummary", &expected_summary), &JsonOptions::new()).unwrap();
        // The elapsed time may differ by a second between the two calls.
        let strip = |s: &str| s.lines().filter(|l| !l.contains("elapsedTime")).collect::<Vec<_>>().join("\n");
        assert_eq!(strip(&summary), strip(&want));

        let chat = stub
            .stream_stream::<DynamicMessage, DynamicMessage>("routeguide.RouteGuide/RouteChat")
            .unwrap();
        let mut call = chat.call(Request::new(WriteRequests).timeout(TIMEOUT));
        call.write(dynamic(&pool, "routeguide.RouteNote", &note(at, "first"))).unwrap();
        call.write(dynamic(&pool, "routeguide.RouteNote", &note(at, "second"))).unwrap();
        let earlier = call.read().unwrap().expect("the first note comes back");
        assert_eq!(generated::<RouteNote>(&earlier), note(at, "first"));
        call.done_writing().unwrap();
        assert!(call.read().unwrap().is_none(), "the end of the stream");
    }
    server.stop(None).wait(Some(TIMEOUT));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_kinds_unknown_methods_and_wrong_messages_are_clear_errors() {
    let server = rpc_aio::server(ServerOptions::default());
    add_route_guide_servicer_to_server(AsyncRouteGuide::new(), &server);
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().await.unwrap();
    let channel = rpc_aio::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();
    let stub = DynamicStub::new(channel, proto_pool());

    let wrong = stub
        .stream_stream::<DynamicMessage, DynamicMessage>("routeguide.RouteGuide/GetFeature")
        .unwrap_err();
    assert_eq!(wrong.kind(), ErrorKind::WrongKind);
    assert!(wrong.to_string().contains("unary"), "{wrong}");
    let unknown = stub
        .unary_unary::<DynamicMessage, DynamicMessage>("routeguide.RouteGuide/Nowhere")
        .unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::NotFound);
    assert_eq!(
        stub.unary_unary::<DynamicMessage, DynamicMessage>("RouteGuide").unwrap_err().kind(),
        ErrorKind::InvalidName
    );

    // A Rectangle where a Point goes: the call fails before anything is sent, INTERNAL.
    let get = stub
        .unary_unary::<DynamicMessage, DynamicMessage>("routeguide.RouteGuide/GetFeature")
        .unwrap();
    let error = get.call(dynamic(stub.pool(), "routeguide.Rectangle", &area())).await.unwrap_err();
    assert_eq!(error.code(), StatusCode::Internal);
    assert!(error.details().contains("routeguide.Rectangle"), "{error:?}");
    // JSON that is not a Point: INTERNAL, saying what is wrong.
    let get_json = stub.unary_unary::<String, String>("routeguide.RouteGuide/GetFeature").unwrap();
    let error = get_json.call(r#"{"lat": 1}"#.to_owned()).await.unwrap_err();
    assert_eq!(error.code(), StatusCode::Internal);
    assert!(error.details().contains("lat"), "{error:?}");

    // Deadlines are the call's as for generated stubs: an expired one.
    let expired = Request::new(dynamic(stub.pool(), "routeguide.Point", &route()[0])).timeout(Duration::ZERO);
    assert_eq!(get.call(expired).await.unwrap_err().code(), StatusCode::DeadlineExceeded);
    server.stop(None).await;
}
