//! Failed calls, run against both faces: the status code, details and trailing metadata
//! (text and `-bin`) a failure carries for every kind of call, each way a handler can fail
//! (`abort`, `abort_with_status`, a returned error, `set_code` over a reply), rich error
//! details, a stream that fails after its responses, and trailers-only responses that
//! carry exactly what the handler set.

use rpc_core::details::ErrorInfo;
use rpc_core::{Metadata, MetadataValue, Request, StatusCode};
use rpc_testkit::plan::{DETAIL_DOMAIN, FAIL_DETAILS, STREAM_ABORTED};
use rpc_testkit::{Face, Finished, LiveCall, Msg, Peer, Style, both_faces, md, msg};

fn assert_failed(call: &Finished, code: StatusCode, what: &str) {
    let err = call.err();
    assert_eq!((err.code(), err.details()), (code, FAIL_DETAILS), "{what}: {err:?}");
    assert_eq!(
        (call.code, call.details.as_str()),
        (code, FAIL_DETAILS),
        "{what}: the call's status"
    );
    for trailing in [err.trailing_metadata(), &call.trailing] {
        assert_eq!(trailing.get_str("x-why"), Some("because"), "{what}: {trailing:?}");
        assert_eq!(
            trailing.get("x-why-bin"),
            Some(&MetadataValue::Binary(vec![0u8, 1, 2, 255].into())),
            "{what}: {trailing:?}"
        );
    }
}

fn fail(code: &str) -> Metadata {
    md(&[("x-fail", code)])
}

fn every_kind_fails_with_code_details_and_trailers<F: Face>() {
    let face = F::new();
    for peer in face.peers() {
        let (ch, who) = (face.channel(&peer.target()), peer.name());
        for (kind, call) in face.every_kind(&ch, &fail("5")) {
            assert_failed(&call, StatusCode::NotFound, &format!("{who}, {kind}"));
            assert!(call.responses.is_empty(), "{who}, {kind}: no response before the failure");
        }
    }
}

fn every_way_a_handler_fails_reaches_the_client<F: Face>() {
    let face = F::new();
    for style in Style::ALL {
        let server = face.serve(style);
        let ch = face.channel(&server.target());
        for how in ["abort", "status", "return", "set-code"] {
            // Also after the handler sent its initial metadata early (x-user is echoed).
            for early in [false, true] {
                let what = format!("{}, {how}, initial metadata sent early: {early}", server.name());
                let mut pairs = vec![("x-fail", "9"), ("x-fail-how", how), ("x-trail", "set-on-the-context")];
                if early {
                    pairs.push(("x-user", "ada"));
                }
                let call = face.unary(&ch, Request::new(msg("x")).metadata(md(&pairs)));
                // A non-OK code set on the context wins over the reply the handler returns.
                assert_failed(&call, StatusCode::FailedPrecondition, &what);
                // Trailers set on the context before the failure are sent with it, beside
                // those the error carries.
                assert_eq!(
                    call.trailing.get_str("x-trail"),
                    Some("set-on-the-context"),
                    "{what}: {:?}",
                    call.trailing
                );
            }
        }
        // The same for a streaming kind.
        let request = Request::new(Msg { n: 2, ..msg("") }).metadata(md(&[("x-fail", "10"), ("x-fail-how", "set-code")]));
        let call = face.server_stream(&ch, request);
        assert_eq!(call.code, StatusCode::Aborted, "{}: {:?}", server.name(), call.error);
    }
}

fn rich_error_details_reach_the_client<F: Face>() {
    let face = F::new();
    for peer in face.peers() {
        let (ch, who) = (face.channel(&peer.target()), peer.name());
        // The tonic peer always fails the one way it can; the servicers fail both ways that
        // carry an error value.
        for how in ["status", "return"] {
            let request = Request::new(msg("x")).metadata(md(&[("x-fail", "8"), ("x-fail-how", how), ("x-fail-detail", "OUT_OF_QUOTA")]));
            let call = face.unary(&ch, request);
            assert_failed(&call, StatusCode::ResourceExhausted, &format!("{who}, {how}"));
            let info: ErrorInfo = call.err().detail().unwrap_or_else(|| panic!("{who}, {how}: no rich details"));
            assert_eq!(
                (info.reason.as_str(), info.domain.as_str()),
                ("OUT_OF_QUOTA", DETAIL_DOMAIN),
                "{who}, {how}"
            );
        }
        // Without one asked for, there is none.
        let plain = face.unary(&ch, Request::new(msg("x")).metadata(fail("8")));
        assert!(plain.err().detail::<ErrorInfo>().is_none(), "{who}");
    }
}

