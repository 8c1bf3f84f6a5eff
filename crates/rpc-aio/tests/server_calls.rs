//! The rpc-aio server's four kinds of method, async and blocking handlers: messages,
//! metadata both ways (text and `-bin`), initial metadata sent early (once only), and
//! trailing metadata on OK and on error.

mod common;

use common::*;
use futures::StreamExt;
use rpc_aio::{
    Metadata, MetadataValue, Request, RequestStream, ResponseIterator, ResponseStream, RpcError, RpcMethodHandler, ServerOptions,
    ServicerContext, StatusCode, WriteRequests, stream_stream_rpc_method_handler, stream_unary_rpc_method_handler,
    unary_stream_rpc_method_handler, unary_unary_rpc_method_handler,
};
use std::sync::Arc;
use std::time::Duration;

/// Echoes `x-user` and `x-data-bin` back in initial metadata, and sets trailers.
fn reply_metadata(ctx: &ServicerContext) -> Metadata {
    let md = ctx.invocation_metadata();
    let mut out = Metadata::new();
    if let Some(v) = md.get("x-user") {
        out.add("x-echo", v.clone()).unwrap();
    }
    if let Some(v) = md.get("x-data-bin") {
        out.add("x-echo-bin", v.clone()).unwrap();
    }
    out
}

fn set_trailers(ctx: &ServicerContext) {
    ctx.add_trailing_metadata("x-trail", "done").unwrap();
    ctx.add_trailing_metadata("x-trail-bin", vec![9u8, 0, 255]).unwrap();
}

fn fail_code(ctx: &ServicerContext) -> Option<StatusCode> {
    ctx.invocation_metadata()
        .get_str("x-fail")
        .and_then(|s| s.parse::<i32>().ok())
        .map(StatusCode::from_i32)
}

/// The handlers of one service, async ones.
fn async_handlers() -> Vec<(&'static str, RpcMethodHandler)> {
    vec![
        (
            "Unary",
            unary_unary_rpc_method_handler(|m: Msg, ctx: ServicerContext| async move {
                ctx.send_initial_metadata(reply_metadata(&ctx))?;
                set_trailers(&ctx);
                if let Some(code) = fail_code(&ctx) {
                    return Err(RpcError::new(code, "failed on request"));
                }
                Ok(Msg {
                    text: format!("echo:{}", m.text),
                    ..m
                })
            }),
        ),
        (
            "ServerStream",
            unary_stream_rpc_method_handler(|m: Msg, ctx: ServicerContext| async move {
                ctx.send_initial_metadata(reply_metadata(&ctx))?;
                set_trailers(&ctx);
                Ok(ResponseStream::from_messages((0..m.n).map(|i| Msg { n: i, ..msg("") })))
            }),
        ),
        (
            "ClientStream",
            stream_unary_rpc_method_handler(|mut s: RequestStream<Msg>, ctx: ServicerContext| async move {
                ctx.send_initial_metadata(reply_metadata(&ctx))?;
                set_trailers(&ctx);
                let mut texts = Vec::new();
                while let Some(m) = s.next().await {
                    texts.push(m?.text);
                }
                Ok(Msg {
                    n: texts.len() as i32,
                    ..msg(&texts.join(","))
                })
            }),
        ),
        (
            "Bidi",
            stream_stream_rpc_method_handler(|s: RequestStream<Msg>, ctx: ServicerContext| async move {
                ctx.send_initial_metadata(reply_metadata(&ctx))?;
                set_trailers(&ctx);
                Ok(ResponseStream::new(s.map(|r| r.map(|m| msg(&format!("echo:{}", m.text))))))
            }),
        ),
    ]
}

/// The same service, with blocking handlers.
fn blocking_handlers() -> Vec<(&'static str, RpcMethodHandler)> {
    vec![
        (
            "Unary",
            blocking_unary(|m, ctx| {
                ctx.send_initial_metadata(reply_metadata(ctx))?;
                set_trailers(ctx);
                if let Some(code) = fail_code(ctx) {
                    return Err(RpcError::new(code, "failed on request"));
                }
                Ok(Msg {
                    text: format!("echo:{}", m.text),
                    ..m
                })
            }),
        ),
        (
            "ServerStream",
            blocking_unary_stream(|m, ctx| {
                ctx.send_initial_metadata(reply_metadata(ctx))?;
                set_trailers(ctx);
                Ok(ResponseIterator::from_messages((0..m.n).map(|i| Msg { n: i, ..msg("") })))
            }),
        ),
        (
            "ClientStream",
            blocking_stream_unary(|requests, ctx| {
                ctx.send_initial_metadata(reply_metadata(ctx))?;
                set_trailers(ctx);
                let texts = requests.map(|r| r.map(|m| m.text)).collect::<Result<Vec<_>, _>>()?;
                Ok(Msg {
                    n: texts.len() as i32,
                    ..msg(&texts.join(","))
                })
            }),
        ),
        (
            "Bidi",
            blocking_stream_stream(|requests, ctx| {
                ctx.send_initial_metadata(reply_metadata(ctx))?;
                set_trailers(ctx);
                Ok(ResponseIterator::new(requests.map(|r| r.map(|m| msg(&format!("echo:{}", m.text))))))
            }),
        ),
    ]
}

