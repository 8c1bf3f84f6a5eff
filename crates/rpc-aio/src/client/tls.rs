//! TLS for channels: the rustls client configuration from `ChannelCredentials::ssl` (the
//! roots to trust, an optional client identity for mutual TLS, ALPN `h2`) and the server
//! name to verify.

use rpc_core::SslChannelConfig;
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

/// The roots to trust when the credentials name none.
fn default_roots() -> Arc<rustls::RootCertStore> {
    Arc::new(rustls::RootCertStore::empty())
}

/// The client configuration for `ssl`, verifying the server as `server_name`.
pub(crate) fn client_config(ssl: &SslChannelConfig, server_name: &str) -> Result<(Arc<rustls::ClientConfig>, ServerName<'static>), String> {
    let roots = match &ssl.root_certificates {
        Some(pem) => {
            let mut store = rustls::RootCertStore::empty();
            for cert in certs(pem, "root certificates")? {
                store.add(cert).map_err(|e| format!("root certificates: {e}"))?;
            }
            Arc::new(store)
        }
        None => default_roots(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("protocol versions: {e}"))?
        .with_root_certificates(roots);
    let mut config = match (&ssl.private_key, &ssl.certificate_chain) {
        (Some(k), Some(chain)) => builder
            .with_client_auth_cert(certs(chain, "certificate chain")?, key(k)?)
            .map_err(|e| format!("client identity: {e}"))?,
        _ => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let name = ServerName::try_from(server_name.to_owned()).map_err(|e| format!("server name {server_name:?}: {e}"))?;
    Ok((Arc::new(config), name))
}
