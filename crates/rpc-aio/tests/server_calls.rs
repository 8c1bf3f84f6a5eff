//! The rpc-aio server's servicer context around initial metadata, with async and blocking
//! handlers: sending it twice is an error (the both-faces behaviour of calls, metadata
//! included, is in `crates/testkit/tests/call_kinds.rs`).

use rpc_aio::{Metadata, ServerOptions, ServicerContext, unary_unary_rpc_method_handler};
use rpc_testkit::{Msg, UNARY, aio_channel, blocking_unary, bounded, msg, serve_aio};

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
    let ch = aio_channel(&target);
    for path in [UNARY, "/test.Blocking/Unary"] {
        let call = ch.unary_unary::<Msg, Msg>(path).call(msg(""));
        let initial = bounded(call.initial_metadata()).await.unwrap();
        assert_eq!(initial.get_str("x-first"), Some("1"));
        assert_eq!(initial.get_str("x-second"), None);
        assert_eq!(bounded(call).await.unwrap().text, "Err(Internal)", "{path}");
    }
    server.stop(None).await;
}
