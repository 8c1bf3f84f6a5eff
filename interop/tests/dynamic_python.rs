//! Dynamic calls against gRPC Python's interop server (`interop/python/interop_server.py
//! --reflection`): the async dynamic stub with the schema from the server's reflection,
//! the blocking one with the schema from `proto/grpc/testing/test.proto`; all four kinds,
//! JSON responses equal to what prost's generated types print, an error status, and
//! echoed metadata.
//!
//! Every case runs wherever Python venvs can be made; on a machine that cannot make one
//! the test says so and does not run, and with `RPC_TEST_REQUIRE_PEERS` set (as `.ci/run`
//! sets it) that is a failure, never a silent pass (see `rpc_testkit::python`).

mod common;

use common::{Server, python, python_dir};
use examples::pb::grpc::testing::{
    EchoStatus, Payload, ResponseParameters, SimpleRequest, SimpleResponse, StreamingInputCallRequest, StreamingInputCallResponse,
    StreamingOutputCallRequest, StreamingOutputCallResponse,
};
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage};
use rpc_core::{ChannelOptions, Metadata, Request, StatusCode, WriteRequests};
use rpc_dynamic::{JsonOptions, message_to_json};
use std::process::Command;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(30);
const SERVICE: &str = "grpc.testing.TestService";

fn python_server() -> Option<Server> {
    let python = python()?;
    let mut command = Command::new(python);
    command
        .arg(python_dir().join("interop_server.py"))
        .arg("--port=0")
        .arg("--reflection");
    Some(Server::start("python interop_server.py --reflection", command))
}

fn to_dynamic<M: Message>(pool: &DescriptorPool, name: &str, message: &M) -> DynamicMessage {
    DynamicMessage::decode(pool.get_message_by_name(name).unwrap(), message.encode_to_vec().as_slice()).unwrap()
}

fn from_dynamic<M: Message + Default>(message: &DynamicMessage) -> M {
    M::decode(message.encode_to_vec().as_slice()).unwrap()
}

/// The JSON prost's message prints through the pool.
fn json_of<M: Message>(pool: &DescriptorPool, name: &str, message: &M) -> String {
    message_to_json(&to_dynamic(pool, name, message), &JsonOptions::new()).unwrap()
}

fn payload(size: usize) -> Option<Payload> {
    Some(Payload {
        body: vec![0; size],
        ..Default::default()
    })
}

