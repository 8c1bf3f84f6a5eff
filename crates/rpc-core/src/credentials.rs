//! Credentials: what secures a channel (TLS), what authenticates a call (tokens,
//! metadata plugins), and what a server presents; PEM input is checked when given.

use crate::error::RpcError;
use crate::metadata::Metadata;
use std::fmt;
use std::sync::Arc;

/// Why PEM input was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The bytes hold no PEM block of the expected kind.
    #[error("{what}: no PEM {expected} found")]
    NoPem {
        /// Which argument was wrong, e.g. "root_certificates".
        what: &'static str,
        /// What was expected, e.g. "CERTIFICATE block".
        expected: &'static str,
    },
    /// The PEM is malformed.
    #[error("{what}: malformed PEM: {reason}")]
    BadPem {
        /// Which argument was wrong.
        what: &'static str,
        /// The parser's reason.
        reason: String,
    },
    /// A key was given without a certificate chain, or the other way round.
    #[error("private_key and certificate_chain must be given together")]
    UnpairedKey,
    /// A server needs at least one key/certificate pair.
    #[error("server credentials need at least one private key and certificate chain pair")]
    NoKeyPairs,
    /// A server key pair is unusable: an unsupported key, or a key that does not belong
    /// to its certificate.
    #[error("bad key pair: {reason}")]
    BadPair {
        /// Why.
        reason: String,
    },
}

fn check_certs(what: &'static str, pem: &[u8]) -> Result<(), CredentialsError> {
    let mut reader = pem;
    let mut count = 0;
    for item in rustls_pemfile::certs(&mut reader) {
        item.map_err(|e| CredentialsError::BadPem {
            what,
            reason: e.to_string(),
        })?;
        count += 1;
    }
    if count == 0 {
        return Err(CredentialsError::NoPem {
            what,
            expected: "CERTIFICATE block",
        });
    }
    Ok(())
}

fn check_key(what: &'static str, pem: &[u8]) -> Result<(), CredentialsError> {
    let mut reader = pem;
    match rustls_pemfile::private_key(&mut reader) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(CredentialsError::NoPem {
            what,
            expected: "PRIVATE KEY block",
        }),
        Err(e) => Err(CredentialsError::BadPem {
            what,
            reason: e.to_string(),
        }),
    }
}

/// TLS settings of a channel: roots to trust and an optional client identity (mTLS).
#[derive(Clone, PartialEq, Eq)]
pub struct SslChannelConfig {
    /// PEM root certificates; `None` means the process's default roots (see
    /// [`ChannelCredentials::ssl`]).
    pub root_certificates: Option<Vec<u8>>,
    /// PEM private key of the client identity.
    pub private_key: Option<Vec<u8>>,
    /// PEM certificate chain of the client identity.
    pub certificate_chain: Option<Vec<u8>>,
    /// **Dangerous, for testing only**: accept any server certificate, unverified (see
    /// [`ChannelCredentials::insecure_skip_verify`]). `false` unless made by that constructor.
    pub insecure_skip_verify: bool,
}

impl fmt::Debug for SslChannelConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SslChannelConfig")
            .field("root_certificates", &self.root_certificates.as_ref().map(|_| ".."))
            .field("client_identity", &self.private_key.is_some())
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .finish()
    }
}

/// What secures a channel, plus call credentials to apply to every call.
#[derive(Clone, Debug)]
pub struct ChannelCredentials {
    kind: ChannelKind,
    call: Vec<CallCredentials>,
}

/// The transport security of a channel.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ChannelKind {
    /// Plaintext.
    Insecure,
    /// Plaintext to a local peer (loopback or a unix socket); call credentials are allowed.
    Local,
    /// TLS.
    Ssl(SslChannelConfig),
}

