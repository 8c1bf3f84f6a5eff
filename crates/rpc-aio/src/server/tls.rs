//! TLS for server ports: a rustls configuration from `ServerCredentials` (ALPN `h2`,
//! optional or required client certificates), and the auth context of a TLS peer.

use rpc_core::{AuthContext, RpcError, ServerCredentials};
use std::sync::Arc;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

fn bad(what: &str, e: impl std::fmt::Display) -> RpcError {
    RpcError::invalid_argument(format!("invalid server TLS credentials: {what}: {e}"))
}

fn certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, RpcError> {
    let certs: Vec<_> = rustls_pemfile::certs(&mut &pem[..])
        .collect::<Result<_, _>>()
        .map_err(|e| bad(what, e))?;
    if certs.is_empty() {
        return Err(bad(what, "no CERTIFICATE block"));
    }
    Ok(certs)
}

fn key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, RpcError> {
    rustls_pemfile::private_key(&mut &pem[..])
        .map_err(|e| bad("private key", e))?
        .ok_or_else(|| bad("private key", "no PRIVATE KEY block"))
}

/// The rustls configuration for `credentials`, or `None` for plaintext.
pub(crate) fn server_config(credentials: &ServerCredentials) -> Result<Option<Arc<rustls::ServerConfig>>, RpcError> {
    let ServerCredentials::Ssl {
        pairs,
        root_certificates,
        require_client_auth,
    } = credentials
    else {
        return Ok(None);
    };
    let pair = pairs.first().ok_or_else(|| bad("key pairs", "none given"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| bad("protocol versions", e))?;
    let builder = match root_certificates {
        Some(roots_pem) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in certs(roots_pem, "root certificates")? {
                roots.add(cert).map_err(|e| bad("root certificates", e))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if *require_client_auth {
                verifier
            } else {
                verifier.allow_unauthenticated()
            };
            builder.with_client_cert_verifier(verifier.build().map_err(|e| bad("client verifier", e))?)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(certs(&pair.certificate_chain, "certificate chain")?, key(&pair.private_key)?)
        .map_err(|e| bad("key pair", e))?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Some(Arc::new(config)))
}

/// The auth context of a TLS connection: `transport_security_type` is `ssl`; a client
/// certificate, if one was presented and verified, is kept (DER) as `x509_der_cert`.
pub(crate) fn auth_context(connection: &rustls::ServerConnection) -> AuthContext {
    let mut auth = AuthContext::new();
    auth.add_property("transport_security_type", "ssl");
    if let Some(cert) = connection.peer_certificates().and_then(|c| c.first()) {
        auth.add_property("x509_der_cert", cert.as_ref());
    }
    auth
}
