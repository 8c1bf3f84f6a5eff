//! The default TLS roots of a channel: what `ChannelCredentials::ssl(None, ..)` trusts.
//! Looked for where gRPC looks, in its order, and loaded once per process.
//!
//! 1. The PEM file named by `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`, when that variable is set
//!    and not empty. It replaces every other source; a file that cannot be read or holds
//!    no usable certificate is an error (gRPC's C core logs it and falls through to the
//!    system store; here an explicitly named file is never silently widened).
//! 2. The operating system's store (`rustls-native-certs`, which reads `SSL_CERT_FILE` and
//!    `SSL_CERT_DIR` instead when either is set).
//! 3. Mozilla's roots bundled in the binary (`webpki-roots`, the `webpki-roots` cargo
//!    feature, on by default), when the system store is missing or empty.
//!
//! With none of them there are no default roots, which is an error too: every handshake
//! would fail with an unknown issuer.
//!
//! This module knows nothing of tonic: it hands out a rustls [`RootCertStore`], for
//! whichever transport builds the TLS client configuration.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use tokio_rustls::rustls::RootCertStore;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, TrustAnchor};

/// The environment variable naming a PEM file of roots that replaces every other source.
pub(crate) const ROOTS_FILE_VAR: &str = "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH";

/// Where the default roots came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RootsSource {
    /// The PEM file named by `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`.
    RootsFile(PathBuf),
    /// The operating system's store (or the files named by `SSL_CERT_FILE` / `SSL_CERT_DIR`).
    System,
    /// Mozilla's roots bundled by the `webpki-roots` feature.
    Bundled,
}

impl fmt::Display for RootsSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RootsSource::RootsFile(path) => write!(f, "{ROOTS_FILE_VAR}={}", path.display()),
            RootsSource::System => f.write_str("the system store"),
            RootsSource::Bundled => f.write_str("the bundled webpki roots"),
        }
    }
}

/// The default roots of this process and where they came from. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct DefaultRoots {
    /// The trust anchors, shared by every channel that uses the default roots.
    pub(crate) store: Arc<RootCertStore>,
    /// Where they came from.
    pub(crate) source: RootsSource,
}

/// Why there are no default roots. Not cached: the next channel tries again.
#[derive(Debug)]
pub(crate) enum RootsError {
    /// The file named by `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH` could not be read.
    Read { path: PathBuf, error: io::Error },
    /// That file is not valid PEM.
    BadPem { path: PathBuf, reason: String },
    /// That file holds no certificate usable as a root (`refused` were found but not usable).
    NoCertificates { path: PathBuf, refused: usize },
    /// No file named, an empty system store, and no bundled roots.
    NoRoots,
}

impl fmt::Display for RootsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RootsError::Read { path, error } => {
                write!(f, "default TLS roots: cannot read {ROOTS_FILE_VAR}={}: {error}", path.display())
            }
            RootsError::BadPem { path, reason } => {
                write!(
                    f,
                    "default TLS roots: {ROOTS_FILE_VAR}={} is not valid PEM: {reason}",
                    path.display()
                )
            }
            RootsError::NoCertificates { path, refused } => write!(
                f,
                "default TLS roots: {ROOTS_FILE_VAR}={} holds no certificate usable as a root ({refused} refused)",
                path.display()
            ),
            RootsError::NoRoots => write!(
                f,
                "no default TLS roots: {ROOTS_FILE_VAR} is not set, the system store has no certificates and the \
                 bundled roots are off (the `webpki-roots` feature); pass root_certificates to ChannelCredentials::ssl"
            ),
        }
    }
}

impl std::error::Error for RootsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RootsError::Read { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// The default roots of this process: loaded by the first call that succeeds (which reads
/// files on the calling thread), the same `Arc` for every call after it.
pub(crate) fn default_roots() -> Result<DefaultRoots, RootsError> {
    static DEFAULT: Cache = Cache::new();
    DEFAULT.get_or_load(|| load(roots_file_from_env().as_deref(), system_certificates, bundled()))
}

/// The first successful load, kept. Not a `OnceLock`: `get_or_try_init` is unstable, a
/// failed load must not be kept (a missing file may appear), and two channels made at once
/// must not both read the system store, so loading happens under the lock.
struct Cache(Mutex<Option<DefaultRoots>>);

impl Cache {
    const fn new() -> Cache {
        Cache(Mutex::new(None))
    }

    fn get_or_load(&self, load: impl FnOnce() -> Result<DefaultRoots, RootsError>) -> Result<DefaultRoots, RootsError> {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(roots) = &*slot {
            return Ok(roots.clone());
        }
        let roots = load()?;
        tracing::debug!(source = %roots.source, roots = roots.store.len(), "default TLS roots loaded");
        *slot = Some(roots.clone());
        Ok(roots)
    }
}

fn roots_file_from_env() -> Option<PathBuf> {
    std::env::var_os(ROOTS_FILE_VAR).filter(|v| !v.is_empty()).map(PathBuf::from)
}

fn system_certificates() -> Vec<CertificateDer<'static>> {
    let found = rustls_native_certs::load_native_certs();
    for error in &found.errors {
        tracing::debug!("system TLS roots: {error}");
    }
    found.certs
}

#[cfg(feature = "webpki-roots")]
fn bundled() -> Option<&'static [TrustAnchor<'static>]> {
    Some(webpki_roots::TLS_SERVER_ROOTS)
}

#[cfg(not(feature = "webpki-roots"))]
fn bundled() -> Option<&'static [TrustAnchor<'static>]> {
    None
}

/// Picks the roots: `roots_file` if given, else what `system` finds, else `bundled`.
fn load(
    roots_file: Option<&Path>,
    system: impl FnOnce() -> Vec<CertificateDer<'static>>,
    bundled: Option<&[TrustAnchor<'static>]>,
) -> Result<DefaultRoots, RootsError> {
    if let Some(path) = roots_file {
        return Ok(DefaultRoots {
            store: Arc::new(load_file(path)?),
            source: RootsSource::RootsFile(path.to_owned()),
        });
    }
    let mut store = RootCertStore::empty();
    let (_, refused) = store.add_parsable_certificates(system());
    if refused > 0 {
        tracing::debug!(refused, "system TLS roots: certificates that are not usable as roots were skipped");
    }
    if !store.is_empty() {
        return Ok(DefaultRoots {
            store: Arc::new(store),
            source: RootsSource::System,
        });
    }
    match bundled {
        Some(anchors) if !anchors.is_empty() => {
            tracing::debug!("the system store has no TLS roots; using the bundled webpki roots");
            store.extend(anchors.iter().cloned());
            Ok(DefaultRoots {
                store: Arc::new(store),
                source: RootsSource::Bundled,
            })
        }
        _ => Err(RootsError::NoRoots),
    }
}

fn load_file(path: &Path) -> Result<RootCertStore, RootsError> {
    let pem = std::fs::read(path).map_err(|error| RootsError::Read {
        path: path.to_owned(),
        error,
    })?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| RootsError::BadPem {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    let mut store = RootCertStore::empty();
    let (_, refused) = store.add_parsable_certificates(certs);
    if store.is_empty() {
        return Err(RootsError::NoCertificates {
            path: path.to_owned(),
            refused,
        });
    }
    if refused > 0 {
        tracing::warn!(path = %path.display(), refused, "{ROOTS_FILE_VAR}: certificates that are not usable as roots were skipped");
    }
    Ok(store)
}

#[cfg(test)]
mod tests;
