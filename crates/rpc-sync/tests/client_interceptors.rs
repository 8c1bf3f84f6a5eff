//! Blocking client interceptors: metadata in order, changing method/timeout/request,
//! short-circuits and errors, wrapping responses, panics, blocking inside an interceptor,
//! and `intercept_channel` sharing its channel's connection.

use rpc_sync::{AnyMessage, ClientCallDetails, ClientInterceptor, Next, Request, Responses, RpcError, StatusCode, intercept_channel};
use rpc_testkit::{BIDI, CLIENT_STREAM, Msg, SERVER_STREAM, TonicPeer, UNARY, md, msg, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn tagging(tag: &'static str, order: Arc<Mutex<Vec<&'static str>>>) -> impl ClientInterceptor {
    move |mut details: ClientCallDetails, next: Next| {
        order.lock().unwrap().push(tag);
        details.metadata.add("x-user", tag)?;
        next.run(details)
    }
}

#[test]
fn interceptors_add_metadata_in_order_for_every_kind() {
    let peer = TonicPeer::start();
    let order = Arc::new(Mutex::new(Vec::new()));
    let ch = intercept_channel(
        &sync_channel(&peer.target()),
        [tagging("first", order.clone()), tagging("second", order.clone())],
    );
    let (reply, call) = ch.unary_unary::<Msg, Msg>(UNARY).with_call(msg("x")).unwrap();
    assert_eq!(reply.text, "echo:x");
    assert_eq!(call.initial_metadata().get_str("x-echo"), Some("first"));
    assert_eq!(*order.lock().unwrap(), ["first", "second"]);
    assert_eq!(peer.probe().headers("x-user"), ["first", "second"]);

    let streamed = ch.unary_stream::<Msg, Msg>(SERVER_STREAM).call(Msg { n: 2, ..msg("") }).count();
    assert_eq!(streamed, 2);
    assert_eq!(ch.stream_unary::<Msg, Msg>(CLIENT_STREAM).call(vec![msg("a")]).unwrap().text, "a");
    assert_eq!(ch.stream_stream::<Msg, Msg>(BIDI).call(vec![msg("b")]).count(), 1);
    assert_eq!(order.lock().unwrap().len(), 8);
    assert_eq!(peer.probe().calls(), 4);
}

#[test]
fn interceptors_change_method_timeout_and_request() {
    let peer = TonicPeer::start();
    let ch = rpc_sync::Channel::builder(&peer.target())
        .interceptor(|mut details: ClientCallDetails, next: Next| {
            if details.method == "/test.Svc/Renamed" {
                details.method = UNARY.to_owned();
            }
            if let Some(m) = details.request.as_mut().and_then(|r| r.downcast_mut::<Msg>()) {
                m.text = format!("{}+", m.text);
            }
            details.set_timeout(Duration::from_secs(30));
            next.run(details)
        })
        .build()
        .unwrap();
    assert_eq!(
        ch.unary_unary::<Msg, Msg>("/test.Svc/Renamed").call(msg("r")).unwrap().text,
        "echo:r+"
    );
    let sent = peer.probe().header("grpc-timeout").expect("grpc-timeout set by the interceptor");
    assert!(rpc_core::timeout::parse_grpc_timeout(sent.as_bytes()).unwrap() <= Duration::from_secs(30));
}

#[test]
fn short_circuits_and_errors_send_nothing() {
    let peer = TonicPeer::start();
    let ch = intercept_channel(
        &sync_channel(&peer.target()),
        [|details: ClientCallDetails, next: Next| {
            if details.method == UNARY {
                Ok(Responses::single(msg("cached")))
            } else if details.method == CLIENT_STREAM {
                Err(RpcError::permission_denied("blocked by interceptor"))
            } else {
                next.run(details)
            }
        }],
    );
    assert_eq!(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x")).unwrap().text, "cached");
    let err = ch.stream_unary::<Msg, Msg>(CLIENT_STREAM).call(vec![msg("a")]).unwrap_err();
    assert_eq!(err.code(), StatusCode::PermissionDenied);
    assert_eq!(peer.probe().calls(), 0);
    assert_eq!(ch.stream_stream::<Msg, Msg>(BIDI).call(vec![msg("b")]).count(), 1);
    assert_eq!(peer.probe().calls(), 1);
}

#[test]
fn interceptors_wrap_the_responses() {
    let peer = TonicPeer::start();
    let ch = intercept_channel(
        &sync_channel(&peer.target()),
        [|details: ClientCallDetails, next: Next| {
            let responses = next.run(details)?;
            Ok(Responses::from_iter(responses.map(|r| {
                r.map(|mut m: AnyMessage| {
                    if let Some(msg) = m.downcast_mut::<Msg>() {
                        msg.text = format!("wrapped:{}", msg.text);
                    }
                    m
                })
            })))
        }],
    );
    let got: Vec<String> = ch
        .stream_stream::<Msg, Msg>(BIDI)
        .call(vec![msg("a"), msg("b")])
        .map(|r| r.unwrap().text)
        .collect();
    assert_eq!(got, ["wrapped:echo:a", "wrapped:echo:b"]);
    assert_eq!(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("u")).unwrap().text, "wrapped:echo:u");
    let err = ch
        .unary_unary::<Msg, Msg>(UNARY)
        .call(Request::new(msg("x")).metadata(md(&[("x-fail", "5")])))
        .unwrap_err();
    assert_eq!(err.code(), StatusCode::NotFound);
}

#[test]
fn an_interceptor_may_block_and_make_calls_and_a_panic_is_internal() {
    let peer = TonicPeer::start();
    let base = sync_channel(&peer.target());
    let lookup = base.unary_unary::<Msg, Msg>(UNARY);
    let ch = intercept_channel(
        &base,
        [Arc::new(move |mut details: ClientCallDetails, next: Next| {
            let token = lookup.call(msg("token"))?;
            details.metadata.add("x-user", token.text)?;
            next.run(details)
        }) as Arc<dyn ClientInterceptor>],
    );
    let (_, call) = ch.unary_unary::<Msg, Msg>(UNARY).with_call(msg("x")).unwrap();
    assert_eq!(call.initial_metadata().get_str("x-echo"), Some("echo:token"));

    let panicking = intercept_channel(
        &base,
        [|_: ClientCallDetails, _: Next| -> Result<Responses, RpcError> { panic!("boom") }],
    );
    let err = panicking.unary_unary::<Msg, Msg>(UNARY).call(msg("x")).unwrap_err();
    assert_eq!(err.code(), StatusCode::Internal);
    assert!(err.details().contains("boom"), "{err}");
}

#[test]
fn intercept_channel_shares_the_connection() {
    let peer = TonicPeer::start();
    let base = sync_channel(&peer.target());
    let order = Arc::new(Mutex::new(Vec::new()));
    let view = intercept_channel(&base, [tagging("outer", order.clone())]);
    assert_eq!(view.unary_unary::<Msg, Msg>(UNARY).call(msg("x")).unwrap().text, "echo:x");
    assert_eq!(base.get_state(false), rpc_sync::ChannelConnectivity::Ready);
    drop(view);
    // The base does not run the view's interceptor and stays open.
    base.unary_unary::<Msg, Msg>(UNARY).call(msg("y")).unwrap();
    assert_eq!(*order.lock().unwrap(), ["outer"]);
    let view = intercept_channel(&base, [tagging("outer", order.clone())]);
    view.close(None);
    assert_eq!(
        base.unary_unary::<Msg, Msg>(UNARY).call(msg("z")).unwrap_err().code(),
        StatusCode::Cancelled
    );
}
