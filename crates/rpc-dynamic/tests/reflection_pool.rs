//! Pools built from a real server's reflection on 127.0.0.1: v1, the v1alpha fallback,
//! imports followed transitively, the well-known types filled in when the server lacks
//! them, the blocking client, and the errors of a server without reflection, an unknown
//! symbol and an unreachable address.

use prost::Message;
use rpc_core::codegen::{Async, ServiceDescriptor};
use rpc_core::{ChannelOptions, ServerOptions, StatusCode};
use rpc_dynamic::{
    ErrorKind, JsonOptions, ReflectionClient, ReflectionVersion, find_method, find_symbol, message_from_json, message_to_json,
};
use rpc_reflection::{ReflectionServicer, add_reflection_servicer_to_server};
use std::path::Path;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(20);

/// The kitchen service's descriptors as generated code would embed them; without the
/// `google/protobuf` files when `without_well_known` (a server built that way cannot send them).
fn kitchen_service(without_well_known: bool) -> &'static ServiceDescriptor {
    let protos = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/protos");
    let mut compiler = protox::Compiler::new([protos]).unwrap();
    compiler.include_imports(true);
    compiler.open_file("dyntest/kitchen.proto").unwrap();
    let mut set = compiler.file_descriptor_set();
    if without_well_known {
        set.file.retain(|f| !f.name().starts_with("google/protobuf/"));
    }
    let bytes: &'static [u8] = Box::leak(set.encode_to_vec().into_boxed_slice());
    Box::leak(Box::new(ServiceDescriptor {
        name: "dyntest.Kitchen",
        methods: &[],
        file_descriptor_set: bytes,
    }))
}

