//! Client interceptors: metadata added, order, short-circuit, error, response wrapping.

use futures::StreamExt;
use rpc_aio::{AnyMessage, Channel, ClientCallDetails, Next, Responses, RpcError, StatusCode};
use rpc_testkit::{BIDI, CLIENT_STREAM, Msg, SERVER_STREAM, TonicPeer, UNARY, bounded, msg};
use std::sync::{Arc, Mutex};

fn tagging(tag: &'static str, order: Arc<Mutex<Vec<&'static str>>>) -> impl rpc_aio::ClientInterceptor {
    move |mut details: ClientCallDetails, next: Next| {
        order.lock().unwrap().push(tag);
        async move {
            details.metadata.add("x-user", tag).unwrap();
            next.run(details).await
        }
    }
}

#[tokio::test]
async fn interceptors_add_metadata_in_order() {
    let server = TonicPeer::start();
    let order = Arc::new(Mutex::new(Vec::new()));
    let ch = Channel::builder(&server.target())
        .interceptor(tagging("first", order.clone()))
        .interceptor(tagging("second", order.clone()))
        .build()
        .unwrap();
    let call = ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"));
    let initial = bounded(call.initial_metadata()).await.unwrap();
    assert_eq!(bounded(call).await.unwrap().text, "echo:x");
    assert_eq!(*order.lock().unwrap(), ["first", "second"]);
    assert_eq!(server.probe().headers("x-user"), ["first", "second"]);
    assert_eq!(initial.get_str("x-echo"), Some("first"));
}

#[tokio::test]
async fn short_circuit_and_error_send_nothing() {
    let server = TonicPeer::start();
    let ch = Channel::builder(&server.target())
        .interceptor(|details: ClientCallDetails, next: Next| async move {
            if details.method.ends_with("/Unary") {
                Ok(Responses::single(Msg {
                    text: "cached".into(),
                    ..Default::default()
                }))
            } else if details.method.ends_with("/ClientStream") {
                Err(RpcError::permission_denied("blocked by interceptor"))
            } else {
                next.run(details).await
            }
        })
        .build()
        .unwrap();
    assert_eq!(
        bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap().text,
        "cached"
    );
    let err = bounded(ch.stream_unary::<Msg, Msg>(CLIENT_STREAM).call(vec![msg("a")]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), StatusCode::PermissionDenied);
    assert_eq!(server.probe().calls(), 0);
    let n = bounded(ch.unary_stream::<Msg, Msg>(SERVER_STREAM).call(Msg { n: 2, ..msg("") }).count()).await;
    assert_eq!(n, 2);
    assert_eq!(server.probe().calls(), 1);
}

#[tokio::test]
async fn response_stream_wrapping() {
    let server = TonicPeer::start();
    let ch = Channel::builder(&server.target())
        .interceptor(|details: ClientCallDetails, next: Next| async move {
            let responses = next.run(details).await?;
            Ok(rpc_aio::Responses::from_stream(responses.map(|r| {
                r.map(|mut m: AnyMessage| {
                    if let Some(msg) = m.downcast_mut::<Msg>() {
                        msg.text = format!("wrapped:{}", msg.text);
                    }
                    m
                })
            })))
        })
        .build()
        .unwrap();
    let got: Vec<String> = bounded(
        ch.stream_stream::<Msg, Msg>(BIDI)
            .call(vec![msg("a"), msg("b")])
            .map(|r| r.unwrap().text)
            .collect(),
    )
    .await;
    assert_eq!(got, ["wrapped:echo:a", "wrapped:echo:b"]);
    let call = ch.unary_unary::<Msg, Msg>(UNARY).call(msg("u"));
    assert_eq!(bounded(call).await.unwrap().text, "wrapped:echo:u");
}

#[tokio::test]
async fn interceptors_can_change_method_and_timeout() {
    let server = TonicPeer::start();
    let ch = Channel::builder(&server.target())
        .interceptor(|mut details: ClientCallDetails, next: Next| async move {
            if details.method == "/test.Svc/Renamed" {
                details.method = UNARY.to_owned();
            }
            if let Some(m) = details.request.as_mut().and_then(|r| r.downcast_mut::<Msg>()) {
                m.text = format!("{}+", m.text);
            }
            details.set_timeout(std::time::Duration::from_secs(30));
            next.run(details).await
        })
        .build()
        .unwrap();
    assert_eq!(
        bounded(ch.unary_unary::<Msg, Msg>("/test.Svc/Renamed").call(msg("r")))
            .await
            .unwrap()
            .text,
        "echo:r+"
    );
    let sent = server.probe().header("grpc-timeout").expect("grpc-timeout set by the interceptor");
    assert!(rpc_core::timeout::parse_grpc_timeout(sent.as_bytes()).unwrap() <= std::time::Duration::from_secs(30));
}

#[tokio::test]
async fn a_deadline_shortened_by_an_interceptor_is_enforced() {
    let server = TonicPeer::start();
    let ch = Channel::builder(&server.target())
        .interceptor(|mut details: ClientCallDetails, next: Next| async move {
            details.set_timeout(std::time::Duration::from_millis(100));
            next.run(details).await
        })
        .build()
        .unwrap();
    let call = ch.unary_stream::<Msg, Msg>(SERVER_STREAM).call(Msg { n: -1, ..msg("") });
    let results: Vec<_> = bounded(call.collect::<Vec<_>>()).await;
    let err = results
        .into_iter()
        .find_map(Result::err)
        .expect("the endless stream ends with an error");
    assert_eq!(err.code(), StatusCode::DeadlineExceeded, "{err}");
}

#[tokio::test]
async fn with_interceptors_wraps_a_channel_and_shares_its_connection() {
    let server = TonicPeer::start();
    let order = Arc::new(Mutex::new(Vec::new()));
    let base = Channel::builder(&server.target())
        .interceptor(tagging("inner", order.clone()))
        .build()
        .unwrap();
    let outer = base.with_interceptors([Arc::new(tagging("outer", order.clone())) as Arc<dyn rpc_aio::ClientInterceptor>]);
    assert_eq!(
        bounded(outer.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap().text,
        "echo:x"
    );
    assert_eq!(*order.lock().unwrap(), ["outer", "inner"]);
    // The base channel keeps only its own interceptor.
    order.lock().unwrap().clear();
    bounded(base.unary_unary::<Msg, Msg>(UNARY).call(msg("y"))).await.unwrap();
    assert_eq!(*order.lock().unwrap(), ["inner"]);
    // One connection: the view sees the base's state, and dropping the view leaves it open.
    assert_eq!(outer.get_state(false), rpc_aio::ChannelConnectivity::Ready);
    drop(outer);
    bounded(base.unary_unary::<Msg, Msg>(UNARY).call(msg("z"))).await.unwrap();
    // Closing the base closes the view too.
    let view = base.with_interceptors([]);
    bounded(base.close(None)).await;
    let err = bounded(view.unary_unary::<Msg, Msg>(UNARY).call(msg("w"))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Cancelled, "{err}");
}
