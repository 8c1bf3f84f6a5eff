//! TLS channels: server verification with given roots and a name override, and call
//! credentials sent over TLS.

use rpc_aio::{CallCredentials, ChannelCredentials, ChannelOptions, Request, StatusCode, secure_channel};
use rpc_testkit::{Msg, TonicPeer, UNARY, bounded, msg};

#[tokio::test]
async fn tls_with_name_override_and_call_credentials() {
    let ck = rcgen::generate_simple_self_signed(vec!["test.example".to_owned()]).unwrap();
    let (cert, key) = (ck.cert.pem(), ck.signing_key.serialize_pem());
    let server = TonicPeer::start_tls(&cert, &key);
    let port = server.port();
    let creds = ChannelCredentials::ssl(Some(cert.as_bytes()), None, None)
        .unwrap()
        .with_call_credentials(CallCredentials::access_token("t1"));
    let target = format!("127.0.0.1:{port}");
    let ch = secure_channel(
        &target,
        creds.clone(),
        ChannelOptions::default().ssl_target_name_override("test.example".to_owned()),
    )
    .unwrap();
    let resp = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(Request::new(msg("tls"))))
        .await
        .unwrap();
    assert_eq!(resp.text, "echo:tls");
    assert_eq!(server.probe().header("authorization").as_deref(), Some("Bearer t1"));

    // Without the override the certificate does not match the IP address: UNAVAILABLE.
    let ch = secure_channel(&target, creds, ChannelOptions::default()).unwrap();
    let err = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
}
