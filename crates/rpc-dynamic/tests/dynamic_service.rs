//! Serving without generated code: the route guide described by its `.proto` and served
//! with closures over dynamic messages (and JSON), async behaviours on an rpc-aio server
//! and blocking ones on an rpc-sync server, called by the generated stubs of each face;
//! statuses and metadata pass both ways; reflection (v1 and v1alpha) describes the service.

use examples::pb::routeguide::{Feature, Point, Rectangle, RouteGuideStub, RouteNote};
use futures::StreamExt;
use prost_reflect::{DescriptorPool, DynamicMessage};
use rpc_core::{
    ChannelOptions, Metadata, Request, RequestIterator, ResponseIterator, ResponseStream, RpcError, ServerOptions, ServicerContext,
    StatusCode,
};
use rpc_dynamic::{DynamicService, ErrorKind, ReflectionClient, ReflectionVersion};

mod common;

use common::{TIMEOUT, from_dynamic, route_guide_pool as pool, to_dynamic};

/// GetFeature's answer: a feature at the point, named by the `x-name` request header, with
/// a trailer; a point at latitude 0 is NOT_FOUND with an `x-why` trailer.
fn feature_for(pool: &DescriptorPool, request: &DynamicMessage, context: &ServicerContext) -> Result<DynamicMessage, RpcError> {
    let point: Point = from_dynamic(request);
    if point.latitude == 0 {
        let trailers = Metadata::new().with("x-why", "the equator").unwrap();
        return Err(RpcError::not_found("nothing at latitude 0").with_trailing_metadata(trailers));
    }
    context.set_trailing_metadata(Metadata::new().with("x-served-by", "dynamic").unwrap());
    let name = context.invocation_metadata().get_str("x-name").unwrap_or("unnamed").to_owned();
    Ok(to_dynamic(
        pool,
        "routeguide.Feature",
        &Feature {
            name,
            location: Some(point),
        },
    ))
}

/// ListFeatures' answer, in JSON: the two corners of the rectangle.
fn corners(rectangle: &DynamicMessage) -> Vec<String> {
    let rectangle: Rectangle = from_dynamic(rectangle);
    [("lo", rectangle.lo.unwrap_or_default()), ("hi", rectangle.hi.unwrap_or_default())]
        .into_iter()
        .map(|(name, p)| {
            format!(
                r#"{{"name": "{name}", "location": {{"latitude": {}, "longitude": {}}}}}"#,
                p.latitude, p.longitude
            )
        })
        .collect()
}

fn summary(pool: &DescriptorPool, points: i32) -> DynamicMessage {
    let summary = examples::pb::routeguide::RouteSummary {
        point_count: points,
        ..Default::default()
    };
    to_dynamic(pool, "routeguide.RouteSummary", &summary)
}

fn async_service(pool: &DescriptorPool) -> DynamicService {
    let (p1, p2) = (pool.clone(), pool.clone());
    DynamicService::new(pool, "routeguide.RouteGuide")
        .unwrap()
        .method(
            "GetFeature",
            rpc_dynamic::unary_unary(move |request: DynamicMessage, context: ServicerContext| {
                let pool = p1.clone();
                async move { feature_for(&pool, &request, &context) }
            }),
        )
        .unwrap()
        .method(
            "ListFeatures",
            rpc_dynamic::unary_stream(
                |request: DynamicMessage, _context| async move { Ok(ResponseStream::from_messages(corners(&request))) },
            ),
        )
        .unwrap()
        .method(
            "RecordRoute",
            rpc_dynamic::stream_unary(move |requests: rpc_core::RequestStream<DynamicMessage>, _context| {
                let pool = p2.clone();
                async move { Ok(summary(&pool, requests.count().await as i32)) }
            }),
        )
        .unwrap()
        .method(
            "RouteChat",
            rpc_dynamic::stream_stream(|requests: rpc_core::RequestStream<DynamicMessage>, _context| async move {
                // Every note straight back.
                Ok(ResponseStream::new(requests))
            }),
        )
        .unwrap()
}

