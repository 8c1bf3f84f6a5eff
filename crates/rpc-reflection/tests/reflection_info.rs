//! Reflection over the wire with our own clients: list_services, file_containing_symbol,
//! file_by_filename, extensions and errors, v1 on the async server and v1alpha on the
//! blocking one; the service lists itself.

use prost::Message;
use prost_types::FileDescriptorProto;
use rpc_core::{ChannelOptions, Request, ServerOptions, StatusCode, WriteRequests};
use rpc_health::{HealthServicer, add_health_servicer_to_server};
use rpc_reflection::pb::{v1, v1alpha};
use rpc_reflection::{ReflectionServicer, add_reflection_servicer_to_server, enable_server_reflection};
use std::time::Duration;
use v1::server_reflection_request::MessageRequest;
use v1::server_reflection_response::MessageResponse;

const SERVICES: [&str; 3] = [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

fn ask(request: MessageRequest) -> v1::ServerReflectionRequest {
    v1::ServerReflectionRequest {
        host: "localhost".into(),
        message_request: Some(request),
    }
}

fn files(response: &v1::ServerReflectionResponse) -> Vec<FileDescriptorProto> {
    match &response.message_response {
        Some(MessageResponse::FileDescriptorResponse(r)) => r
            .file_descriptor_proto
            .iter()
            .map(|b| FileDescriptorProto::decode(b.as_slice()).unwrap())
            .collect(),
        other => panic!("expected files, got {other:?}"),
    }
}

fn error_code(response: &v1::ServerReflectionResponse) -> i32 {
    match &response.message_response {
        Some(MessageResponse::ErrorResponse(e)) => e.error_code,
        other => panic!("expected an error response, got {other:?}"),
    }
}

fn listed(response: &v1::ServerReflectionResponse) -> Vec<String> {
    match &response.message_response {
        Some(MessageResponse::ListServicesResponse(l)) => l.service.iter().map(|s| s.name.clone()).collect(),
        other => panic!("expected a service list, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_on_the_async_server_one_stream_many_questions() {
    let server = rpc_aio::server(ServerOptions::default());
    add_health_servicer_to_server(HealthServicer::new(), &server);
    let servicer = enable_server_reflection(&server);
    assert_eq!(servicer.service_names(), SERVICES);
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().await.unwrap();

    let channel = rpc_aio::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();
    let stub = v1::ServerReflectionStub::new(channel);
    let mut call = stub.server_reflection_info(Request::new(WriteRequests).timeout(Duration::from_secs(20)));
    let mut round = async |request: MessageRequest| {
        call.write(ask(request.clone())).await.unwrap();
        let response = call.read().await.unwrap().expect("one response per request");
        assert_eq!(response.valid_host, "localhost");
        assert_eq!(response.original_request.as_ref().unwrap().message_request, Some(request));
        response
    };

    assert_eq!(listed(&round(MessageRequest::ListServices(String::new())).await), SERVICES);

    let health = files(&round(MessageRequest::FileContainingSymbol("grpc.health.v1.Health".into())).await);
    assert_eq!(health[0].name(), "grpc/health/v1/health.proto");
    assert_eq!(health[0].service[0].name(), "Health");
    for symbol in [
        "grpc.health.v1.Health.Watch",
        ".grpc.health.v1.HealthCheckResponse.ServingStatus",
        "grpc.health.v1.HealthCheckRequest.service",
    ] {
        let found = files(&round(MessageRequest::FileContainingSymbol(symbol.into())).await);
        assert_eq!(found[0].name(), "grpc/health/v1/health.proto", "{symbol}");
    }

    let own = files(&round(MessageRequest::FileByFilename("grpc/reflection/v1alpha/reflection.proto".into())).await);
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].package(), "grpc.reflection.v1alpha");

    let not_found = StatusCode::NotFound.value();
    assert_eq!(
        error_code(&round(MessageRequest::FileContainingSymbol("no.Such".into())).await),
        not_found
    );
    assert_eq!(
        error_code(&round(MessageRequest::FileByFilename("no/such.proto".into())).await),
        not_found
    );
    let extension = v1::ExtensionRequest {
        containing_type: "grpc.health.v1.HealthCheckRequest".into(),
        extension_number: 100,
    };
    assert_eq!(
        error_code(&round(MessageRequest::FileContainingExtension(extension)).await),
        not_found
    );
    assert_eq!(
        error_code(&round(MessageRequest::AllExtensionNumbersOfType("no.Such".into())).await),
        not_found
    );
    match round(MessageRequest::AllExtensionNumbersOfType(
        "grpc.health.v1.HealthCheckRequest".into(),
    ))
    .await
    .message_response
    {
        Some(MessageResponse::AllExtensionNumbersResponse(r)) => {
            assert_eq!(r.base_type_name, "grpc.health.v1.HealthCheckRequest");
            assert!(r.extension_number.is_empty());
        }
        other => panic!("expected extension numbers, got {other:?}"),
    }

    // The stream went on after each error; an empty request is INVALID_ARGUMENT.
    call.write(v1::ServerReflectionRequest::default()).await.unwrap();
    assert_eq!(
        error_code(&call.read().await.unwrap().unwrap()),
        StatusCode::InvalidArgument.value()
    );
    call.done_writing().await.unwrap();
    assert_eq!(call.read().await.unwrap(), None);
    server.stop(None).await;
}

#[test]
fn v1alpha_on_the_blocking_server_with_a_blocking_client() {
    let server = rpc_sync::server(ServerOptions::default()).unwrap();
    add_health_servicer_to_server(HealthServicer::new(), &server);
    add_reflection_servicer_to_server(ReflectionServicer::from_server(&server), &server);
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().unwrap();

    let channel = rpc_sync::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();
    let stub = v1alpha::ServerReflectionStub::new(channel);
    use v1alpha::server_reflection_request::MessageRequest as Q;
    use v1alpha::server_reflection_response::MessageResponse as A;
    let requests = [
        Q::ListServices("*".into()),
        Q::FileContainingSymbol("grpc.reflection.v1.ServerReflection".into()),
    ]
    .map(|q| v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(q),
    });
    let responses: Vec<_> = stub
        .server_reflection_info(Request::new(requests).timeout(Duration::from_secs(20)))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(responses.len(), 2);
    match &responses[0].message_response {
        Some(A::ListServicesResponse(l)) => assert_eq!(l.service.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), SERVICES),
        other => panic!("expected a service list, got {other:?}"),
    }
    match &responses[1].message_response {
        Some(A::FileDescriptorResponse(f)) => {
            let file = FileDescriptorProto::decode(f.file_descriptor_proto[0].as_slice()).unwrap();
            assert_eq!(file.name(), "grpc/reflection/v1/reflection.proto");
        }
        other => panic!("expected files, got {other:?}"),
    }
    server.stop(None).wait(None);
}

#[test]
fn new_describes_the_given_services_and_itself() {
    let servicer = ReflectionServicer::new([&rpc_health::HEALTH_SERVICE]);
    assert_eq!(servicer.service_names(), SERVICES);
    assert_eq!(
        ReflectionServicer::new([]).service_names(),
        ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]
    );
}
