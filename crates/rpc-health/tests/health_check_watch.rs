//! The health service on both servers: Check answers set statuses, unknown services are
//! NOT_FOUND, and Watch streams every change, including NOT_SERVING at graceful shutdown.

use futures::StreamExt;
use rpc_core::{ChannelOptions, Request, ServerOptions, StatusCode};
use rpc_health::{HealthCheckRequest, HealthServicer, HealthStub, ServingStatus, add_health_servicer_to_server};
use std::time::Duration;

fn req(service: &str) -> Request<HealthCheckRequest> {
    Request::new(HealthCheckRequest {
        service: service.to_owned(),
    })
    .timeout(Duration::from_secs(20))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_and_watch_on_the_async_server() {
    let server = rpc_aio::server(ServerOptions::default());
    let health = HealthServicer::new();
    add_health_servicer_to_server(health.clone(), &server);
    health.set("helloworld.Greeter", ServingStatus::Serving);
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().await.unwrap();

    let channel = rpc_aio::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();
    let stub = HealthStub::new(channel);
    assert_eq!(stub.check(req("")).await.unwrap().status(), ServingStatus::Serving);
    assert_eq!(
        stub.check(req("helloworld.Greeter")).await.unwrap().status(),
        ServingStatus::Serving
    );
    assert_eq!(stub.check(req("no.Such")).await.unwrap_err().code(), StatusCode::NotFound);

    let mut watch = stub.watch(req("helloworld.Greeter"));
    assert_eq!(watch.next().await.unwrap().unwrap().status(), ServingStatus::Serving);
    let mut unknown = stub.watch(req("later.Service"));
    assert_eq!(unknown.next().await.unwrap().unwrap().status(), ServingStatus::ServiceUnknown);
    health.set("later.Service", ServingStatus::Serving);
    assert_eq!(unknown.next().await.unwrap().unwrap().status(), ServingStatus::Serving);

    health.enter_graceful_shutdown();
    assert_eq!(watch.next().await.unwrap().unwrap().status(), ServingStatus::NotServing);
    assert_eq!(unknown.next().await.unwrap().unwrap().status(), ServingStatus::NotServing);
    assert_eq!(stub.check(req("")).await.unwrap().status(), ServingStatus::NotServing);
    health.set("", ServingStatus::Serving);
    assert_eq!(
        stub.check(req("")).await.unwrap().status(),
        ServingStatus::NotServing,
        "set is ignored after shutdown began"
    );
    server.stop(None).await;
}

#[test]
fn check_on_the_blocking_server_with_a_blocking_client() {
    let server = rpc_sync::server(ServerOptions::default()).unwrap();
    let health = HealthServicer::new();
    add_health_servicer_to_server(health.clone(), &server);
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().unwrap();
    let channel = rpc_sync::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();
    let stub = HealthStub::new(channel);
    assert_eq!(stub.check(req("")).unwrap().status(), ServingStatus::Serving);
    health.set("", ServingStatus::NotServing);
    assert_eq!(stub.check(req("")).unwrap().status(), ServingStatus::NotServing);
    let mut watch = stub.watch(req(""));
    assert_eq!(watch.next().unwrap().unwrap().status(), ServingStatus::NotServing);
    health.set("", ServingStatus::Serving);
    assert_eq!(watch.next().unwrap().unwrap().status(), ServingStatus::Serving);
    drop(watch);
    server.stop(None).wait(None);
}
