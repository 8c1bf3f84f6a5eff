//! `ChannelCredentials::insecure_skip_verify` (grpcurl's `-insecure`, for testing): a server
//! whose certificate no root vouches for, issued for another name, is reached; a client
//! certificate is still presented for mutual TLS; and the same server refuses, as before,
//! a channel that verifies.

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rpc_aio::{ChannelCredentials, ChannelOptions, RpcError, ServerCredentials, ServerOptions, StatusCode};
use std::time::Duration;

const PING: &str = "/skip.Verify/Ping";

/// A CA certificate (PEM) and a leaf it signed for `names` (certificate, key).
fn issue(names: &[&str]) -> (String, String, String) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    (ca_pem, leaf.pem(), key.serialize_pem())
}

/// A TLS server whose one method answers with how many client certificates it saw.
async fn serve(credentials: ServerCredentials) -> (rpc_aio::Server, u16) {
    let server = rpc_aio::server(ServerOptions::default());
    server.add_method_handler(
        PING,
        rpc_aio::unary_unary_rpc_method_handler(|_: (), context: rpc_core::ServicerContext| async move {
            let identities = context.peer_identities().map_or(0, |ids| ids.len());
            Ok::<u32, RpcError>(identities as u32)
        }),
    );
    let port = server.add_secure_port("127.0.0.1:0", credentials).unwrap();
    server.start().await.unwrap();
    (server, port)
}

async fn ping(port: u16, credentials: ChannelCredentials) -> Result<u32, RpcError> {
    // A name the certificate does not carry: only a verifying client cares.
    let options = ChannelOptions::default().ssl_target_name_override("not-the-name.example".to_owned());
    let channel = rpc_aio::secure_channel(&format!("127.0.0.1:{port}"), credentials, options)?;
    let request = rpc_core::Request::new(()).timeout(Duration::from_secs(30));
    channel.unary_unary::<(), u32>(PING).call(request).await
}

#[tokio::test]
async fn an_unverifiable_server_is_reached_only_when_told_to_skip_verification() {
    let (ca, cert, key) = issue(&["server.example"]);
    let (server, port) = serve(ServerCredentials::ssl(&[(key.as_bytes(), cert.as_bytes())], None, false).unwrap()).await;

    let seen = ping(port, ChannelCredentials::insecure_skip_verify(None, None).unwrap()).await;
    assert_eq!(seen.unwrap(), 0, "no client certificate was presented");

    // Verifying with the right CA fails on the name; with another CA on the issuer.
    let wrong_name = ping(port, ChannelCredentials::ssl(Some(ca.as_bytes()), None, None).unwrap()).await;
    assert_eq!(wrong_name.unwrap_err().code(), StatusCode::Unavailable);
    let (other_ca, _, _) = issue(&["server.example"]);
    let untrusted = ping(port, ChannelCredentials::ssl(Some(other_ca.as_bytes()), None, None).unwrap()).await;
    let error = untrusted.unwrap_err();
    assert_eq!(error.code(), StatusCode::Unavailable, "{error}");
    server.stop(None).await;
}

#[tokio::test]
async fn skipping_verification_still_presents_the_client_certificate() {
    let (_server_ca, server_cert, server_key) = issue(&["server.example"]);
    let (client_ca, client_cert, client_key) = issue(&["client.example"]);
    let credentials = ServerCredentials::ssl(&[(server_key.as_bytes(), server_cert.as_bytes())], Some(client_ca.as_bytes()), true).unwrap();
    let (server, port) = serve(credentials).await;

    let with_identity = ChannelCredentials::insecure_skip_verify(Some(client_key.as_bytes()), Some(client_cert.as_bytes())).unwrap();
    assert_eq!(ping(port, with_identity).await.unwrap(), 1, "the server saw client.example");
    let without = ping(port, ChannelCredentials::insecure_skip_verify(None, None).unwrap()).await;
    assert_eq!(
        without.unwrap_err().code(),
        StatusCode::Unavailable,
        "mutual TLS needs a client certificate"
    );
    server.stop(None).await;
}

#[test]
fn only_the_loud_constructor_skips_verification() {
    let verifying = ChannelCredentials::ssl(None, None, None).unwrap();
    let skipping = ChannelCredentials::insecure_skip_verify(None, None).unwrap();
    let flag = |c: &ChannelCredentials| match c.kind() {
        rpc_core::ChannelKind::Ssl(ssl) => ssl.insecure_skip_verify,
        other => panic!("not TLS: {other:?}"),
    };
    assert!(!flag(&verifying));
    assert!(flag(&skipping));
    assert!(format!("{skipping:?}").contains("insecure_skip_verify: true"));
    assert!(ChannelCredentials::insecure_skip_verify(Some(b"not a key"), Some(b"not a cert")).is_err());
}