fn output_request(sizes: &[i32]) -> StreamingOutputCallRequest {
    StreamingOutputCallRequest {
        response_parameters: sizes
            .iter()
            .map(|&size| ResponseParameters {
                size,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn failing_request() -> SimpleRequest {
    SimpleRequest {
        response_status: Some(EchoStatus {
            code: 2,
            message: "the peer was told to fail".to_owned(),
        }),
        ..Default::default()
    }
}

fn echo_metadata() -> Metadata {
    Metadata::new().with("x-grpc-test-echo-initial", "from a dynamic call").unwrap()
}

fn body_sizes(responses: &[StreamingOutputCallResponse]) -> Vec<usize> {
    responses.iter().map(|r| r.payload.as_ref().map_or(0, |p| p.body.len())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_dynamic_stub_by_reflection() {
    let Some(server) = python_server() else { return };
    let channel = rpc_aio::insecure_channel(&format!("127.0.0.1:{}", server.port), ChannelOptions::default()).unwrap();
    let stub = rpc_dynamic::DynamicStub::from_reflection(channel).await.unwrap();
    let pool = stub.pool().clone();

    let unary = stub.unary_unary::<String, String>(&format!("{SERVICE}/UnaryCall")).unwrap();
    let call = unary.call(
        Request::new(r#"{"responseSize": 3}"#.to_owned())
            .timeout(TIMEOUT)
            .metadata(echo_metadata()),
    );
    let response = call.await.unwrap();
    let expected = SimpleResponse {
        payload: payload(3),
        ..Default::default()
    };
    assert_eq!(response, json_of(&pool, "grpc.testing.SimpleResponse", &expected));

    let dynamic = stub
        .unary_unary::<DynamicMessage, DynamicMessage>(&format!("{SERVICE}/UnaryCall"))
        .unwrap();
    let mut call =
        dynamic.call(Request::new(to_dynamic(&pool, "grpc.testing.SimpleRequest", &SimpleRequest::default())).metadata(echo_metadata()));
    (&mut call).await.unwrap();
    assert_eq!(
        call.initial_metadata().await.unwrap().get_str("x-grpc-test-echo-initial"),
        Some("from a dynamic call")
    );
    let error = dynamic
        .call(to_dynamic(&pool, "grpc.testing.SimpleRequest", &failing_request()))
        .await
        .unwrap_err();
    assert_eq!(error.code(), StatusCode::Unknown);
    assert_eq!(error.details(), "the peer was told to fail");

    let streaming = stub
        .unary_stream::<DynamicMessage, DynamicMessage>(&format!("{SERVICE}/StreamingOutputCall"))
        .unwrap();
    let mut call = streaming.call(to_dynamic(
        &pool,
        "grpc.testing.StreamingOutputCallRequest",
        &output_request(&[1, 2, 3]),
    ));
    let mut responses = Vec::new();
    while let Some(response) = call.read().await.unwrap() {
        responses.push(from_dynamic::<StreamingOutputCallResponse>(&response));
    }
    assert_eq!(body_sizes(&responses), [1, 2, 3]);

    let input = stub
        .stream_unary::<String, String>(&format!("{SERVICE}/StreamingInputCall"))
        .unwrap();
    let requests = [4, 5].map(|size| {
        json_of(
            &pool,
            "grpc.testing.StreamingInputCallRequest",
            &StreamingInputCallRequest {
                payload: payload(size),
                ..Default::default()
            },
        )
    });
    let summary = input.call(requests.to_vec()).await.unwrap();
    let expected = StreamingInputCallResponse {
        aggregated_payload_size: 9,
    };
    assert_eq!(summary, json_of(&pool, "grpc.testing.StreamingInputCallResponse", &expected));

    let duplex = stub
        .stream_stream::<DynamicMessage, DynamicMessage>(&format!("{SERVICE}/FullDuplexCall"))
        .unwrap();
    let mut call = duplex.call(Request::new(WriteRequests).timeout(TIMEOUT));
    for size in [2, 1] {
        call.write(to_dynamic(
            &pool,
            "grpc.testing.StreamingOutputCallRequest",
            &output_request(&[size]),
        ))
        .await
        .unwrap();
        let response: StreamingOutputCallResponse = from_dynamic(&call.read().await.unwrap().expect("a response per request"));
        assert_eq!(body_sizes(&[response]), [size as usize]);
    }
    call.done_writing().await.unwrap();
    assert!(call.read().await.unwrap().is_none());
    assert_eq!(call.code().await, StatusCode::Ok);
}

#[test]
fn blocking_dynamic_stub_by_proto_file() {
    let Some(server) = python_server() else { return };
    let channel = rpc_sync::insecure_channel(&format!("127.0.0.1:{}", server.port), ChannelOptions::default()).unwrap();
    let pool = rpc_dynamic::load_protos(&["grpc/testing/test.proto"], &[concat!(env!("CARGO_MANIFEST_DIR"), "/../proto")]).unwrap();
    let stub = rpc_dynamic::blocking::DynamicStub::new(channel, pool.clone());

    let unary = stub.unary_unary::<String, String>(&format!("{SERVICE}/UnaryCall")).unwrap();
    let response = unary.call(r#"{"responseSize": 5}"#.to_owned()).unwrap();
    let expected = SimpleResponse {
        payload: payload(5),
        ..Default::default()
    };
    assert_eq!(response, json_of(&pool, "grpc.testing.SimpleResponse", &expected));
    let dynamic = stub
        .unary_unary::<DynamicMessage, DynamicMessage>(&format!("{SERVICE}/UnaryCall"))
        .unwrap();
    let (_, call) = dynamic
        .with_call(Request::new(to_dynamic(&pool, "grpc.testing.SimpleRequest", &SimpleRequest::default())).metadata(echo_metadata()))
        .unwrap();
    assert_eq!(
        call.initial_metadata().get_str("x-grpc-test-echo-initial"),
        Some("from a dynamic call")
    );
    let error = dynamic
        .call(to_dynamic(&pool, "grpc.testing.SimpleRequest", &failing_request()))
        .unwrap_err();
    assert_eq!(error.code(), StatusCode::Unknown);

    let streaming = stub
        .unary_stream::<DynamicMessage, DynamicMessage>(&format!("{SERVICE}/StreamingOutputCall"))
        .unwrap();
    let responses: Vec<StreamingOutputCallResponse> = streaming
        .call(to_dynamic(
            &pool,
            "grpc.testing.StreamingOutputCallRequest",
            &output_request(&[3, 1]),
        ))
        .map(|r| from_dynamic(&r.unwrap()))
        .collect();
    assert_eq!(body_sizes(&responses), [3, 1]);

    let input = stub
        .stream_unary::<DynamicMessage, DynamicMessage>(&format!("{SERVICE}/StreamingInputCall"))
        .unwrap();
    let requests: Vec<DynamicMessage> = [6, 7]
        .iter()
        .map(|&size| {
            to_dynamic(
                &pool,
                "grpc.testing.StreamingInputCallRequest",
                &StreamingInputCallRequest {
                    payload: payload(size),
                    ..Default::default()
                },
            )
        })
        .collect();
    let summary: StreamingInputCallResponse = from_dynamic(&input.call(requests).unwrap());
    assert_eq!(summary.aggregated_payload_size, 13);

    let duplex = stub.stream_stream::<String, String>(&format!("{SERVICE}/FullDuplexCall")).unwrap();
    let mut call = duplex.call(Request::new(WriteRequests).timeout(TIMEOUT));
    call.write(r#"{"responseParameters": [{"size": 4}]}"#.to_owned()).unwrap();
    let response = call.read().unwrap().expect("a response");
    let expected = StreamingOutputCallResponse { payload: payload(4) };
    assert_eq!(response, json_of(&pool, "grpc.testing.StreamingOutputCallResponse", &expected));
    call.done_writing().unwrap();
    assert!(call.read().unwrap().is_none());
}