fn blocking_service(pool: &DescriptorPool) -> DynamicService {
    let (p1, p2) = (pool.clone(), pool.clone());
    DynamicService::new(pool, "routeguide.RouteGuide")
        .unwrap()
        .method(
            "GetFeature",
            rpc_dynamic::blocking::unary_unary(move |request: DynamicMessage, context: &ServicerContext| {
                feature_for(&p1, &request, context)
            }),
        )
        .unwrap()
        .method(
            "ListFeatures",
            rpc_dynamic::blocking::unary_stream(|request: DynamicMessage, _context: &_| {
                Ok(ResponseIterator::from_messages(corners(&request)))
            }),
        )
        .unwrap()
        .method(
            "RecordRoute",
            rpc_dynamic::blocking::stream_unary(move |requests: RequestIterator<DynamicMessage>, _context: &_| {
                Ok(summary(&p2, requests.count() as i32))
            }),
        )
        .unwrap()
        .method(
            "RouteChat",
            rpc_dynamic::blocking::stream_stream(|requests: RequestIterator<DynamicMessage>, _context: &_| {
                Ok(ResponseIterator::new(requests))
            }),
        )
        .unwrap()
}

fn note(message: &str) -> RouteNote {
    RouteNote {
        location: Some(Point { latitude: 1, longitude: 2 }),
        message: message.to_owned(),
    }
}

fn named(point: Point) -> Request<Point> {
    Request::new(point).metadata(Metadata::new().with("x-name", "a dynamic feature").unwrap())
}