impl ChannelCredentials {
    /// TLS credentials; every argument is PEM and is checked now.
    ///
    /// A key and chain together present a client certificate (mutual TLS).
    ///
    /// `root_certificates = None` trusts the process's default roots, found as gRPC finds
    /// them: the PEM file named by `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH` when that variable is
    /// set (and nothing else); otherwise the operating system's store (the files named by
    /// `SSL_CERT_FILE` / `SSL_CERT_DIR` when set); and when that store is missing or empty,
    /// Mozilla's roots bundled with the channel crates (their `webpki-roots` feature, on by
    /// default). They are loaded once per process, by the first channel that needs them;
    /// when they cannot be loaded, making that channel fails (FAILED_PRECONDITION, saying
    /// why). `docs/security.md` ("Default roots") has the details.
    pub fn ssl(
        root_certificates: Option<&[u8]>,
        private_key: Option<&[u8]>,
        certificate_chain: Option<&[u8]>,
    ) -> Result<ChannelCredentials, CredentialsError> {
        if let Some(roots) = root_certificates {
            check_certs("root_certificates", roots)?;
        }
        match (private_key, certificate_chain) {
            (Some(k), Some(c)) => {
                check_key("private_key", k)?;
                check_certs("certificate_chain", c)?;
            }
            (None, None) => {}
            _ => return Err(CredentialsError::UnpairedKey),
        }
        Ok(ChannelCredentials {
            kind: ChannelKind::Ssl(SslChannelConfig {
                root_certificates: root_certificates.map(<[u8]>::to_vec),
                private_key: private_key.map(<[u8]>::to_vec),
                certificate_chain: certificate_chain.map(<[u8]>::to_vec),
                insecure_skip_verify: false,
            }),
            call: Vec::new(),
        })
    }

    /// **Dangerous: for testing only.** TLS that accepts whatever certificate the server
    /// presents, without checking that it chains to a trusted root, names the server, or is
    /// in date (grpcurl's `-insecure`, Go's `InsecureSkipVerify`). The connection is
    /// encrypted, and the handshake's signatures are still checked against the presented
    /// key, but anyone between client and server can pose as the server: never use it
    /// where the network is not yours. A key and chain together still present a client
    /// certificate (mutual TLS); both are PEM and are checked now.
    pub fn insecure_skip_verify(
        private_key: Option<&[u8]>,
        certificate_chain: Option<&[u8]>,
    ) -> Result<ChannelCredentials, CredentialsError> {
        let mut credentials = ChannelCredentials::ssl(None, private_key, certificate_chain)?;
        if let ChannelKind::Ssl(ssl) = &mut credentials.kind {
            ssl.insecure_skip_verify = true;
        }
        Ok(credentials)
    }

    /// Plaintext credentials for a local peer (loopback or unix socket): call credentials are permitted.
    pub fn local() -> ChannelCredentials {
        ChannelCredentials {
            kind: ChannelKind::Local,
            call: Vec::new(),
        }
    }

    /// Plaintext credentials: call credentials are refused on such a channel.
    pub fn insecure() -> ChannelCredentials {
        ChannelCredentials {
            kind: ChannelKind::Insecure,
            call: Vec::new(),
        }
    }

    /// These credentials with call credentials applied to every call (gRPC's `composite_channel_credentials`).
    pub fn with_call_credentials(mut self, call: CallCredentials) -> ChannelCredentials {
        self.call.push(call);
        self
    }

    /// The transport security.
    pub fn kind(&self) -> &ChannelKind {
        &self.kind
    }

    /// The call credentials applied to every call.
    pub fn call_credentials(&self) -> &[CallCredentials] {
        &self.call
    }

    /// Whether call credentials may be sent over this channel (TLS or local).
    pub fn permits_call_credentials(&self) -> bool {
        !matches!(self.kind, ChannelKind::Insecure)
    }
}

/// What a metadata plugin is told about the call it authenticates.
#[derive(Clone, Debug)]
pub struct AuthMetadataContext {
    /// `scheme://authority/package.Service`.
    pub service_url: String,
    /// The method name (without the service).
    pub method_name: String,
}

