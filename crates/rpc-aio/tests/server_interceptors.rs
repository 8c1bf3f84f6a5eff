//! Server interceptors (chained in order, on the way in and out; one rejecting with
//! UNAUTHENTICATED), generic handlers (`GenericRpcHandler`,
//! `method_handlers_generic_handler`), and UNIMPLEMENTED for unknown methods and services.

use futures::future::BoxFuture;
use rpc_aio::{
    Continuation, GenericRpcHandler, HandlerCallDetails, Metadata, Request, RpcError, RpcMethodHandler, ServerInterceptor, ServerOptions,
    ServicerContext, StatusCode, method_handlers_generic_handler, unary_unary_rpc_method_handler,
};
use rpc_testkit::{Msg, UNARY, aio_channel, bounded, echo_handler, msg, serve_aio};
use std::sync::{Arc, Mutex};

type Log = Arc<Mutex<Vec<String>>>;

struct Recording {
    name: &'static str,
    log: Log,
}

impl ServerInterceptor for Recording {
    fn intercept_service(&self, next: Continuation, details: HandlerCallDetails) -> BoxFuture<'static, Option<RpcMethodHandler>> {
        let (name, log) = (self.name, self.log.clone());
        Box::pin(async move {
            log.lock().unwrap().push(format!("{name} in {}", details.method));
            let chosen = next.run(details).await;
            log.lock().unwrap().push(format!("{name} out"));
            chosen
        })
    }
}

struct RequireToken;

impl ServerInterceptor for RequireToken {
    fn intercept_service(&self, next: Continuation, details: HandlerCallDetails) -> BoxFuture<'static, Option<RpcMethodHandler>> {
        Box::pin(async move {
            if details.invocation_metadata.get_str("authorization") != Some("Bearer open-sesame") {
                return Some(RpcMethodHandler::abort(StatusCode::Unauthenticated, "missing or invalid token"));
            }
            next.run(details).await
        })
    }
}

#[tokio::test]
async fn interceptors_run_in_order_and_can_reject() {
    let log: Log = Arc::default();
    let handler_log = log.clone();
    let (server, target) = serve_aio(ServerOptions::default(), |s| {
        s.add_interceptor(Recording {
            name: "first",
            log: log.clone(),
        });
        s.add_interceptor(Recording {
            name: "second",
            log: log.clone(),
        });
        s.add_interceptor(RequireToken);
        s.add_method_handler(
            UNARY,
            unary_unary_rpc_method_handler(move |m: Msg, _ctx: ServicerContext| {
                let log = handler_log.clone();
                async move {
                    log.lock().unwrap().push("handler".into());
                    Ok::<_, RpcError>(m)
                }
            }),
        );
    })
    .await;
    let ch = aio_channel(&target);
    let md = Metadata::new().with("authorization", "Bearer open-sesame").unwrap();
    bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(Request::new(msg("x")).metadata(md)))
        .await
        .unwrap();
    assert_eq!(
        *log.lock().unwrap(),
        [
            "first in /test.Svc/Unary",
            "second in /test.Svc/Unary",
            "second out",
            "first out",
            "handler"
        ]
    );

    log.lock().unwrap().clear();
    let err = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap_err();
    assert_eq!(
        (err.code(), err.details()),
        (StatusCode::Unauthenticated, "missing or invalid token")
    );
    assert!(
        !log.lock().unwrap().contains(&"handler".to_owned()),
        "a rejected RPC never reaches the handler"
    );
    server.stop(None).await;
}

#[tokio::test]
async fn generic_handlers_serve_methods_and_unknown_ones_are_unimplemented() {
    let (server, target) = serve_aio(ServerOptions::default(), |s| {
        s.add_method_handler(UNARY, echo_handler());
        s.add_generic_rpc_handlers([
            method_handlers_generic_handler(
                "test.Generic",
                [(
                    "Shout",
                    unary_unary_rpc_method_handler(|m: Msg, _ctx: ServicerContext| async move {
                        Ok::<_, RpcError>(msg(&m.text.to_uppercase()))
                    }),
                )],
            ),
            GenericRpcHandler::new(|details| {
                let name = details.method.strip_prefix("/test.Any/")?.to_owned();
                Some(unary_unary_rpc_method_handler(move |_m: Msg, _ctx: ServicerContext| {
                    let name = name.clone();
                    async move { Ok::<_, RpcError>(msg(&format!("any:{name}"))) }
                }))
            }),
        ]);
    })
    .await;
    let ch = aio_channel(&target);
    let call = |path: &str, text: &str| ch.unary_unary::<Msg, Msg>(path).call(msg(text));
    assert_eq!(bounded(call(UNARY, "a")).await.unwrap().text, "echo:a");
    assert_eq!(bounded(call("/test.Generic/Shout", "hey")).await.unwrap().text, "HEY");
    assert_eq!(bounded(call("/test.Any/Whatever", "")).await.unwrap().text, "any:Whatever");
    for path in ["/test.Svc/Nope", "/test.Generic/Nope", "/no.Such/Service"] {
        let err = bounded(call(path, "")).await.unwrap_err();
        assert_eq!(err.code(), StatusCode::Unimplemented, "{path}: {err}");
    }
    // Handlers registered after start serve RPCs that arrive afterwards.
    server.add_registered_method_handlers("test.Late", [("Echo", echo_handler())]);
    assert_eq!(bounded(call("/test.Late/Echo", "b")).await.unwrap().text, "echo:b");
    server.stop(None).await;
}

#[tokio::test]
async fn an_interceptor_that_chooses_no_handler_gives_unimplemented() {
    struct Nothing;
    impl ServerInterceptor for Nothing {
        fn intercept_service(&self, _next: Continuation, _details: HandlerCallDetails) -> BoxFuture<'static, Option<RpcMethodHandler>> {
            Box::pin(async { None })
        }
    }
    let (server, target) = serve_aio(ServerOptions::default(), |s| {
        s.add_method_handler(UNARY, echo_handler());
        s.add_interceptor(Nothing);
    })
    .await;
    let err = bounded(aio_channel(&target).unary_unary::<Msg, Msg>(UNARY).call(msg("x")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), StatusCode::Unimplemented);
    server.stop(None).await;
}
