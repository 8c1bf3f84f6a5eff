//! TLS on the rpc-aio server: `ServerCredentials::ssl` with a certificate made at test
//! time, called by an `rpc_aio::secure_channel` that trusts it; the handler sees an ssl
//! auth context; a plaintext client is not served.

use rpc_aio::{
    ChannelCredentials, ChannelOptions, RpcError, ServerCredentials, ServerOptions, ServicerContext, StatusCode, secure_channel,
};
use rpc_testkit::{Msg, UNARY, aio_channel, bounded, msg};

#[tokio::test]
async fn a_tls_server_serves_a_secure_channel() {
    let ck = rcgen::generate_simple_self_signed(vec!["test.example".to_owned()]).unwrap();
    let (cert, key) = (ck.cert.pem(), ck.signing_key.serialize_pem());
    let server = rpc_aio::server(ServerOptions::default());
    server.add_method_handler(
        UNARY,
        rpc_aio::unary_unary_rpc_method_handler(|m: Msg, ctx: ServicerContext| async move {
            let security = ctx
                .auth_context()
                .properties()
                .get("transport_security_type")
                .cloned()
                .unwrap_or_default();
            let security = security
                .first()
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_default();
            Ok::<_, RpcError>(msg(&format!("{}/{security}", m.text)))
        }),
    );
    let creds = ServerCredentials::ssl(&[(key.as_bytes(), cert.as_bytes())], None, false).unwrap();
    let port = server.add_secure_port("127.0.0.1:0", creds).unwrap();
    server.start().await.unwrap();
    let target = format!("127.0.0.1:{port}");

    let creds = ChannelCredentials::ssl(Some(cert.as_bytes()), None, None).unwrap();
    let ch = secure_channel(
        &target,
        creds,
        ChannelOptions::default().ssl_target_name_override("test.example".to_owned()),
    )
    .unwrap();
    for i in 0..3 {
        let resp = bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(msg(&i.to_string()))).await.unwrap();
        assert_eq!(resp.text, format!("{i}/ssl"));
    }

    // A plaintext client gets no answer from a TLS port (a status, not a hang).
    let err = bounded(aio_channel(&target).unary_unary::<Msg, Msg>(UNARY).call(msg("plain")))
        .await
        .unwrap_err();
    assert_ne!(err.code(), StatusCode::Ok);
    bounded(server.stop(None)).await;
}