/// A source of per-call authentication metadata (gRPC's `AuthMetadataPlugin`).
///
/// It is called once per call, on the runtime that makes the call: it should be quick
/// (fetch tokens in the background and return a cached one).
pub trait AuthMetadataPlugin: Send + Sync + 'static {
    /// The metadata to add to the call, or an error that fails the call
    /// (its code is kept; gRPC uses UNAUTHENTICATED or UNAVAILABLE).
    fn get_metadata(&self, context: &AuthMetadataContext) -> Result<Metadata, RpcError>;
}

/// Credentials applied to one call, or to every call of a channel.
#[derive(Clone)]
pub struct CallCredentials {
    parts: Vec<CallPart>,
}

#[derive(Clone)]
enum CallPart {
    AccessToken(String),
    Plugin(Arc<dyn AuthMetadataPlugin>),
}

impl CallCredentials {
    /// Sends `authorization: Bearer <token>`.
    pub fn access_token(token: impl Into<String>) -> CallCredentials {
        CallCredentials {
            parts: vec![CallPart::AccessToken(token.into())],
        }
    }

    /// Calls `plugin` for each call and adds its metadata.
    pub fn metadata_plugin(plugin: impl AuthMetadataPlugin) -> CallCredentials {
        CallCredentials {
            parts: vec![CallPart::Plugin(Arc::new(plugin))],
        }
    }

    /// Both sets of credentials, applied in order (gRPC's `composite_call_credentials`).
    pub fn composite(mut self, other: CallCredentials) -> CallCredentials {
        self.parts.extend(other.parts);
        self
    }

    /// Computes the metadata to add to a call.
    pub fn metadata(&self, context: &AuthMetadataContext) -> Result<Metadata, RpcError> {
        let mut md = Metadata::new();
        for part in &self.parts {
            match part {
                CallPart::AccessToken(token) => md.add("authorization", format!("Bearer {token}"))?,
                CallPart::Plugin(plugin) => md.extend(plugin.get_metadata(context)?),
            }
        }
        Ok(md)
    }
}

impl fmt::Debug for CallCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self
            .parts
            .iter()
            .map(|p| match p {
                CallPart::AccessToken(_) => "access_token",
                CallPart::Plugin(_) => "metadata_plugin",
            })
            .collect();
        f.debug_tuple("CallCredentials").field(&names).finish()
    }
}

/// One PEM private key and its certificate chain.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyCertPair {
    /// PEM private key.
    pub private_key: Vec<u8>,
    /// PEM certificate chain.
    pub certificate_chain: Vec<u8>,
}

impl fmt::Debug for KeyCertPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyCertPair(..)")
    }
}

/// Whether local credentials (a [`ChannelCredentials::local`] channel, a
/// [`ServerCredentials::local`] port) accept a TCP peer at `ip`: a loopback address, IPv4
/// (`127.0.0.0/8`) or IPv6 (`::1`), including an IPv4 loopback address mapped into IPv6
/// (`::ffff:127.0.0.1`). A Unix-socket peer is always local. The one rule both sides apply.
pub fn is_local_peer(ip: std::net::IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// What a server presents on a port.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ServerCredentials {
    /// Plaintext.
    Insecure,
    /// Plaintext to local peers only (gRPC's `local_server_credentials`): a connection from
    /// a Unix socket or a loopback address is served, any other is closed at once (see
    /// [`is_local_peer`]).
    Local,
    /// TLS, optionally requiring client certificates.
    Ssl {
        /// The server's identities: the one whose certificate names the host the client
        /// asks for (TLS SNI) is presented, the first when none does.
        pairs: Vec<KeyCertPair>,
        /// PEM roots that client certificates must chain to.
        root_certificates: Option<Vec<u8>>,
        /// Whether a client must present a valid certificate.
        require_client_auth: bool,
    },
    /// TLS whose key pairs and client roots a [`CertificateHandle`] replaces while the
    /// server runs (see [`ServerCredentials::ssl_reloadable`]).
    Reloadable(CertificateHandle),
}

