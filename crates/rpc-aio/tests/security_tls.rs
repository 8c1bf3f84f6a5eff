//! TLS and mutual TLS between the rpc-aio client and server: the auth context a handler
//! sees (CN, each SAN, the peer identity), and every way a handshake can be refused
//! (wrong CA, wrong host name, expired or not-yet-valid certificates, a missing client
//! certificate) failing the call with UNAVAILABLE and a message that says why.

use rpc_aio::{ChannelCredentials, ChannelOptions, Request, RpcError, ServerCredentials, ServerOptions, StatusCode, secure_channel};
use rpc_testkit::pki::{Ca, Leaf, Validity};
use rpc_testkit::{Msg, Style, UNARY, bounded, md, msg, serve_service};

fn server_creds(ca: Option<&Ca>, leaf: &Leaf, require_client_auth: bool) -> ServerCredentials {
    ServerCredentials::ssl(
        &[(leaf.key.as_bytes(), leaf.cert.as_bytes())],
        ca.map(|c| c.pem.as_bytes()),
        require_client_auth,
    )
    .unwrap()
}

async fn whoami(port: u16, roots: &Ca, client: Option<&Leaf>, name: &str) -> Result<String, RpcError> {
    let creds = ChannelCredentials::ssl(
        Some(roots.pem.as_bytes()),
        client.map(|c| c.key.as_bytes()),
        client.map(|c| c.cert.as_bytes()),
    )
    .unwrap();
    let options = ChannelOptions::default().ssl_target_name_override(name.to_owned());
    let ch = secure_channel(&format!("127.0.0.1:{port}"), creds, options).unwrap();
    let request = Request::new(msg("")).metadata(md(&[("x-whoami", "1")]));
    bounded(ch.unary_unary::<Msg, Msg>(UNARY).call(request)).await.map(|m| m.text)
}

fn assert_unavailable_because(result: Result<String, RpcError>, why: &[&str]) {
    let err = result.expect_err("the handshake should have been refused");
    assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
    let text = err.details().to_lowercase();
    assert!(
        why.iter().any(|w| text.contains(&w.to_lowercase())),
        "the message should say why ({why:?}): {err}"
    );
}

#[tokio::test]
async fn mtls_auth_context_carries_common_name_each_san_and_the_peer_identity() {
    let ca = Ca::new("test-ca");
    let server_leaf = ca.leaf("server", &["localhost"], Validity::Now);
    let (server, port, _) = serve_service(Style::Async, ServerOptions::default(), server_creds(Some(&ca), &server_leaf, true)).await;

    let with_sans = ca.leaf("client-1", &["client-1.example", "10.1.2.3"], Validity::Now);
    let seen = whoami(port, &ca, Some(&with_sans), "localhost").await.unwrap();
    assert_eq!(
        seen,
        "type=ssl;cn=client-1;san=client-1.example,10.1.2.3;key=x509_subject_alternative_name;ids=client-1.example,10.1.2.3"
    );

    let cn_only = ca.leaf("client-2", &[], Validity::Now);
    let seen = whoami(port, &ca, Some(&cn_only), "localhost").await.unwrap();
    assert_eq!(seen, "type=ssl;cn=client-2;san=;key=x509_common_name;ids=client-2");
    server.stop(None).await;
}

#[tokio::test]
async fn tls_without_client_certificate_is_ssl_with_no_identity() {
    let ca = Ca::new("test-ca");
    let leaf = ca.leaf("server", &["localhost"], Validity::Now);
    let (server, port, _) = serve_service(Style::Async, ServerOptions::default(), server_creds(Some(&ca), &leaf, false)).await;
    let seen = whoami(port, &ca, None, "localhost").await.unwrap();
    assert_eq!(seen, "type=ssl;cn=;san=;key=;ids=");
    server.stop(None).await;
}

#[tokio::test]
async fn client_refuses_a_server_signed_by_another_ca() {
    let (ca, other) = (Ca::new("test-ca"), Ca::new("other-ca"));
    let leaf = ca.leaf("server", &["localhost"], Validity::Now);
    let (server, port, counts) = serve_service(Style::Async, ServerOptions::default(), server_creds(None, &leaf, false)).await;
    assert_unavailable_because(whoami(port, &other, None, "localhost").await, &["unknown issuer", "UnknownIssuer"]);
    assert_eq!(counts.calls(), 0);
    server.stop(None).await;
}

#[tokio::test]
async fn client_refuses_a_server_certificate_for_another_host_name() {
    let ca = Ca::new("test-ca");
    let leaf = ca.leaf("server", &["localhost"], Validity::Now);
    let (server, port, counts) = serve_service(Style::Async, ServerOptions::default(), server_creds(None, &leaf, false)).await;
    assert_unavailable_because(
        whoami(port, &ca, None, "elsewhere.example").await,
        &["not valid for name", "NotValidForName"],
    );
    assert_eq!(counts.calls(), 0);
    server.stop(None).await;
}

#[tokio::test]
async fn client_refuses_expired_and_not_yet_valid_server_certificates() {
    let ca = Ca::new("test-ca");
    for (validity, why) in [(Validity::Expired, "expired"), (Validity::NotYetValid, "not valid yet")] {
        let leaf = ca.leaf("server", &["localhost"], validity);
        let (server, port, counts) = serve_service(Style::Async, ServerOptions::default(), server_creds(None, &leaf, false)).await;
        assert_unavailable_because(whoami(port, &ca, None, "localhost").await, &[why, &why.replace(' ', "")]);
        assert_eq!(counts.calls(), 0);
        server.stop(None).await;
    }
}

#[tokio::test]
async fn server_refuses_missing_expired_and_foreign_client_certificates() {
    let (ca, other) = (Ca::new("test-ca"), Ca::new("other-ca"));
    let leaf = ca.leaf("server", &["localhost"], Validity::Now);
    let (server, port, counts) = serve_service(Style::Async, ServerOptions::default(), server_creds(Some(&ca), &leaf, true)).await;
    assert_unavailable_because(
        whoami(port, &ca, None, "localhost").await,
        // Or, when the client's request raced the alert (TLS 1.3), the connection's close.
        &["certificate required", "CertificateRequired", "connection closed"],
    );
    let expired = ca.leaf("client", &[], Validity::Expired);
    assert_unavailable_because(
        whoami(port, &ca, Some(&expired), "localhost").await,
        &["certificate expired", "CertificateExpired"],
    );
    let foreign = other.leaf("client", &[], Validity::Now);
    assert_unavailable_because(
        whoami(port, &ca, Some(&foreign), "localhost").await,
        &["unknown ca", "UnknownCA", "bad certificate", "BadCertificate"],
    );
    assert_eq!(counts.calls(), 0, "no refused client reached a handler");
    // The server still serves a client with a good certificate.
    let good = ca.leaf("client", &[], Validity::Now);
    assert!(whoami(port, &ca, Some(&good), "localhost").await.unwrap().contains("cn=client"));
    server.stop(None).await;
}
