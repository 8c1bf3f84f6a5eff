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

/// What a server presents on a port.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ServerCredentials {
    /// Plaintext.
    Insecure,
    /// TLS, optionally requiring client certificates.
    Ssl {
        /// The server's identities (the first is used).
        pairs: Vec<KeyCertPair>,
        /// PEM roots that client certificates must chain to.
        root_certificates: Option<Vec<u8>>,
        /// Whether a client must present a valid certificate.
        require_client_auth: bool,
    },
}

impl ServerCredentials {
    /// TLS server credentials; PEM is checked now. `pairs` are `(private_key, certificate_chain)`.
    pub fn ssl(
        pairs: &[(&[u8], &[u8])],
        root_certificates: Option<&[u8]>,
        require_client_auth: bool,
    ) -> Result<ServerCredentials, CredentialsError> {
        if pairs.is_empty() {
            return Err(CredentialsError::NoKeyPairs);
        }
        let mut out = Vec::new();
        for (key, chain) in pairs {
            check_key("private_key", key)?;
            check_certs("certificate_chain", chain)?;
            out.push(KeyCertPair {
                private_key: key.to_vec(),
                certificate_chain: chain.to_vec(),
            });
        }
        if let Some(roots) = root_certificates {
            check_certs("root_certificates", roots)?;
        }
        if require_client_auth && root_certificates.is_none() {
            return Err(CredentialsError::NoPem {
                what: "root_certificates",
                expected: "CERTIFICATE block (required with require_client_auth)",
            });
        }
        Ok(ServerCredentials::Ssl {
            pairs: out,
            root_certificates: root_certificates.map(<[u8]>::to_vec),
            require_client_auth,
        })
    }

    /// Plaintext.
    pub fn insecure() -> ServerCredentials {
        ServerCredentials::Insecure
    }
}
