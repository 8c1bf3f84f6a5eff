//! What the server answers when the call cannot be served, run against both faces: a
//! panicking handler is UNKNOWN (and the server carries on), an unknown method or service
//! UNIMPLEMENTED, request bytes that do not decode INTERNAL, and a call refused by a server
//! interceptor of the face UNAUTHENTICATED before any handler runs.

use rpc_core::{Request, StatusCode};
use rpc_testkit::plan::{PANIC_MESSAGE, REJECTED};
use rpc_testkit::{Face, FaceServer, Msg, Peer, Raw, Style, UNARY, both_faces, eventually, md, msg};

fn a_panicking_handler_is_unknown_and_the_server_carries_on<F: Face>() {
    let face = F::new();
    for style in Style::ALL {
        let server = face.serve(style);
        let (ch, who) = (face.channel(&server.target()), server.name());
        let panic = || md(&[("x-panic", "1")]);
        for _ in 0..2 {
            let err = face.unary(&ch, Request::new(msg("x")).metadata(panic()));
            assert_eq!(err.err().code(), StatusCode::Unknown, "{who}: {:?}", err.error);
            assert!(err.err().details().contains(PANIC_MESSAGE), "{who}: {:?}", err.error);
        }
        let streamed = face.server_stream(&ch, Request::new(Msg { n: 2, ..msg("") }).metadata(panic()));
        assert_eq!(streamed.err().code(), StatusCode::Unknown, "{who}");
        let joined = face.client_stream(&ch, Request::new(vec![msg("a")]).metadata(panic()));
        assert_eq!(joined.err().code(), StatusCode::Unknown, "{who}");
        assert_eq!(face.unary(&ch, msg("fine")).reply().text, "echo:fine", "{who}");
        eventually(format!("{who}: no RPC in flight"), || server.active_rpcs() == 0).wait();
    }
}

fn an_unknown_method_is_unimplemented<F: Face>() {
    let face = F::new();
    for peer in face.peers() {
        let (ch, who) = (face.channel(&peer.target()), peer.name());
        for path in ["/test.Svc/Nope", "/no.Such/Service"] {
            let call = face.unary_at(&ch, path, msg("x"));
            assert_eq!(call.err().code(), StatusCode::Unimplemented, "{who}, {path}: {:?}", call.error);
        }
        assert_eq!(peer.probe().calls(), 0, "{who}");
    }
}

fn request_bytes_that_do_not_decode_are_internal<F: Face>() {
    let face = F::new();
    for peer in face.peers() {
        let (ch, who) = (face.channel(&peer.target()), peer.name());
        // Field 1 of Msg is a string: invalid UTF-8 there does not decode.
        let call = face.unary_at(
            &ch,
            UNARY,
            Raw {
                text: vec![0xff, 0xfe, 0xfd],
            },
        );
        assert_eq!(call.err().code(), StatusCode::Internal, "{who}: {:?}", call.error);
        assert_eq!(peer.probe().calls(), 0, "{who}: no handler ran");
        assert_eq!(
            face.unary(&ch, msg("ok")).reply().text,
            "echo:ok",
            "{who}: the server is fine afterwards"
        );
    }
}

fn a_server_interceptor_refuses_a_call_before_its_handler<F: Face>() {
    let face = F::new();
    for style in Style::ALL {
        let server = face.serve(style);
        let (ch, who) = (face.channel(&server.target()), server.name());
        let refused = face.unary(&ch, Request::new(msg("x")).metadata(md(&[("x-reject", "1")])));
        let err = refused.err();
        assert_eq!((err.code(), err.details()), (StatusCode::Unauthenticated, REJECTED), "{who}");
        let refused = face.bidi(&ch, Request::new(vec![msg("y")]).metadata(md(&[("x-reject", "1")])));
        assert_eq!(refused.err().code(), StatusCode::Unauthenticated, "{who}");
        assert_eq!(server.probe().calls(), 0, "{who}: no handler ran");
        assert_eq!(face.unary(&ch, msg("ok")).reply().text, "echo:ok", "{who}");
    }
}

both_faces!(
    a_panicking_handler_is_unknown_and_the_server_carries_on,
    an_unknown_method_is_unimplemented,
    request_bytes_that_do_not_decode_are_internal,
    a_server_interceptor_refuses_a_call_before_its_handler,
);
