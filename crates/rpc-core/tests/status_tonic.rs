//! `StatusCode` <-> `tonic::Code` and `RpcError` <-> `tonic::Status`: codes, messages and trailing metadata survive; Display is one line.

use rpc_core::{Metadata, RpcError, StatusCode};

#[test]
fn every_status_code_maps_to_the_same_tonic_code() {
    let expected = [
        (StatusCode::Ok, tonic::Code::Ok),
        (StatusCode::Cancelled, tonic::Code::Cancelled),
        (StatusCode::Unknown, tonic::Code::Unknown),
        (StatusCode::InvalidArgument, tonic::Code::InvalidArgument),
        (StatusCode::DeadlineExceeded, tonic::Code::DeadlineExceeded),
        (StatusCode::NotFound, tonic::Code::NotFound),
        (StatusCode::AlreadyExists, tonic::Code::AlreadyExists),
        (StatusCode::PermissionDenied, tonic::Code::PermissionDenied),
        (StatusCode::ResourceExhausted, tonic::Code::ResourceExhausted),
        (StatusCode::FailedPrecondition, tonic::Code::FailedPrecondition),
        (StatusCode::Aborted, tonic::Code::Aborted),
        (StatusCode::OutOfRange, tonic::Code::OutOfRange),
        (StatusCode::Unimplemented, tonic::Code::Unimplemented),
        (StatusCode::Internal, tonic::Code::Internal),
        (StatusCode::Unavailable, tonic::Code::Unavailable),
        (StatusCode::DataLoss, tonic::Code::DataLoss),
        (StatusCode::Unauthenticated, tonic::Code::Unauthenticated),
    ];
    assert_eq!(expected.len(), StatusCode::ALL.len());
    for (ours, theirs) in expected {
        assert_eq!(tonic::Code::from(ours), theirs, "{ours}");
        assert_eq!(StatusCode::from(theirs), ours, "{theirs:?}");
        assert_eq!(ours.value(), theirs as i32);
    }
}

#[test]
fn names_and_numbers() {
    assert_eq!(StatusCode::Ok.name(), "OK");
    assert_eq!(StatusCode::Unauthenticated.value(), 16);
    assert_eq!(StatusCode::from_name("RESOURCE_EXHAUSTED"), Some(StatusCode::ResourceExhausted));
    assert_eq!(StatusCode::from_name("resource_exhausted"), None);
    assert_eq!(StatusCode::from_i32(99), StatusCode::Unknown);
    assert_eq!(StatusCode::from(tonic::Code::from_i32(99)), StatusCode::Unknown);
}

#[test]
fn rpc_error_to_tonic_and_back_keeps_code_message_and_trailers() {
    for code in StatusCode::ALL.into_iter().filter(|c| *c != StatusCode::Ok) {
        let md = Metadata::from_pairs([("x-why", "because"), ("x-why", "again")])
            .unwrap()
            .with("x-blob-bin", &b"\x00\xff"[..])
            .unwrap();
        let err = RpcError::new(code, format!("failed with {code}")).with_trailing_metadata(md.clone());
        let status: tonic::Status = err.clone().into();
        assert_eq!(status.code(), tonic::Code::from(code));
        assert_eq!(status.message(), format!("failed with {code}"));
        assert!(status.details().is_empty(), "no rich details were attached");

        let back: RpcError = status.into();
        assert_eq!(back.code(), code);
        assert_eq!(back.details(), err.details());
        assert_eq!(back.trailing_metadata(), &md);
    }
}

#[test]
fn tonic_status_to_rpc_error_drops_protocol_metadata() {
    let mut map = tonic::metadata::MetadataMap::new();
    map.insert("x-user", "ada".parse().unwrap());
    map.insert("content-type", "application/grpc".parse().unwrap());
    map.insert("grpc-status", "5".parse().unwrap());
    let status = tonic::Status::with_metadata(tonic::Code::NotFound, "no such user", map);
    let err = RpcError::from_tonic(&status);
    assert_eq!(err.code(), StatusCode::NotFound);
    assert_eq!(err.details(), "no such user");
    let keys: Vec<_> = err.trailing_metadata().iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["x-user"]);
    assert!(!err.is_unavailable() && !err.is_cancelled() && !err.is_deadline_exceeded());
}

#[test]
fn display_is_one_readable_line() {
    let err = RpcError::deadline_exceeded("took too long\r\nreally");
    assert_eq!(err.to_string(), "DEADLINE_EXCEEDED: took too long\\r\\nreally");
    assert!(!err.to_string().contains('\n'));
    assert_eq!(RpcError::new(StatusCode::Internal, "").to_string(), "INTERNAL");
    let with_md = RpcError::unavailable("down").with_trailing_metadata(Metadata::new().with("x-a", "b").unwrap());
    assert_eq!(with_md.to_string(), "UNAVAILABLE: down");
    assert!(format!("{with_md:?}").contains("trailing_metadata"));
}

#[test]
fn rpc_error_is_small_and_an_error() {
    assert_eq!(std::mem::size_of::<RpcError>(), std::mem::size_of::<usize>());
    fn is_error<E: std::error::Error + Send + Sync + 'static>() {}
    is_error::<RpcError>();
    let initial = Metadata::new().with("x-h", "1").unwrap();
    let err = RpcError::aborted("x")
        .with_initial_metadata(initial.clone())
        .with_debug_error_string("from test");
    assert_eq!(err.initial_metadata(), &initial);
    assert_eq!(err.debug_error_string(), Some("from test"));
    assert_eq!(err.code(), StatusCode::Aborted);
}
