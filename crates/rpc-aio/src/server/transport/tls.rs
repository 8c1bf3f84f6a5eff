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

/// The auth context of a TLS connection, as gRPC builds it: `transport_security_type` is
/// `ssl`; a verified client certificate adds `x509_common_name` (the subject's CN),
/// `x509_subject_alternative_name` (each DNS, URI, e-mail and IP SAN), `x509_der_cert`, and
/// makes the SANs the peer identity, or the CN when there is no SAN.
pub(crate) fn auth_context(connection: &rustls::ServerConnection) -> AuthContext {
    let mut auth = AuthContext::new();
    auth.add_property("transport_security_type", "ssl");
    if let Some(cert) = connection.peer_certificates().and_then(|c| c.first()) {
        add_certificate(&mut auth, cert.as_ref());
    }
    auth
}

/// Adds the properties of one DER client certificate (already verified by rustls).
pub(crate) fn add_certificate(auth: &mut AuthContext, der: &[u8]) {
    use x509_parser::extensions::GeneralName;
    auth.add_property("x509_der_cert", der);
    let cert = match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => cert,
        Err(e) => {
            tracing::debug!("client certificate not parsed for the auth context: {e}");
            return;
        }
    };
    let cn: Vec<String> = cert
        .subject()
        .iter_common_name()
        .filter_map(|a| a.as_str().ok().map(str::to_owned))
        .collect();
    for name in &cn {
        auth.add_property("x509_common_name", name.as_str());
    }
    let mut sans = 0;
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            let value = match name {
                GeneralName::DNSName(s) | GeneralName::URI(s) | GeneralName::RFC822Name(s) => (*s).to_owned(),
                GeneralName::IPAddress(b) => match ip_text(b) {
                    Some(ip) => ip,
                    None => continue,
                },
                _ => continue,
            };
            auth.add_property("x509_subject_alternative_name", value);
            sans += 1;
        }
    }
    if sans > 0 {
        auth.set_peer_identity_key("x509_subject_alternative_name");
    } else if !cn.is_empty() {
        auth.set_peer_identity_key("x509_common_name");
    }
}

fn ip_text(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => Some(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(bytes).ok()?).to_string()),
        16 => Some(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?).to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::add_certificate;
    use rpc_core::AuthContext;

    fn cert(cn: &str, sans: Vec<String>) -> Vec<u8> {
        let mut params = rcgen::CertificateParams::new(sans).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, cn);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn sans_are_the_identity_when_present_else_the_common_name() {
        let mut auth = AuthContext::new();
        add_certificate(&mut auth, &cert("client-1", vec!["a.example".into(), "127.0.0.1".into()]));
        assert_eq!(auth.peer_identity_key(), Some("x509_subject_alternative_name"));
        assert_eq!(auth.peer_identities(), Some(vec![b"a.example".to_vec(), b"127.0.0.1".to_vec()]));
        assert_eq!(auth.properties()["x509_common_name"], vec![b"client-1".to_vec()]);

        let mut auth = AuthContext::new();
        add_certificate(&mut auth, &cert("client-2", vec![]));
        assert_eq!(auth.peer_identity_key(), Some("x509_common_name"));
        assert_eq!(auth.peer_identities(), Some(vec![b"client-2".to_vec()]));
        assert!(!auth.properties().contains_key("x509_subject_alternative_name"));

        let mut auth = AuthContext::new();
        add_certificate(&mut auth, b"not a certificate");
        assert_eq!(auth.peer_identity_key(), None);
        assert_eq!(auth.properties()["x509_der_cert"].len(), 1);
    }
}
