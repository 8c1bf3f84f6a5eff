//! How the rpc-aio server ends RPCs that fail: abort, abort_with_status (trailers, rich
//! details), set_code over a response, returned errors, panicking handlers (async and
//! blocking), undecodable requests.

mod common;

use common::*;
use rpc_aio::details::ErrorInfo;
use rpc_aio::{Metadata, RpcError, ServerOptions, ServicerContext, StatusCode, unary_unary_rpc_method_handler};

async fn serve_one(path: &'static str, h: rpc_aio::RpcMethodHandler) -> (rpc_aio::Server, rpc_aio::Channel) {
    let (server, target) = serve_aio(ServerOptions::default(), |s| s.add_method_handler(path, h)).await;
    (server, channel(&target))
}

#[tokio::test]
async fn abort_ends_with_its_code_and_the_trailers_set_so_far() {
    let (server, ch) = serve_one(
        UNARY,
        unary_unary_rpc_method_handler(|_m: Msg, ctx: ServicerContext| async move {
            ctx.add_trailing_metadata("x-before", "1")?;
            Err::<Msg, _>(ctx.abort(StatusCode::PermissionDenied, "not yours"))
        }),
    )
    .await;
    let err = guard(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap_err();
    assert_eq!((err.code(), err.details()), (StatusCode::PermissionDenied, "not yours"));
    assert_eq!(err.trailing_metadata().get_str("x-before"), Some("1"));
    server.stop(None).await;
}

#[tokio::test]
async fn abort_with_status_carries_trailers_and_rich_details() {
    let (server, ch) = serve_one(
        UNARY,
        blocking_unary(|_m, ctx| {
            let status = RpcError::new(StatusCode::FailedPrecondition, "quota")
                .with_trailing_metadata(Metadata::new().with("x-status-md", "s")?.with("x-status-bin", vec![1u8, 2])?)
                .with_detail(ErrorInfo {
                    reason: "OUT_OF_QUOTA".into(),
                    domain: "test".into(),
                    metadata: Default::default(),
                });
            ctx.add_trailing_metadata("x-ctx", "c")?;
            Err(ctx.abort_with_status(status))
        }),
    )
    .await;
    let err = guard(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap_err();
    assert_eq!((err.code(), err.details()), (StatusCode::FailedPrecondition, "quota"));
    let md = err.trailing_metadata();
    assert_eq!(md.get_str("x-status-md"), Some("s"));
    assert_eq!(md.get("x-status-bin").map(|v| v.as_bytes().to_vec()), Some(vec![1u8, 2]));
    assert_eq!(md.get_str("x-ctx"), Some("c"));
    let info: ErrorInfo = err.detail().expect("rich details");
    assert_eq!((info.reason.as_str(), info.domain.as_str()), ("OUT_OF_QUOTA", "test"));
    server.stop(None).await;
}

#[tokio::test]
async fn a_non_ok_code_set_on_the_context_wins_over_a_response() {
    let (server, ch) = serve_one(
        UNARY,
        unary_unary_rpc_method_handler(|m: Msg, ctx: ServicerContext| async move {
            ctx.set_code(StatusCode::NotFound);
            ctx.set_details("no such thing");
            Ok(m)
        }),
    )
    .await;
    let call = ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"));
    let err = guard(call).await.unwrap_err();
    assert_eq!((err.code(), err.details()), (StatusCode::NotFound, "no such thing"));

    // The same from a blocking handler, also after sending initial metadata early.
    server.add_method_handler(
        "/test.Blocking/Unary",
        blocking_unary(|m, ctx| {
            ctx.send_initial_metadata(Metadata::new())?;
            ctx.set_code(StatusCode::Aborted);
            ctx.set_details("changed my mind");
            Ok(m)
        }),
    );
    let err = guard(ch.unary_unary::<Msg, Msg>("/test.Blocking/Unary").call(msg("x")))
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.details()), (StatusCode::Aborted, "changed my mind"));
    server.stop(None).await;
}

#[tokio::test]
async fn returning_an_error_ends_with_it() {
    let (server, ch) = serve_one(UNARY, blocking_unary(|_m, _ctx| Err(RpcError::out_of_range("too far")))).await;
    let err = guard(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap_err();
    assert_eq!((err.code(), err.details()), (StatusCode::OutOfRange, "too far"));
    server.stop(None).await;
}

#[tokio::test]
async fn a_panicking_handler_is_unknown_and_the_server_carries_on() {
    let (server, target) = serve_aio(ServerOptions::default(), |s| {
        s.add_method_handler(
            "/test.Async/Panic",
            unary_unary_rpc_method_handler(|m: Msg, _ctx: ServicerContext| async move {
                if m.n == 1 {
                    panic!("async boom");
                }
                Ok::<_, RpcError>(m)
            }),
        );
        s.add_method_handler(
            "/test.Blocking/Panic",
            blocking_unary(|m, _ctx| {
                if m.n == 1 {
                    panic!("blocking boom");
                }
                Ok(m)
            }),
        );
    })
    .await;
    let ch = channel(&target);
    for (service, message) in [("Async", "async boom"), ("Blocking", "blocking boom")] {
        let path = format!("/test.{service}/Panic");
        for _ in 0..2 {
            let err = guard(ch.unary_unary::<Msg, Msg>(&path).call(Msg { n: 1, ..msg("") }))
                .await
                .unwrap_err();
            assert_eq!(err.code(), StatusCode::Unknown, "{err}");
            assert!(err.details().contains(message), "{err}");
        }
        let ok = guard(ch.unary_unary::<Msg, Msg>(&path).call(Msg { n: 2, ..msg("fine") }))
            .await
            .unwrap();
        assert_eq!(ok.text, "fine");
    }
    assert_eq!(server.active_rpcs(), 0);
    server.stop(None).await;
}

#[tokio::test]
async fn undecodable_request_bytes_are_internal() {
    let (server, ch) = serve_one(UNARY, echo_handler()).await;
    // Field 1 of Msg is a string: invalid UTF-8 there does not decode.
    let err = guard(ch.unary_unary::<Raw, Msg>(UNARY).call(Raw {
        text: vec![0xff, 0xfe, 0xfd],
    }))
    .await
    .unwrap_err();
    assert_eq!(err.code(), StatusCode::Internal, "{err}");
    // The server is fine afterwards.
    assert_eq!(
        guard(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("ok"))).await.unwrap().text,
        "echo:ok"
    );
    server.stop(None).await;
}

#[tokio::test]
async fn an_error_carries_exactly_the_trailers_the_handler_set() {
    let (server, ch) = serve_one(
        UNARY,
        unary_unary_rpc_method_handler(|_m: Msg, _ctx: ServicerContext| async move { Err::<Msg, _>(RpcError::not_found("no such thing")) }),
    )
    .await;
    let err = guard(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::NotFound);
    // No transport header (such as hyper's `date`) leaks into the trailing metadata of a
    // trailers-only response.
    assert!(err.trailing_metadata().is_empty(), "{:?}", err.trailing_metadata());
    server.stop(None).await;
}
