//! TLS and mutual TLS in the blocking face: a blocking server requiring client
//! certificates, a blocking channel presenting one (the handler sees its identity), and a
//! channel without one refused with UNAVAILABLE saying why.

use rpc_sync::{ChannelCredentials, ChannelOptions, ServerCredentials, ServerOptions, ServicerContext, StatusCode};
use rpc_testkit::pki::{Ca, Validity};
use rpc_testkit::{Msg, msg};
use std::time::Duration;

#[test]
fn blocking_mtls_identity_and_refusal() {
    let ca = Ca::new("sync-ca");
    let server_leaf = ca.leaf("server", &["localhost"], Validity::Now);
    let server = rpc_sync::server(ServerOptions::default()).unwrap();
    server.add_method_handler(
        "/t.S/Who",
        rpc_sync::unary_unary_rpc_method_handler(|_: Msg, ctx: &ServicerContext| {
            let ids: Vec<String> = ctx
                .peer_identities()
                .unwrap_or_default()
                .iter()
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect();
            Ok(msg(&format!("{}={}", ctx.peer_identity_key().unwrap_or(""), ids.join(","))))
        }),
    );
    let creds = ServerCredentials::ssl(
        &[(server_leaf.key.as_bytes(), server_leaf.cert.as_bytes())],
        Some(ca.pem.as_bytes()),
        true,
    )
    .unwrap();
    let port = server.add_secure_port("127.0.0.1:0", creds).unwrap();
    server.start().unwrap();
    let target = format!("127.0.0.1:{port}");
    let options = || ChannelOptions::default().ssl_target_name_override("localhost".to_owned());
    let request = || rpc_sync::Request::new(Msg::default()).timeout(Duration::from_secs(10));

    let client = ca.leaf("sync-client", &["client.example"], Validity::Now);
    let creds = ChannelCredentials::ssl(Some(ca.pem.as_bytes()), Some(client.key.as_bytes()), Some(client.cert.as_bytes())).unwrap();
    let ch = rpc_sync::secure_channel(&target, creds, options()).unwrap();
    let reply = ch.unary_unary::<Msg, Msg>("/t.S/Who").call(request()).unwrap();
    assert_eq!(reply.text, "x509_subject_alternative_name=client.example");

    let anonymous = ChannelCredentials::ssl(Some(ca.pem.as_bytes()), None, None).unwrap();
    let ch = rpc_sync::secure_channel(&target, anonymous, options()).unwrap();
    let err = ch.unary_unary::<Msg, Msg>("/t.S/Who").call(request()).unwrap_err();
    assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
    // The reason is the server's alert when the client reads it before the connection
    // drops; with TLS 1.3 the client may already have sent its request and see only the
    // connection close (a known race, docs/security.md). Either way: UNAVAILABLE, no handler.
    assert!(
        err.details().contains("CertificateRequired") || err.details().contains("connection closed"),
        "{err}"
    );
    assert!(server.stop(None).wait(Some(Duration::from_secs(10))));
}
