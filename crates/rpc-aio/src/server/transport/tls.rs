//! TLS for server ports: a rustls configuration from `ServerCredentials` (ALPN `h2`,
//! optional or required client certificates, the key pair chosen by SNI), rebuilt when a
//! `CertificateHandle` replaces it, and the auth context of a TLS peer.

use rpc_core::{AuthContext, CertificateHandle, RpcError, ServerCredentials, SslServerConfig};
use std::sync::{Arc, Mutex};
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

/// Where a TLS port gets its rustls configuration: fixed when bound, or rebuilt from a
/// [`CertificateHandle`] whenever the handle's generation moves on.
pub(crate) enum TlsSource {
    Fixed(Arc<rustls::ServerConfig>),
    Reloadable {
        handle: CertificateHandle,
        built: Mutex<(u64, Arc<rustls::ServerConfig>)>,
    },
}

impl TlsSource {
    /// The configuration a handshake starting now uses.
    pub(crate) fn config(&self) -> Arc<rustls::ServerConfig> {
        match self {
            TlsSource::Fixed(c) => c.clone(),
            TlsSource::Reloadable { handle, built } => {
                let mut built = built.lock().unwrap_or_else(|p| p.into_inner());
                let (generation, current) = handle.current();
                if generation != built.0 {
                    match server_config(&current) {
                        Ok(config) => *built = (generation, config),
                        Err(e) => {
                            // `replace` checked what rustls checks; should it still refuse,
                            // the configuration in force stays.
                            tracing::error!("replaced server TLS credentials not usable, the previous ones stay: {e}");
                            built.0 = generation;
                        }
                    }
                }
                built.1.clone()
            }
        }
    }
}

/// Where a port with `credentials` gets its TLS configuration, or `None` for plaintext.
pub(crate) fn tls_source(credentials: &ServerCredentials) -> Result<Option<TlsSource>, RpcError> {
    match credentials {
        ServerCredentials::Ssl {
            pairs,
            root_certificates,
            require_client_auth,
        } => {
            let config = SslServerConfig {
                pairs: pairs.clone(),
                root_certificates: root_certificates.clone(),
                require_client_auth: *require_client_auth,
            };
            Ok(Some(TlsSource::Fixed(server_config(&config)?)))
        }
        ServerCredentials::Reloadable(handle) => {
            let (generation, current) = handle.current();
            let config = server_config(&current)?;
            Ok(Some(TlsSource::Reloadable {
                handle: handle.clone(),
                built: Mutex::new((generation, config)),
            }))
        }
        _ => Ok(None),
    }
}