/// What reflection says about the served service, in each version.
async fn reflection_describes_it(channel: rpc_aio::Channel) {
    for version in [ReflectionVersion::V1, ReflectionVersion::V1Alpha] {
        let client = ReflectionClient::new(channel.clone()).with_timeout(TIMEOUT).with_version(version);
        assert!(
            client.list_services().await.unwrap().contains(&"routeguide.RouteGuide".to_owned()),
            "{version}"
        );
        let pool = client.pool_for_symbols(&["routeguide.RouteGuide"]).await.unwrap();
        let chat = rpc_dynamic::find_method(&pool, "routeguide.RouteGuide/RouteChat").unwrap();
        assert_eq!(chat.kind(), rpc_dynamic::MethodKind::BidiStreaming);
        assert_eq!(chat.input().full_name(), "routeguide.RouteNote");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_behaviours_on_an_async_server() {
    let pool = pool();
    let server = rpc_aio::server(ServerOptions::default());
    async_service(&pool).add_to_server(&server);
    rpc_reflection::enable_server_reflection(&server);
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().await.unwrap();
    let channel = rpc_aio::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();
    let stub = RouteGuideStub::new(channel.clone());

    let (feature, call) = stub
        .get_feature_with_call(named(Point { latitude: 5, longitude: 6 }))
        .await
        .unwrap();
    assert_eq!(feature.name, "a dynamic feature");
    assert_eq!(feature.location, Some(Point { latitude: 5, longitude: 6 }));
    assert_eq!(call.trailing_metadata().get_str("x-served-by"), Some("dynamic"));
    let error = stub.get_feature(Point::default()).await.unwrap_err();
    assert_eq!(error.code(), StatusCode::NotFound);
    assert_eq!(error.details(), "nothing at latitude 0");
    assert_eq!(error.trailing_metadata().get_str("x-why"), Some("the equator"));

    let rectangle = Rectangle {
        lo: Some(Point { latitude: 1, longitude: 2 }),
        hi: Some(Point { latitude: 3, longitude: 4 }),
    };
    let listed: Vec<Feature> = stub.list_features(rectangle).map(|f| f.unwrap()).collect().await;
    assert_eq!(listed.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["lo", "hi"]);
    assert_eq!(listed[1].location, Some(Point { latitude: 3, longitude: 4 }));

    let points = vec![Point::default(); 4];
    assert_eq!(stub.record_route(points).await.unwrap().point_count, 4);

    let mut chat = stub.route_chat(vec![note("a"), note("b")]);
    let mut back = Vec::new();
    while let Some(note) = chat.read().await.unwrap() {
        back.push(note.message);
    }
    assert_eq!(back, ["a", "b"]);

    reflection_describes_it(channel).await;
    server.stop(None).await;
}

#[test]
fn blocking_behaviours_on_a_blocking_server_and_async_ones_too() {
    let pool = pool();
    for service in [blocking_service(&pool), async_service(&pool)] {
        let server = rpc_sync::server(ServerOptions::default()).unwrap();
        service.add_to_server(&server);
        rpc_reflection::enable_server_reflection(&server);
        let port = server.add_insecure_port("127.0.0.1:0").unwrap();
        server.start().unwrap();
        let channel = rpc_sync::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();
        let stub = RouteGuideStub::new(channel.clone());

        let (feature, call) = stub.get_feature_with_call(named(Point { latitude: 5, longitude: 6 })).unwrap();
        assert_eq!(feature.name, "a dynamic feature");
        assert_eq!(call.trailing_metadata().get_str("x-served-by"), Some("dynamic"));
        let error = stub.get_feature(Point::default()).unwrap_err();
        assert_eq!(error.code(), StatusCode::NotFound);
        assert_eq!(error.trailing_metadata().get_str("x-why"), Some("the equator"));
        let listed: Vec<Feature> = stub.list_features(Rectangle::default()).map(|f| f.unwrap()).collect();
        assert_eq!(listed.len(), 2);
        assert_eq!(stub.record_route(vec![Point::default(); 3]).unwrap().point_count, 3);
        let back: Vec<String> = stub.route_chat(vec![note("x"), note("y")]).map(|n| n.unwrap().message).collect();
        assert_eq!(back, ["x", "y"]);

        let reflection = rpc_dynamic::blocking::ReflectionClient::new(&channel)
            .unwrap()
            .with_timeout(TIMEOUT);
        assert!(reflection.list_services().unwrap().contains(&"routeguide.RouteGuide".to_owned()));
        server.stop(None).wait(Some(TIMEOUT));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_without_a_behaviour_is_unimplemented_and_mistakes_are_refused() {
    let pool = pool();
    let only_get = DynamicService::new(&pool, "routeguide.RouteGuide")
        .unwrap()
        .method(
            "GetFeature",
            // JSON in, JSON out: the feature is named by the request's JSON text.
            rpc_dynamic::unary_unary(|request: String, _context| async move {
                Ok::<String, RpcError>(serde_json::json!({ "name": request }).to_string())
            }),
        )
        .unwrap();
    let server = rpc_aio::server(ServerOptions::default());
    only_get.add_to_server(&server);
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().await.unwrap();
    let channel = rpc_aio::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();
    let stub = RouteGuideStub::new(channel);
    let feature = stub.get_feature(Point { latitude: 1, longitude: 2 }).await.unwrap();
    assert_eq!(feature.name, "{\n  \"latitude\": 1,\n  \"longitude\": 2\n}");
    let error = stub.list_features(Rectangle::default()).next().await.unwrap().unwrap_err();
    assert_eq!(error.code(), StatusCode::Unimplemented);
    server.stop(None).await;

    let service = DynamicService::new(&pool, "routeguide.RouteGuide").unwrap();
    let wrong = service
        .clone()
        .method(
            "GetFeature",
            rpc_dynamic::stream_stream(|r: rpc_core::RequestStream<DynamicMessage>, _| async move {
                Ok::<_, RpcError>(ResponseStream::<DynamicMessage>::new(r))
            }),
        )
        .unwrap_err();
    assert_eq!(wrong.kind(), ErrorKind::WrongKind);
    let unknown = service
        .method(
            "Nowhere",
            rpc_dynamic::unary_unary(|r: DynamicMessage, _| async move { Ok::<_, RpcError>(r) }),
        )
        .unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::NotFound);
    assert_eq!(
        DynamicService::new(&pool, "routeguide.Nope").unwrap_err().kind(),
        ErrorKind::NotFound
    );
}
