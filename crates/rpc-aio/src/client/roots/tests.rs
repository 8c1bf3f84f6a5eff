//! Unit tests of the default roots: the order of the sources, the file errors, and that the
//! store is loaded once (with injected sources, so the process environment is not touched).

use super::*;
use std::cell::Cell;

fn ca_pem(name: &str) -> String {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, name);
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.self_signed(&rcgen::KeyPair::generate().unwrap()).unwrap().pem()
}

fn ca_der(name: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(ca_pem(name).as_bytes()).unwrap()
}

fn anchor(name: &str) -> TrustAnchor<'static> {
    let mut store = RootCertStore::empty();
    store.add(ca_der(name)).unwrap();
    store.roots.remove(0)
}

/// A file under the temp dir, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!("rpc-tls-roots-unit-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn no_system() -> Vec<CertificateDer<'static>> {
    panic!("the system store must not be read when GRPC_DEFAULT_SSL_ROOTS_FILE_PATH is set")
}

#[test]
fn the_store_is_loaded_once_and_shared() {
    let cache = Cache::new();
    let loads = Cell::new(0);
    let load_once = || {
        loads.set(loads.get() + 1);
        load(None, || vec![ca_der("system")], None)
    };
    let first = cache.get_or_load(load_once).unwrap();
    let second = cache.get_or_load(load_once).unwrap();
    assert_eq!(loads.get(), 1);
    assert!(Arc::ptr_eq(&first.store, &second.store));
    assert_eq!(second.source, RootsSource::System);
}

#[test]
fn a_failed_load_is_not_kept() {
    let cache = Cache::new();
    assert!(matches!(cache.get_or_load(|| load(None, Vec::new, None)), Err(RootsError::NoRoots)));
    let roots = cache.get_or_load(|| load(None, || vec![ca_der("system")], None)).unwrap();
    let again = cache.get_or_load(|| panic!("loaded twice")).unwrap();
    assert!(Arc::ptr_eq(&roots.store, &again.store));
}

#[test]
fn the_process_default_is_one_store() {
    // Whatever this machine offers; when it offers nothing, both calls fail alike.
    match (default_roots(), default_roots()) {
        (Ok(a), Ok(b)) => {
            assert!(Arc::ptr_eq(&a.store, &b.store));
            assert!(!a.store.is_empty());
        }
        (Err(RootsError::NoRoots), Err(RootsError::NoRoots)) => assert!(bundled().is_none()),
        (a, b) => panic!("two loads disagree: {a:?} / {b:?}"),
    }
}

#[test]
fn the_roots_file_replaces_every_other_source() {
    let file = TempFile::new("two.pem", &format!("{}{}", ca_pem("one"), ca_pem("two")));
    let roots = load(Some(&file.0), no_system, Some(&[anchor("bundled")])).unwrap();
    assert_eq!(roots.source, RootsSource::RootsFile(file.0.clone()));
    assert_eq!(roots.store.len(), 2);
    assert_eq!(
        roots.source.to_string(),
        format!("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH={}", file.0.display())
    );
}

#[test]
fn the_system_store_comes_before_the_bundled_roots() {
    let roots = load(None, || vec![ca_der("a"), ca_der("b")], Some(&[anchor("bundled")])).unwrap();
    assert_eq!(roots.source, RootsSource::System);
    assert_eq!(roots.store.len(), 2);
}

#[test]
fn an_empty_or_unusable_system_store_falls_back_to_the_bundled_roots() {
    let bundled = [anchor("bundled-1"), anchor("bundled-2")];
    for system in [Vec::new(), vec![CertificateDer::from(vec![0x30, 0x03, 1, 2, 3])]] {
        let roots = load(None, || system, Some(&bundled)).unwrap();
        assert_eq!(roots.source, RootsSource::Bundled);
        assert_eq!(roots.store.roots, bundled);
    }
}

#[test]
fn no_source_at_all_is_an_error_that_says_what_to_do() {
    for bundled in [None, Some(&[][..])] {
        let err = load(None, Vec::new, bundled).unwrap_err();
        assert!(matches!(err, RootsError::NoRoots));
        let text = err.to_string();
        assert!(text.contains("webpki-roots") && text.contains("root_certificates"), "{text}");
    }
}

#[test]
fn a_roots_file_that_cannot_be_read_is_an_error_naming_it() {
    let path = std::env::temp_dir().join("rpc-tls-roots-unit-no-such-file.pem");
    let err = load(Some(&path), no_system, None).unwrap_err();
    assert!(matches!(err, RootsError::Read { .. }));
    assert!(std::error::Error::source(&err).is_some());
    let text = err.to_string();
    assert!(
        text.contains("cannot read") && text.contains(ROOTS_FILE_VAR) && text.contains(&path.display().to_string()),
        "{text}"
    );
}

#[test]
fn a_roots_file_without_a_usable_certificate_is_an_error() {
    let cases = [
        ("text.pem", "no PEM here\n", 0),
        (
            "bad-der.pem",
            "-----BEGIN CERTIFICATE-----\nMAMBAgM=\n-----END CERTIFICATE-----\n",
            1,
        ),
    ];
    for (name, contents, expect_refused) in cases {
        let file = TempFile::new(name, contents);
        match load(Some(&file.0), no_system, None) {
            Err(RootsError::NoCertificates { path, refused }) => {
                assert_eq!((path, refused), (file.0.clone(), expect_refused), "{name}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn a_roots_file_with_broken_pem_is_an_error() {
    let file = TempFile::new("cut.pem", "-----BEGIN CERTIFICATE-----\nMAMBAgM=\n");
    let err = load(Some(&file.0), no_system, None).unwrap_err();
    assert!(matches!(err, RootsError::BadPem { .. }), "{err:?}");
    assert!(err.to_string().contains("is not valid PEM"), "{err}");
}

#[test]
fn the_bundled_roots_follow_the_feature() {
    assert_eq!(bundled().is_some_and(|b| !b.is_empty()), cfg!(feature = "webpki-roots"));
}