/// The TLS configuration of a server port at one moment: what [`ServerCredentials::Ssl`]
/// holds, as a [`CertificateHandle`] hands it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SslServerConfig {
    /// The key pairs, chosen by SNI as for [`ServerCredentials::Ssl`] (never empty).
    pub pairs: Vec<KeyCertPair>,
    /// PEM roots that client certificates must chain to.
    pub root_certificates: Option<Vec<u8>>,
    /// Whether a client must present a valid certificate (fixed when the handle is made).
    pub require_client_auth: bool,
}

impl SslServerConfig {
    fn checked(
        pairs: &[(&[u8], &[u8])],
        root_certificates: Option<&[u8]>,
        require_client_auth: bool,
    ) -> Result<SslServerConfig, CredentialsError> {
        if pairs.is_empty() {
            return Err(CredentialsError::NoKeyPairs);
        }
        let mut out = Vec::new();
        for (key, chain) in pairs {
            check_key("private_key", key)?;
            check_certs("certificate_chain", chain)?;
            check_pair(key, chain)?;
            out.push(KeyCertPair {
                private_key: key.to_vec(),
                certificate_chain: chain.to_vec(),
            });
        }
        if let Some(roots) = root_certificates {
            check_certs("root_certificates", roots)?;
            check_roots(roots)?;
        }
        if require_client_auth && root_certificates.is_none() {
            return Err(CredentialsError::NoPem {
                what: "root_certificates",
                expected: "CERTIFICATE block (required with require_client_auth)",
            });
        }
        Ok(SslServerConfig {
            pairs: out,
            root_certificates: root_certificates.map(<[u8]>::to_vec),
            require_client_auth,
        })
    }
}

/// Checks that `key` is a key rustls can sign with and that it belongs to the first
/// certificate of `chain` (both already known to be PEM).
fn check_pair(key: &[u8], chain: &[u8]) -> Result<(), CredentialsError> {
    let bad = |reason: String| CredentialsError::BadPair { reason };
    let key = rustls_pemfile::private_key(&mut &key[..])
        .ok()
        .flatten()
        .ok_or_else(|| bad("no private key".to_owned()))?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut &chain[..]).filter_map(Result::ok).collect();
    let signer = rustls::crypto::ring::sign::any_supported_type(&key).map_err(|e| bad(format!("unsupported private key: {e}")))?;
    rustls::sign::CertifiedKey::new(certs, signer)
        .keys_match()
        .map_err(|e| bad(format!("the private key does not belong to the certificate: {e}")))
}

/// Checks that each root certificate is one rustls can trust (parses as X.509).
fn check_roots(roots: &[u8]) -> Result<(), CredentialsError> {
    let mut store = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut &roots[..]).filter_map(Result::ok) {
        store.add(cert).map_err(|e| CredentialsError::BadPem {
            what: "root_certificates",
            reason: e.to_string(),
        })?;
    }
    Ok(())
}

impl ServerCredentials {
    /// TLS server credentials; PEM is checked now, and each private key must belong to
    /// its chain's first certificate. `pairs` are `(private_key, certificate_chain)`;
    /// with several, the client's SNI chooses (the pair whose certificate has a DNS SAN
    /// matching the name, wildcards `*.example.com` included), the first pair when none
    /// matches or the client sends no name.
    pub fn ssl(
        pairs: &[(&[u8], &[u8])],
        root_certificates: Option<&[u8]>,
        require_client_auth: bool,
    ) -> Result<ServerCredentials, CredentialsError> {
        let c = SslServerConfig::checked(pairs, root_certificates, require_client_auth)?;
        Ok(ServerCredentials::Ssl {
            pairs: c.pairs,
            root_certificates: c.root_certificates,
            require_client_auth: c.require_client_auth,
        })
    }

