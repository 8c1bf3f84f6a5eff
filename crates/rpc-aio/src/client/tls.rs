//! TLS for channels: the rustls client configuration from `ChannelCredentials::ssl` (the
//! roots to trust, an optional client identity for mutual TLS, ALPN `h2`) and the server
//! name to verify; or, for `ChannelCredentials::insecure_skip_verify` (testing only), a
//! verifier that accepts any certificate.

use rpc_core::{RpcError, SslChannelConfig};
use std::sync::Arc;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

fn certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<_> = rustls_pemfile::certs(&mut &pem[..])
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{what}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{what}: no CERTIFICATE block"));
    }
    Ok(certs)
}

fn key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, String> {
    rustls_pemfile::private_key(&mut &pem[..])
        .map_err(|e| format!("private key: {e}"))?
        .ok_or_else(|| "private key: no PRIVATE KEY block".to_owned())
}

/// The client configuration for `ssl`, verifying the server as `server_name`.
///
/// # Errors
/// INVALID_ARGUMENT for settings rustls refuses; FAILED_PRECONDITION when no roots are
/// given and the default roots cannot be loaded (see `roots.rs`).
pub(crate) fn client_config(
    ssl: &SslChannelConfig,
    server_name: &str,
) -> Result<(Arc<rustls::ClientConfig>, ServerName<'static>), RpcError> {
    let bad = |e: String| RpcError::invalid_argument(format!("invalid TLS configuration for {server_name:?}: {e}"));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(format!("protocol versions: {e}")))?;
    let builder = if ssl.insecure_skip_verify {
        versions
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyServerCertificate(provider)))
    } else {
        versions.with_root_certificates(roots(ssl, &bad)?)
    };
    let mut config = match (&ssl.private_key, &ssl.certificate_chain) {
        (Some(k), Some(chain)) => builder
            .with_client_auth_cert(certs(chain, "certificate chain").map_err(bad)?, key(k).map_err(bad)?)
            .map_err(|e| bad(format!("client identity: {e}")))?,
        _ => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let name = ServerName::try_from(server_name.to_owned()).map_err(|e| bad(format!("server name: {e}")))?;
    Ok((Arc::new(config), name))
}

/// The roots to verify the server with: the PEM given, or the process's defaults.
fn roots(ssl: &SslChannelConfig, bad: &dyn Fn(String) -> RpcError) -> Result<Arc<rustls::RootCertStore>, RpcError> {
    Ok(match &ssl.root_certificates {
        Some(pem) => {
            let mut store = rustls::RootCertStore::empty();
            for cert in certs(pem, "root certificates").map_err(bad)? {
                store.add(cert).map_err(|e| bad(format!("root certificates: {e}")))?;
            }
            Arc::new(store)
        }
        // Loaded once per process: see `roots.rs` for where they come from.
        None => {
            super::roots::default_roots()
                .map_err(|e| RpcError::failed_precondition(e.to_string()))?
                .store
        }
    })
}

/// The verifier of `ChannelCredentials::insecure_skip_verify` (testing only): any
/// certificate is accepted, whoever it names and whoever signed it; the handshake's
/// signatures are still checked against the certificate's key, with the provider's
/// algorithms, so the peer must hold the key of the certificate it shows.
#[derive(Debug)]
struct AnyServerCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyServerCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
