//! The four kinds of call, run against both faces: messages each way (requests from a
//! `Vec`, an async stream, or written through the call), metadata both ways (text and
//! `-bin`, initial and trailing), full duplex, and initial metadata sent before the
//! response. Client behaviour runs against every peer: the tonic peer and a server of the
//! face with each style of handlers.

use rpc_core::{Metadata, MetadataValue, Request, StatusCode, WriteRequests};
use rpc_testkit::{Face, LiveCall, Msg, Peer, Style, both_faces, msg};

fn indexes(responses: &[Msg]) -> Vec<i32> {
    responses.iter().map(|m| m.n).collect()
}

fn four_kinds_round_trip<F: Face>() {
    let face = F::new();
    for peer in face.peers() {
        let (ch, who) = (face.channel(&peer.target()), peer.name());

        let reply = face.unary(&ch, Msg { n: 5, ..msg("hi") }).reply();
        assert_eq!((reply.text.as_str(), reply.payload), ("echo:hi", vec![7u8; 5]), "{who}");

        let streamed = face.server_stream(&ch, Msg { n: 3, ..msg("") });
        assert_eq!(streamed.code, StatusCode::Ok, "{who}");
        assert_eq!(indexes(&streamed.ok()), [0, 1, 2], "{who}");
        assert!(face.server_stream(&ch, msg("")).ok().is_empty(), "{who}: no responses asked for");

        let joined = face.client_stream(&ch, vec![msg("a"), msg("b"), msg("c")]).reply();
        assert_eq!((joined.text.as_str(), joined.n), ("a,b,c", 3), "{who}");
        let from_stream = face.client_stream(&ch, rpc_core::stream(futures::stream::iter([msg("x"), msg("y")])));
        assert_eq!(from_stream.reply().text, "x,y", "{who}");
        assert_eq!(face.client_stream(&ch, Vec::<Msg>::new()).reply().n, 0, "{who}: no requests");

        let echoed = face.bidi(&ch, vec![msg("a"), msg("b")]);
        assert_eq!((echoed.code, echoed.texts()), (StatusCode::Ok, vec!["echo:a", "echo:b"]), "{who}");

        assert_eq!(peer.probe().calls(), 7, "{who}: every call reached a handler once");
    }
}

fn request_metadata() -> Metadata {
    Metadata::new()
        .with("x-user", "ada")
        .and_then(|md| md.with("x-data-bin", vec![0u8, 1, 254, 255]))
        .unwrap()
}

fn assert_echoed(initial: &Metadata, what: &str) {
    assert_eq!(initial.get_str("x-echo"), Some("ada"), "{what}: {initial:?}");
    assert_eq!(
        initial.get("x-echo-bin"),
        Some(&MetadataValue::Binary(vec![0u8, 1, 254, 255].into())),
        "{what}: {initial:?}"
    );
}

fn metadata_reaches_the_server_and_comes_back_for_every_kind<F: Face>() {
    let face = F::new();
    for peer in face.peers() {
        let (ch, who) = (face.channel(&peer.target()), peer.name());
        let finished = face.every_kind(&ch, &request_metadata());
        for (kind, call) in finished {
            let what = format!("{who}, {kind}");
            assert_eq!(call.code, StatusCode::Ok, "{what}: {:?}", call.error);
            assert_echoed(&call.initial, &what);
        }
        // What the handler saw of the last call.
        assert_eq!(peer.probe().header("x-user").as_deref(), Some("ada"), "{who}");
        assert_eq!(peer.probe().header_bin("x-data-bin"), Some(vec![0u8, 1, 254, 255]), "{who}");
    }
}

fn trailing_metadata_comes_back_for_every_kind<F: Face>() {
    let face = F::new();
    for style in Style::ALL {
        let server = face.serve(style);
        let ch = face.channel(&server.target());
        let trail = Metadata::new()
            .with("x-trail", "done")
            .and_then(|md| md.with("x-trail-bin", vec![9u8, 0, 255]))
            .unwrap();
        let finished = face.every_kind(&ch, &trail);
        for (kind, call) in finished {
            let what = format!("{}, {kind}", server.name());
            assert_eq!(call.code, StatusCode::Ok, "{what}: {:?}", call.error);
            assert_eq!(call.trailing.get_str("x-trail"), Some("done"), "{what}: {:?}", call.trailing);
            assert_eq!(
                call.trailing.get("x-trail-bin"),
                Some(&MetadataValue::Binary(vec![9u8, 0, 255].into())),
                "{what}: {:?}",
                call.trailing
            );
        }
    }
}

fn bidi_writes_and_reads_in_turn<F: Face>() {
    let face = F::new();
    for peer in face.peers() {
        let (ch, who) = (face.channel(&peer.target()), peer.name());
        let mut call = face.start_bidi(&ch, Request::new(WriteRequests).metadata(request_metadata()));
        // Each response arrives before the next request is written: full duplex.
        for i in 0..3 {
            call.write(msg(&i.to_string())).unwrap();
            assert_eq!(call.read().unwrap().unwrap().text, format!("echo:{i}"), "{who}");
        }
        assert_echoed(&call.initial_metadata().unwrap(), &who);
        call.done_writing().unwrap();
        assert!(call.read().is_none(), "{who}: the stream ends after done_writing");
        let finished = call.finish();
        assert_eq!(finished.code, StatusCode::Ok, "{who}");
        assert!(finished.responses.is_empty(), "{who}: all read already");
    }
}

fn client_stream_written_through_the_call<F: Face>() {
    let face = F::new();
    for peer in face.peers() {
        let (ch, who) = (face.channel(&peer.target()), peer.name());
        let mut call = face.start_client_stream(&ch, WriteRequests);
        call.write(msg("1")).unwrap();
        call.write(msg("2")).unwrap();
        call.done_writing().unwrap();
        let late = call.write(msg("3")).unwrap_err();
        assert_eq!(
            late.code(),
            StatusCode::FailedPrecondition,
            "{who}: a write after done_writing: {late}"
        );
        assert_eq!(call.finish().reply().text, "1,2", "{who}");

        // A call whose requests come from a source cannot be written to; it still runs.
        let mut with_source = face.start_client_stream(&ch, vec![msg("z")]);
        let refused = with_source.write(msg("no")).unwrap_err();
        assert_eq!(refused.code(), StatusCode::FailedPrecondition, "{who}: {refused}");
        assert_eq!(with_source.finish().reply().text, "z", "{who}");
    }
}

fn initial_metadata_arrives_before_the_response<F: Face>() {
    // The handler sends its initial metadata, then waits until released: if the metadata
    // were held back until the response, the client would wait for ever (and time out).
    let face = F::new();
    for style in Style::ALL {
        let server = face.serve(style);
        let ch = face.channel(&server.target());
        let mut call = face.start_unary(&ch, Request::new(msg("early")).metadata(rpc_testkit::md(&[("x-hold", "1")])));
        let initial = call.initial_metadata().unwrap();
        assert_eq!(initial.get_str("x-held"), Some("yes"), "{}: {initial:?}", server.name());
        assert!(!call.done(), "{}: the call waits to be released", server.name());
        server.probe().release();
        assert_eq!(call.finish().reply().text, "echo:early", "{}", server.name());
        assert_eq!(server.probe().completed(), 1);
    }
}

both_faces!(
    four_kinds_round_trip,
    metadata_reaches_the_server_and_comes_back_for_every_kind,
    trailing_metadata_comes_back_for_every_kind,
    bidi_writes_and_reads_in_turn,
    client_stream_written_through_the_call,
    initial_metadata_arrives_before_the_response,
);
