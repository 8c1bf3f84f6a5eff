//! Client routines shared by the example binaries and the demo: the same calls made
//! through the blocking face and through the async face (compare them: the async one
//! adds `.await`).

use crate::pb::helloworld::{GreeterStub, HelloRequest};
use crate::pb::routeguide::{Point, Rectangle, RouteGuideStub};
use crate::route_guide::chat_notes;
use futures::StreamExt;
use rpc_core::{Metadata, Request, RpcError};
use std::time::Duration;

/// Says hello through a blocking channel; returns the greeting.
pub fn greet_sync(channel: rpc_sync::Channel, name: &str) -> Result<String, RpcError> {
    let stub = GreeterStub::new(channel);
    let request = Request::new(HelloRequest { name: name.to_owned() })
        .timeout(Duration::from_secs(5))
        .metadata(Metadata::from_pairs([("x-client", "sync")])?);
    Ok(stub.say_hello(request)?.message)
}

/// Says hello through an async channel; returns the greeting.
pub async fn greet_aio(channel: rpc_aio::Channel, name: &str) -> Result<String, RpcError> {
    let stub = GreeterStub::new(channel);
    let request = Request::new(HelloRequest { name: name.to_owned() })
        .timeout(Duration::from_secs(5))
        .metadata(Metadata::from_pairs([("x-client", "aio")])?);
    Ok(stub.say_hello(request).await?.message)
}

fn route() -> Vec<Point> {
    [
        (407_838_351, -746_143_763),
        (408_122_808, -743_999_179),
        (413_628_156, -749_015_468),
        (1, 1),
    ]
    .into_iter()
    .map(|(latitude, longitude)| Point { latitude, longitude })
    .collect()
}

fn area() -> Rectangle {
    Rectangle {
        lo: Some(Point {
            latitude: 400_000_000,
            longitude: -750_000_000,
        }),
        hi: Some(Point {
            latitude: 420_000_000,
            longitude: -730_000_000,
        }),
    }
}

/// Runs one call of each kind through a blocking channel, printing what comes back.
pub fn route_guide_sync(channel: rpc_sync::Channel) -> Result<(), RpcError> {
    let stub = RouteGuideStub::new(channel);
    let feature = stub.get_feature(Point {
        latitude: 409_146_138,
        longitude: -746_188_906,
    })?;
    println!("  GetFeature (unary-unary): {:?}", feature.name);
    let listed: Result<Vec<_>, _> = stub.list_features(area()).collect();
    println!("  ListFeatures (unary-stream): {} features", listed?.len());
    let summary = stub.record_route(route())?;
    println!(
        "  RecordRoute (stream-unary): {} points, {} features, {} m",
        summary.point_count, summary.feature_count, summary.distance
    );
    let mut replies = 0;
    for note in stub.route_chat(chat_notes()) {
        let note = note?;
        replies += 1;
        println!("  RouteChat (stream-stream): earlier note {:?}", note.message);
    }
    println!("  RouteChat: {replies} replies");
    Ok(())
}

/// Runs one call of each kind through an async channel, printing what comes back.
pub async fn route_guide_aio(channel: rpc_aio::Channel) -> Result<(), RpcError> {
    let stub = RouteGuideStub::new(channel);
    let feature = stub
        .get_feature(Point {
            latitude: 409_146_138,
            longitude: -746_188_906,
        })
        .await?;
    println!("  GetFeature (unary-unary): {:?}", feature.name);
    let mut listed = stub.list_features(area());
    let mut count = 0;
    while let Some(feature) = listed.next().await {
        feature?;
        count += 1;
    }
    println!("  ListFeatures (unary-stream): {count} features");
    let summary = stub.record_route(route()).await?;
    println!(
        "  RecordRoute (stream-unary): {} points, {} features, {} m",
        summary.point_count, summary.feature_count, summary.distance
    );
    let mut chat = stub.route_chat(rpc_core::stream(futures::stream::iter(chat_notes())));
    let mut replies = 0;
    while let Some(note) = chat.read().await? {
        replies += 1;
        println!("  RouteChat (stream-stream): earlier note {:?}", note.message);
    }
    println!("  RouteChat: {replies} replies");
    Ok(())
}