async fn server_with_both() -> (rpc_aio::Server, String) {
    serve_aio(ServerOptions::default(), |s| {
        s.add_registered_method_handlers("test.Async", async_handlers());
        s.add_registered_method_handlers("test.Blocking", blocking_handlers());
    })
    .await
}

fn request_metadata() -> Metadata {
    Metadata::new()
        .with("x-user", "ada")
        .unwrap()
        .with("x-data-bin", vec![0u8, 1, 254, 255])
        .unwrap()
}

fn assert_echoed(initial: &Metadata) {
    assert_eq!(initial.get_str("x-echo"), Some("ada"), "{initial:?}");
    assert_eq!(
        initial.get("x-echo-bin"),
        Some(&MetadataValue::Binary(vec![0u8, 1, 254, 255].into()))
    );
}

fn assert_trailers(trailing: &Metadata) {
    assert_eq!(trailing.get_str("x-trail"), Some("done"), "{trailing:?}");
    assert_eq!(trailing.get("x-trail-bin"), Some(&MetadataValue::Binary(vec![9u8, 0, 255].into())));
}

#[tokio::test]
async fn four_kinds_with_metadata_both_ways_async_and_blocking() {
    let (server, target) = server_with_both().await;
    let ch = channel(&target);
    for service in ["test.Async", "test.Blocking"] {
        let path = |m: &str| format!("/{service}/{m}");

        let call = ch
            .unary_unary::<Msg, Msg>(&path("Unary"))
            .call(Request::new(msg("hi")).metadata(request_metadata()));
        assert_echoed(&guard(call.initial_metadata()).await.unwrap());
        assert_trailers(&guard(call.trailing_metadata()).await);
        assert_eq!(guard(call).await.unwrap().text, "echo:hi", "{service}");

        let mut call = ch
            .unary_stream::<Msg, Msg>(&path("ServerStream"))
            .call(Request::new(Msg { n: 3, ..msg("") }).metadata(request_metadata()));
        assert_echoed(&guard(call.initial_metadata()).await.unwrap());
        let mut got = Vec::new();
        while let Some(m) = guard(call.read()).await.unwrap() {
            got.push(m.n);
        }
        assert_eq!(got, vec![0, 1, 2], "{service}");
        assert_eq!(guard(call.code()).await, StatusCode::Ok);
        assert_trailers(&guard(call.trailing_metadata()).await);

        let call = ch
            .stream_unary::<Msg, Msg>(&path("ClientStream"))
            .call(Request::new(vec![msg("a"), msg("b"), msg("c")]).metadata(request_metadata()));
        assert_echoed(&guard(call.initial_metadata()).await.unwrap());
        assert_trailers(&guard(call.trailing_metadata()).await);
        let resp = guard(call).await.unwrap();
        assert_eq!((resp.text.as_str(), resp.n), ("a,b,c", 3), "{service}");

        let mut call = ch
            .stream_stream::<Msg, Msg>(&path("Bidi"))
            .call(Request::new(WriteRequests).metadata(request_metadata()));
        for i in 0..3 {
            guard(call.write(msg(&i.to_string()))).await.unwrap();
            assert_eq!(guard(call.read()).await.unwrap().unwrap().text, format!("echo:{i}"), "{service}");
        }
        assert_echoed(&guard(call.initial_metadata()).await.unwrap());
        guard(call.done_writing()).await.unwrap();
        assert!(guard(call.read()).await.unwrap().is_none());
        assert_eq!(guard(call.code()).await, StatusCode::Ok);
        assert_trailers(&guard(call.trailing_metadata()).await);
    }
    server.stop(None).await;
}