fn a_stream_fails_after_its_responses<F: Face>() {
    let face = F::new();
    for peer in face.peers() {
        let (ch, who) = (face.channel(&peer.target()), peer.name());
        let request = Request::new(Msg { n: 2, ..msg("") }).metadata(md(&[("x-fail-after", "1")]));
        let call = face.server_stream(&ch, request);
        assert_eq!(call.texts(), ["0", "1"], "{who}: the responses before the failure arrive");
        let err = call.err();
        assert_eq!((err.code(), err.details()), (StatusCode::Aborted, STREAM_ABORTED), "{who}");
        assert_eq!(call.code, StatusCode::Aborted, "{who}");
    }
}

fn a_trailers_only_failure_carries_exactly_the_trailers_set<F: Face>() {
    // Against the servers of the face only: what a server sends besides (tonic's server
    // sends hyper's `date`) is the server's business, and the client reports it.
    let face = F::new();
    for style in Style::ALL {
        let server = face.serve(style);
        let (ch, who) = (face.channel(&server.target()), server.name());
        let call = face.unary(&ch, Request::new(msg("x")).metadata(fail("5")));
        // No transport header (such as hyper's `date`) leaks into the trailing metadata.
        let keys: Vec<&str> = call.trailing.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["x-why", "x-why-bin"], "{who}: {:?}", call.trailing);
        assert!(call.initial.is_empty(), "{who}: no initial metadata was sent: {:?}", call.initial);
    }
}

fn held_then_failed(face: &impl Face, server: &impl Peer) -> (Metadata, Finished) {
    let ch = face.channel(&server.target());
    let request = Request::new(msg("x")).metadata(md(&[("x-user", "ada"), ("x-hold", "1"), ("x-fail", "9")]));
    let mut call = face.start_unary(&ch, request);
    // The handler has sent its initial metadata (the client has them) and fails once released.
    let initial = call.initial_metadata().unwrap();
    server.probe().release();
    (initial, call.finish())
}

fn initial_metadata_sent_before_a_failure_reaches_the_client<F: Face>() {
    let face = F::new();
    for style in Style::ALL {
        let server = face.serve(style);
        let (initial, call) = held_then_failed(&face, &server);
        assert_eq!(initial.get_str("x-echo"), Some("ada"), "{}: {initial:?}", server.name());
        assert_failed(&call, StatusCode::FailedPrecondition, &server.name());
        assert_eq!(
            call.initial.get_str("x-echo"),
            Some("ada"),
            "{}: the call's initial metadata",
            server.name()
        );
    }
}

fn the_error_of_a_call_carries_the_initial_metadata_sent_before_it<F: Face>() {
    // `RpcError::initial_metadata`: "the initial metadata (headers) the peer sent before
    // the error". What a call returns (`await`, `result()`, `with_call`) is only the error.
    let face = F::new();
    for style in Style::ALL {
        let server = face.serve(style);
        let (_, call) = held_then_failed(&face, &server);
        let err = call.err();
        assert_eq!(err.initial_metadata().get_str("x-echo"), Some("ada"), "{}: {err:?}", server.name());
    }
}

both_faces!(
    every_kind_fails_with_code_details_and_trailers,
    every_way_a_handler_fails_reaches_the_client,
    rich_error_details_reach_the_client,
    a_stream_fails_after_its_responses,
    a_trailers_only_failure_carries_exactly_the_trailers_set,
    initial_metadata_sent_before_a_failure_reaches_the_client,
    the_error_of_a_call_carries_the_initial_metadata_sent_before_it,
);