async fn aio_server(register: impl FnOnce(&rpc_aio::Server)) -> (rpc_aio::Server, rpc_aio::Channel) {
    let server = rpc_aio::server(ServerOptions::default());
    register(&server);
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().await.unwrap();
    let channel = rpc_aio::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();
    (server, channel)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_lists_services_and_builds_a_pool_with_every_import() {
    let kitchen = kitchen_service(false);
    let (server, channel) = aio_server(|server| {
        rpc_health::add_health_servicer_to_server(rpc_health::HealthServicer::new(), server);
        add_reflection_servicer_to_server(ReflectionServicer::new([&rpc_health::HEALTH_SERVICE, kitchen]), server);
    })
    .await;
    let client = ReflectionClient::new(channel).with_timeout(TIMEOUT);
    assert_eq!(client.version(), None);
    assert_eq!(
        client.list_services().await.unwrap(),
        [
            "dyntest.Kitchen",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection"
        ]
    );
    assert_eq!(client.version(), Some(ReflectionVersion::V1));

    let pool = client.pool_for_symbols(&["dyntest.Kitchen"]).await.unwrap();
    let mut files: Vec<String> = pool.files().map(|f| f.name().to_owned()).collect();
    files.sort();
    assert_eq!(
        files,
        [
            "dyntest/common.proto",
            "dyntest/kitchen.proto",
            "google/protobuf/any.proto",
            "google/protobuf/duration.proto",
            "google/protobuf/empty.proto",
            "google/protobuf/struct.proto",
            "google/protobuf/timestamp.proto",
            "google/protobuf/wrappers.proto",
        ]
    );
    let cook = find_method(&pool, "dyntest.Kitchen/Cook").unwrap();
    assert_eq!(cook.output().full_name(), "dyntest.Dish");
    // The reflected pool is enough for JSON with an Any of a type from an imported file.
    let json = r#"{"extra":{"@type":"type.googleapis.com/dyntest.common.Point","x":1}}"#;
    let dish = message_from_json(&cook.output(), json, &JsonOptions::new()).unwrap();
    assert_eq!(message_to_json(&dish, &JsonOptions::new().compact(true)).unwrap(), json);

    // A symbol inside a file (a field), and more symbols added to a pool.
    let by_field = client.pool_for_symbols(&["dyntest.Order.name"]).await.unwrap();
    assert!(find_symbol(&by_field, "dyntest.Order.name").is_ok());
    let both = client
        .add_symbols(&pool, &["grpc.health.v1.Health", "dyntest.Order"])
        .await
        .unwrap();
    assert!(both.get_service_by_name("grpc.health.v1.Health").is_some());
    assert!(both.get_service_by_name("dyntest.Kitchen").is_some());
    let all = client.pool_for_all_services().await.unwrap();
    assert_eq!(all.services().count(), 4);
    let by_file = client.pool_for_files(&["dyntest/kitchen.proto"]).await.unwrap();
    assert!(by_file.get_message_by_name("dyntest.common.Point").is_some());

    let unknown = client.pool_for_symbols(&["dyntest.Kitchen", "no.Such"]).await.unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::NotFound);
    assert_eq!(unknown.to_string(), "symbol not found: no.Such");
    let unknown_file = client.pool_for_files(&["no/such.proto"]).await.unwrap_err();
    assert!(unknown_file.is_not_found(), "{unknown_file}");
    server.stop(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v1alpha_only_server_is_asked_in_v1alpha_with_imports_followed() {
    let (server, channel) = aio_server(|server| {
        let servicer = ReflectionServicer::new([&examples::pb::grpc::testing::TEST_SERVICE_SERVICE]);
        rpc_reflection::pb::v1alpha::add_server_reflection_servicer_to_server::<Async>(servicer, server);
    })
    .await;
    let client = ReflectionClient::new(channel).with_timeout(TIMEOUT);
    let services = client.list_services().await.unwrap();
    assert!(services.contains(&"grpc.testing.TestService".to_owned()), "{services:?}");
    assert_eq!(client.version(), Some(ReflectionVersion::V1Alpha));
    // test.proto imports empty.proto and messages.proto.
    let pool = client.pool_for_symbols(&["grpc.testing.TestService"]).await.unwrap();
    for file in ["grpc/testing/test.proto", "grpc/testing/empty.proto", "grpc/testing/messages.proto"] {
        assert!(pool.get_file_by_name(file).is_some(), "{file}");
    }
    let method = find_method(&pool, "grpc.testing.TestService.UnaryCall").unwrap();
    assert_eq!(method.input().full_name(), "grpc.testing.SimpleRequest");

    // Forcing v1 against this server is the server's UNIMPLEMENTED, said plainly.
    let forced = client.clone().with_version(ReflectionVersion::V1);
    let error = forced.list_services().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ReflectionUnavailable);
    server.stop(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn well_known_imports_the_server_lacks_come_from_the_built_in_copies() {
    let kitchen = kitchen_service(true);
    let (server, channel) = aio_server(|server| {
        add_reflection_servicer_to_server(ReflectionServicer::new([kitchen]), server);
    })
    .await;
    let pool = ReflectionClient::new(channel)
        .with_timeout(TIMEOUT)
        .pool_for_symbols(&["dyntest.Kitchen"])
        .await
        .unwrap();
    assert!(pool.get_message_by_name("google.protobuf.Timestamp").is_some());
    assert!(pool.get_message_by_name("dyntest.Dish").is_some());
    server.stop(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_reflection_and_an_unreachable_one_are_clear_errors() {
    let (server, channel) = aio_server(|server| {
        rpc_health::add_health_servicer_to_server(rpc_health::HealthServicer::new(), server);
    })
    .await;
    let error = ReflectionClient::new(channel)
        .with_timeout(TIMEOUT)
        .list_services()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ReflectionUnavailable, "{error}");
    assert_eq!(error.rpc_error().map(|e| e.code()), Some(StatusCode::Unimplemented));
    assert!(error.to_string().contains("does not support the reflection API"), "{error}");
    server.stop(None).await;

    // A port nobody listens on (this one was just freed).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let channel = rpc_aio::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();
    let error = ReflectionClient::new(channel)
        .with_timeout(Duration::from_secs(5))
        .list_services()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Rpc, "{error}");
    assert_eq!(error.rpc_error().map(|e| e.code()), Some(StatusCode::Unavailable), "{error}");
}

#[test]
fn the_blocking_client_on_a_blocking_server() {
    let server = rpc_sync::server(ServerOptions::default()).unwrap();
    examples::companions::add_greeter_with_health_and_reflection(&server);
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().unwrap();
    let channel = rpc_sync::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();
    let client = rpc_dynamic::blocking::ReflectionClient::new(&channel)
        .unwrap()
        .with_timeout(TIMEOUT);
    assert!(client.list_services().unwrap().contains(&"helloworld.Greeter".to_owned()));
    let pool = client.pool_for_symbols(&["helloworld.Greeter"]).unwrap();
    let method = find_method(&pool, "helloworld.Greeter/SayHello").unwrap();
    assert_eq!(method.input().full_name(), "helloworld.HelloRequest");
    assert_eq!(client.version(), Some(ReflectionVersion::V1));
    assert!(client.pool_for_symbols(&["nope.Nope"]).unwrap_err().is_not_found());
    server.stop(None).wait(None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_blocking_client_inside_a_runtime_refuses_instead_of_blocking() {
    let channel = rpc_sync::insecure_channel("127.0.0.1:1", ChannelOptions::default()).unwrap();
    let client = rpc_dynamic::blocking::ReflectionClient::new(&channel).unwrap();
    let error = client.list_services().unwrap_err();
    assert_eq!(error.rpc_error().map(|e| e.code()), Some(StatusCode::FailedPrecondition), "{error}");
}
