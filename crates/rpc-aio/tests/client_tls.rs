//! TLS channels: server verification with given roots and a name override, and call
//! credentials sent over TLS.

mod common;

use common::*;
use rpc_aio::{CallCredentials, ChannelCredentials, ChannelOptions, Request, StatusCode, secure_channel};
use tonic::transport::{Identity, ServerTlsConfig};

#[tokio::test]
async fn tls_with_name_override_and_call_credentials() {
    let ck = rcgen::generate_simple_self_signed(vec!["test.example".to_owned()]).unwrap();
    let (cert, key) = (ck.cert.pem(), ck.signing_key.serialize_pem());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(Seen::default());
    let svc = TestService(seen.clone());
    let tls = ServerTlsConfig::new().identity(Identity::from_pem(&cert, &key));
    let task = tokio::spawn(async move {
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
        let _ = tonic::transport::Server::builder()
            .tls_config(tls)
            .unwrap()
            .add_service(svc)
            .serve_with_incoming(incoming)
            .await;
    });
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
    let resp = guard(ch.unary_unary::<Msg, Msg>(UNARY).call(Request::new(msg("tls"))))
        .await
        .unwrap();
    assert_eq!(resp.text, "echo:tls");
    assert_eq!(seen.header("authorization").as_deref(), Some("Bearer t1"));

    // Without the override the certificate does not match the IP address: UNAVAILABLE.
    let ch = secure_channel(&target, creds, ChannelOptions::default()).unwrap();
    let err = guard(ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"))).await.unwrap_err();
    assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
    task.abort();
}
