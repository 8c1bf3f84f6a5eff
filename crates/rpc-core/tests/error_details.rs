//! Rich error details: attached details survive a trip through their wire form (the `grpc-status-details-bin` bytes).

use prost::Message;
use rpc_core::details::{BadRequest, DebugInfo, ErrorDetail, ErrorInfo, FieldViolation, RetryInfo, RpcStatusProto};
use rpc_core::{RpcError, StatusCode};

fn rich_error() -> RpcError {
    RpcError::invalid_argument("bad request")
        .with_detail(BadRequest {
            field_violations: vec![
                FieldViolation {
                    field: "user.email".into(),
                    description: "missing @".into(),
                },
                FieldViolation {
                    field: "user.age".into(),
                    description: "negative".into(),
                },
            ],
        })
        .with_detail(ErrorInfo {
            reason: "INVALID_EMAIL".into(),
            domain: "users.example.com".into(),
            metadata: [("field".to_owned(), "email".to_owned())].into_iter().collect(),
        })
        .with_detail(RetryInfo {
            retry_delay: Some(prost_types::Duration { seconds: 3, nanos: 500 }),
        })
        .with_detail(ErrorInfo {
            reason: "SECOND".into(),
            ..Default::default()
        })
}

#[test]
fn details_round_trip_through_their_encoded_form() {
    let err = rich_error();
    let encoded = err.encoded_status_details().expect("details travel in grpc-status-details-bin");

    // The bytes are a google.rpc.Status with the same code and message.
    let proto = RpcStatusProto::decode(encoded.as_ref()).unwrap();
    assert_eq!(proto.code, StatusCode::InvalidArgument.value());
    assert_eq!(proto.message, "bad request");
    assert_eq!(proto.details.len(), 4);
    assert_eq!(proto.details[0].type_url, "type.googleapis.com/google.rpc.BadRequest");
    assert_eq!(proto, err.status_proto());

    let back = RpcError::new(StatusCode::InvalidArgument, "bad request").with_encoded_status_details(&encoded);
    assert_eq!(back.code(), StatusCode::InvalidArgument);
    assert_eq!(back.details(), "bad request");
    assert_eq!(back.rich_details(), err.rich_details());

    let bad = back.detail::<BadRequest>().unwrap();
    assert_eq!(bad.field_violations.len(), 2);
    assert_eq!(bad.field_violations[1].field, "user.age");
    let infos = back.details_of::<ErrorInfo>();
    assert_eq!(
        infos.iter().map(|i| i.reason.as_str()).collect::<Vec<_>>(),
        ["INVALID_EMAIL", "SECOND"]
    );
    assert_eq!(infos[0].metadata.get("field").map(String::as_str), Some("email"));
    assert_eq!(
        back.detail::<RetryInfo>().unwrap().retry_delay,
        Some(prost_types::Duration { seconds: 3, nanos: 500 })
    );
    assert_eq!(back.detail::<DebugInfo>(), None);
    assert!(back.details_of::<DebugInfo>().is_empty());
}

#[test]
fn encoded_details_are_the_status_proto() {
    let err = rich_error();
    assert_eq!(err.encoded_status_details().unwrap().to_vec(), err.status_proto().encode_to_vec());
    assert_eq!(RpcError::internal("plain").encoded_status_details(), None);
    let again = RpcError::invalid_argument("x").with_encoded_status_details(&err.encoded_status_details().unwrap());
    assert_eq!(again.detail::<BadRequest>(), err.detail::<BadRequest>());
}

#[test]
fn type_urls_are_google_rpc() {
    assert_eq!(BadRequest::TYPE_URL, "type.googleapis.com/google.rpc.BadRequest");
    assert_eq!(ErrorInfo::TYPE_URL, "type.googleapis.com/google.rpc.ErrorInfo");
    assert_eq!(RetryInfo::TYPE_URL, "type.googleapis.com/google.rpc.RetryInfo");
}

#[test]
fn garbage_details_bytes_are_ignored_without_panic() {
    for garbage in [
        &b"\xff\xff\xff\xff"[..],
        b"\x0a\x05ab",
        b"not a proto at all",
        b"\x1a\x03\x0a\xff\xff",
    ] {
        let err = RpcError::internal("oops").with_encoded_status_details(garbage);
        assert_eq!(err.code(), StatusCode::Internal);
        assert_eq!(err.details(), "oops");
        assert_eq!(err.detail::<BadRequest>(), None);
        assert!(err.details_of::<ErrorInfo>().is_empty());
    }
}

#[test]
fn undecodable_detail_of_the_right_type_is_skipped() {
    let mut proto = rich_error().status_proto();
    proto.details.insert(
        0,
        prost_types::Any {
            type_url: BadRequest::TYPE_URL.into(),
            value: vec![0xff, 0xff, 0xff],
        },
    );
    let err = RpcError::internal("x").with_encoded_status_details(&proto.encode_to_vec());
    assert_eq!(err.details_of::<BadRequest>().len(), 1, "the bad one is skipped, the good one kept");
}