#[tokio::test]
async fn trailing_metadata_on_error_async_and_blocking() {
    let (server, target) = server_with_both().await;
    let ch = channel(&target);
    for service in ["test.Async", "test.Blocking"] {
        let md = request_metadata().with("x-fail", "9").unwrap();
        let call = ch
            .unary_unary::<Msg, Msg>(&format!("/{service}/Unary"))
            .call(Request::new(msg("x")).metadata(md));
        let initial = guard(call.initial_metadata()).await;
        let err = guard(call).await.unwrap_err();
        assert_eq!(err.code(), StatusCode::FailedPrecondition, "{service}: {err}");
        assert_eq!(err.details(), "failed on request");
        assert_trailers(err.trailing_metadata());
        // The early initial metadata still reaches the client: in the headers, or in the
        // trailers-only response if the handler failed before the headers went out.
        let echoed = match initial {
            Ok(md) if !md.is_empty() => md,
            _ if !err.initial_metadata().is_empty() => err.initial_metadata().clone(),
            _ => err.trailing_metadata().clone(),
        };
        assert_eq!(echoed.get_str("x-echo"), Some("ada"), "{service}: {err:?}");
    }
    server.stop(None).await;
}

#[tokio::test]
async fn initial_metadata_goes_out_before_the_handler_returns() {
    // The handlers send initial metadata, then wait until the client has seen it: if it
    // were held back until the response, both sides would wait on each other.
    let released = Arc::new(tokio::sync::Notify::new());
    let (r1, r2) = (released.clone(), released.clone());
    let (server, target) = serve_aio(ServerOptions::default(), move |s| {
        s.add_method_handler(
            UNARY,
            unary_unary_rpc_method_handler(move |m: Msg, ctx: ServicerContext| {
                let released = r1.clone();
                async move {
                    ctx.send_initial_metadata(Metadata::new().with("x-early", "yes")?)?;
                    tokio::time::timeout(Duration::from_secs(30), released.notified())
                        .await
                        .map_err(|_| RpcError::internal("never released"))?;
                    Ok(m)
                }
            }),
        );
        s.add_method_handler(
            "/test.Blocking/Unary",
            blocking_unary(move |m, ctx| {
                ctx.send_initial_metadata(Metadata::new().with("x-early", "yes")?)?;
                let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
                rt.block_on(async { tokio::time::timeout(Duration::from_secs(30), r2.notified()).await })
                    .map_err(|_| RpcError::internal("never released"))?;
                Ok(m)
            }),
        );
    })
    .await;
    let ch = channel(&target);
    for path in [UNARY, "/test.Blocking/Unary"] {
        let call = ch.unary_unary::<Msg, Msg>(path).call(msg("early"));
        let initial = guard(call.initial_metadata()).await.unwrap();
        assert_eq!(initial.get_str("x-early"), Some("yes"), "{path}");
        assert!(!call.done());
        // notify_one stores a permit, so the release is not lost if the handler is not waiting yet.
        released.notify_one();
        assert_eq!(guard(call).await.unwrap().text, "early", "{path}");
    }
    server.stop(None).await;
}

#[tokio::test]
async fn sending_initial_metadata_twice_is_an_error() {
    let (server, target) = serve_aio(ServerOptions::default(), |s| {
        s.add_method_handler(
            UNARY,
            unary_unary_rpc_method_handler(|_m: Msg, ctx: ServicerContext| async move {
                ctx.send_initial_metadata(Metadata::new().with("x-first", "1")?)?;
                let second = ctx.send_initial_metadata(Metadata::new().with("x-second", "2")?);
                Ok(msg(&format!("{:?}", second.map_err(|e| e.code()))))
            }),
        );
        s.add_method_handler(
            "/test.Blocking/Unary",
            blocking_unary(|_m, ctx| {
                ctx.send_initial_metadata(Metadata::new().with("x-first", "1")?)?;
                let second = ctx.send_initial_metadata(Metadata::new().with("x-second", "2")?);
                Ok(msg(&format!("{:?}", second.map_err(|e| e.code()))))
            }),
        );
    })
    .await;
    let ch = channel(&target);
    for path in [UNARY, "/test.Blocking/Unary"] {
        let call = ch.unary_unary::<Msg, Msg>(path).call(msg(""));
        let initial = guard(call.initial_metadata()).await.unwrap();
        assert_eq!(initial.get_str("x-first"), Some("1"));
        assert_eq!(initial.get_str("x-second"), None);
        assert_eq!(guard(call).await.unwrap().text, "Err(Internal)", "{path}");
    }
    server.stop(None).await;
}
