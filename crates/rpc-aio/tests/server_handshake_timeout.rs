//! `ServerOptions::handshake_timeout` on a TLS port: a client that completes the TLS
//! handshake and then never sends its HTTP/2 preface is disconnected, as is one that never
//! starts the TLS handshake; a client that completes both is served. (The plaintext cases,
//! on both faces, are in the testkit's `server_connection_management.rs`.)

use rpc_aio::{ChannelCredentials, ChannelOptions, ServerCredentials, ServerOptions, secure_channel};
use rpc_testkit::{Msg, SvcStub, bounded, echo_handler, msg};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_rustls::rustls;

const NAME: &str = "test.example";

/// Reads (whatever the server sends) until the server closes the connection.
async fn closed_by_the_server(mut stream: impl AsyncRead + Unpin) {
    let mut buf = [0u8; 1024];
    // Bounded: a server sends a few frames at most before it gives up on this client.
    for _ in 0..64 {
        match stream.read(&mut buf).await {
            Ok(0) => return,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset) => return,
            Err(e) => panic!("reading from the server: {e}"),
        }
    }
    panic!("the server kept writing");
}

#[tokio::test]
async fn a_tls_client_that_sends_no_http2_preface_is_disconnected() {
    bounded(async {
        let ck = rcgen::generate_simple_self_signed(vec![NAME.to_owned()]).unwrap();
        let (cert, key) = (ck.cert.pem(), ck.signing_key.serialize_pem());
        let server = rpc_aio::server(ServerOptions::default().handshake_timeout(Duration::from_millis(200)));
        server.add_method_handler(rpc_testkit::UNARY, echo_handler());
        let creds = ServerCredentials::ssl(&[(key.as_bytes(), cert.as_bytes())], None, false).unwrap();
        let port = server.add_secure_port("127.0.0.1:0", creds).unwrap();
        server.start().await.unwrap();
        let target = format!("127.0.0.1:{port}");

        // TLS done, then silence.
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ck.cert.der().clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec()];
        let tcp = tokio::net::TcpStream::connect(&target).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from(NAME).unwrap();
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .expect("the TLS handshake completes");
        closed_by_the_server(tls).await;

        // No TLS handshake at all.
        closed_by_the_server(tokio::net::TcpStream::connect(&target).await.unwrap()).await;

        // A client that completes both is served.
        let creds = ChannelCredentials::ssl(Some(cert.as_bytes()), None, None).unwrap();
        let ch = secure_channel(&target, creds, ChannelOptions::default().ssl_target_name_override(NAME.to_owned())).unwrap();
        let reply: Msg = SvcStub::new(ch).unary(msg("hi")).await.unwrap();
        assert_eq!(reply.text, "echo:hi");
        server.stop(None).await;
    })
    .await;
}