/// The rustls configuration for one TLS configuration: ALPN `h2`, the key pairs chosen by SNI.
fn server_config(ssl: &SslServerConfig) -> Result<Arc<rustls::ServerConfig>, RpcError> {
    if ssl.pairs.is_empty() {
        return Err(bad("key pairs", "none given"));
    }
    let mut keys = Vec::new();
    for pair in &ssl.pairs {
        let chain = certs(&pair.certificate_chain, "certificate chain")?;
        let signer = rustls::crypto::ring::sign::any_supported_type(&key(&pair.private_key)?).map_err(|e| bad("private key", e))?;
        let names = dns_names(chain[0].as_ref());
        let certified = rustls::sign::CertifiedKey::new(chain, signer);
        certified.keys_match().map_err(|e| bad("key pair", e))?;
        keys.push((names, Arc::new(certified)));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| bad("protocol versions", e))?;
    let builder = match &ssl.root_certificates {
        Some(roots_pem) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in certs(roots_pem, "root certificates")? {
                roots.add(cert).map_err(|e| bad("root certificates", e))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if ssl.require_client_auth {
                verifier
            } else {
                verifier.allow_unauthenticated()
            };
            builder.with_client_cert_verifier(verifier.build().map_err(|e| bad("client verifier", e))?)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(Arc::new(BySni { keys }));
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// The key pairs of a port, each with the DNS names its certificate carries: the client's
/// SNI picks one, the first when none matches.
#[derive(Debug)]
struct BySni {
    keys: Vec<(Vec<String>, Arc<rustls::sign::CertifiedKey>)>,
}

impl BySni {
    fn choose(&self, server_name: Option<&str>) -> Option<&Arc<rustls::sign::CertifiedKey>> {
        let matching = server_name.and_then(|name| {
            self.keys
                .iter()
                .find(|(names, _)| names.iter().any(|pattern| dns_name_matches(pattern, name)))
        });
        matching.or(self.keys.first()).map(|(_, key)| key)
    }
}

impl rustls::server::ResolvesServerCert for BySni {
    fn resolve(&self, client_hello: rustls::server::ClientHello<'_>) -> Option<Arc<rustls::sign::CertifiedKey>> {
        self.choose(client_hello.server_name()).cloned()
    }
}

/// The DNS subject alternative names of a DER certificate (none when it does not parse:
/// the pair is then only ever the default).
fn dns_names(der: &[u8]) -> Vec<String> {
    use x509_parser::extensions::GeneralName;
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return Vec::new();
    };
    let Ok(Some(ext)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    ext.value
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DNSName(s) => Some(s.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// Whether a certificate's DNS name `pattern` covers the SNI `name` (ASCII case aside): the
/// same name, or `*.rest` for a name of one more label ending in `.rest`.
fn dns_name_matches(pattern: &str, name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(rest) => name.split_once('.').is_some_and(|(label, tail)| !label.is_empty() && tail == rest),
        None => pattern == name,
    }
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
    use super::{BySni, add_certificate, dns_name_matches, server_config};
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

    #[test]
    fn sni_picks_the_pair_naming_the_host_else_the_first() {
        let ca = rpc_testkit::pki::Ca::new("sni-ca");
        let now = rpc_testkit::pki::Validity::Now;
        let (a, b) = (ca.leaf("a", &["a.test"], now), ca.leaf("b", &["b.test", "*.wild.test"], now));
        let pairs = [&a, &b].map(|l| rpc_core::KeyCertPair {
            private_key: l.key.clone().into_bytes(),
            certificate_chain: l.cert.clone().into_bytes(),
        });
        let config = rpc_core::SslServerConfig {
            pairs: pairs.to_vec(),
            root_certificates: None,
            require_client_auth: false,
        };
        assert!(server_config(&config).is_ok());
        let resolver = BySni {
            keys: config
                .pairs
                .iter()
                .map(|p| {
                    let chain = super::certs(&p.certificate_chain, "chain").unwrap();
                    let names = super::dns_names(chain[0].as_ref());
                    let signer =
                        tokio_rustls::rustls::crypto::ring::sign::any_supported_type(&super::key(&p.private_key).unwrap()).unwrap();
                    (
                        names,
                        std::sync::Arc::new(tokio_rustls::rustls::sign::CertifiedKey::new(chain, signer)),
                    )
                })
                .collect(),
        };
        let leaf_of = |name: Option<&str>| resolver.choose(name).unwrap().cert[0].as_ref().to_vec();
        let (der_a, der_b) = (leaf_of(Some("a.test")), leaf_of(Some("b.test")));
        assert_ne!(der_a, der_b);
        assert_eq!(leaf_of(Some("B.Test")), der_b);
        assert_eq!(leaf_of(Some("x.wild.test")), der_b);
        assert_eq!(leaf_of(Some("other.test")), der_a, "no match: the first pair");
        assert_eq!(leaf_of(None), der_a, "no SNI: the first pair");
    }

    #[test]
    fn wildcards_cover_one_label() {
        assert!(dns_name_matches("a.test", "a.test."));
        assert!(dns_name_matches("*.wild.test", "x.wild.test"));
        assert!(!dns_name_matches("*.wild.test", "wild.test"));
        assert!(!dns_name_matches("*.wild.test", "y.x.wild.test"));
        assert!(!dns_name_matches("a.test", "b.test"));
    }
}