    /// TLS server credentials whose key pairs and client roots can be replaced while the
    /// server runs (gRPC Python's `dynamic_ssl_server_credentials`): the arguments are
    /// those of [`ssl`](Self::ssl), checked the same way; the handle replaces them. New
    /// handshakes use what the handle holds when they start; connections already made keep
    /// theirs. One handle may serve several ports.
    pub fn ssl_reloadable(
        pairs: &[(&[u8], &[u8])],
        root_certificates: Option<&[u8]>,
        require_client_auth: bool,
    ) -> Result<(ServerCredentials, CertificateHandle), CredentialsError> {
        let config = SslServerConfig::checked(pairs, root_certificates, require_client_auth)?;
        let handle = CertificateHandle {
            inner: Arc::new(std::sync::Mutex::new((0, Arc::new(config)))),
        };
        Ok((ServerCredentials::Reloadable(handle.clone()), handle))
    }

    /// Plaintext for local peers only (gRPC Python's `local_server_credentials`): on a
    /// `unix:` port every peer is local; on a TCP port a connection from anything but a
    /// loopback address is closed as soon as it is accepted (logged at `info`). Handlers
    /// see `transport_security_type` `local` in the auth context.
    ///
    /// gRPC's `LocalConnectionType` (UDS or LOCAL_TCP) is not taken: both kinds of local
    /// peer are accepted, the rule of [`ChannelCredentials::local`] too.
    pub fn local() -> ServerCredentials {
        ServerCredentials::Local
    }

    /// Plaintext.
    pub fn insecure() -> ServerCredentials {
        ServerCredentials::Insecure
    }
}

/// Replaces the key pairs and client roots of [`ServerCredentials::ssl_reloadable`]
/// credentials while the server runs. Cloning gives another handle on the same
/// configuration.
#[derive(Clone)]
pub struct CertificateHandle {
    inner: Arc<std::sync::Mutex<(u64, Arc<SslServerConfig>)>>,
}

impl fmt::Debug for CertificateHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (generation, config) = self.current();
        f.debug_struct("CertificateHandle")
            .field("generation", &generation)
            .field("pairs", &config.pairs.len())
            .finish()
    }
}

impl CertificateHandle {
    /// Replaces the key pairs and the client roots (`require_client_auth` stays as made).
    /// Handshakes that start from now on present the new pairs and check client
    /// certificates against the new roots; connections made before are not touched.
    ///
    /// # Errors
    /// What [`ServerCredentials::ssl`] refuses (bad PEM, a key that does not belong to
    /// its certificate, no pair, no roots while client certificates are required); the
    /// configuration in force is then kept.
    pub fn replace(&self, pairs: &[(&[u8], &[u8])], root_certificates: Option<&[u8]>) -> Result<(), CredentialsError> {
        let require = self.current().1.require_client_auth;
        let config = SslServerConfig::checked(pairs, root_certificates, require)?;
        let mut slot = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *slot = (slot.0 + 1, Arc::new(config));
        Ok(())
    }

    /// The configuration new handshakes use now, with its generation: 0 as made, one more
    /// at each successful [`replace`](Self::replace).
    pub fn current(&self) -> (u64, Arc<SslServerConfig>) {
        let slot = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        (slot.0, slot.1.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::is_local_peer;

    #[test]
    fn local_credentials_accept_only_loopback_peers() {
        // Parsed, never connected to: the addresses outside loopback are documentation ranges.
        for local in ["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1", "::ffff:127.9.9.9"] {
            assert!(is_local_peer(local.parse().unwrap()), "{local}");
        }
        for remote in [
            "192.0.2.7",
            "198.51.100.1",
            "0.0.0.0",
            "::",
            "2001:db8::1",
            "::ffff:192.0.2.7",
            "fe80::1",
        ] {
            assert!(!is_local_peer(remote.parse().unwrap()), "{remote}");
        }
    }
}
