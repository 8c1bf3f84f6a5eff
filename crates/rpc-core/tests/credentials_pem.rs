//! Credentials: real PEM made with rcgen is accepted, bad PEM gives the specific `CredentialsError`, call credentials add metadata.

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rpc_core::{
    AuthMetadataContext, AuthMetadataPlugin, CallCredentials, ChannelCredentials, ChannelKind, CredentialsError, Metadata, RpcError,
    ServerCredentials, StatusCode,
};
use std::sync::{Arc, Mutex};

/// A CA certificate and a leaf (key + chain) signed by it, all PEM.
struct Pki {
    ca_cert: Vec<u8>,
    leaf_key: Vec<u8>,
    leaf_chain: Vec<u8>,
}

fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    Pki {
        ca_cert: ca.pem().into_bytes(),
        leaf_key: leaf_key.serialize_pem().into_bytes(),
        leaf_chain: format!("{}{}", leaf.pem(), ca.pem()).into_bytes(),
    }
}

#[test]
fn real_pem_is_accepted() {
    let p = pki();
    let creds = ChannelCredentials::ssl(Some(&p.ca_cert), None, None).unwrap();
    assert!(
        matches!(creds.kind(), ChannelKind::Ssl(cfg) if cfg.root_certificates.as_deref() == Some(&p.ca_cert[..]) && cfg.private_key.is_none())
    );
    let mtls = ChannelCredentials::ssl(Some(&p.ca_cert), Some(&p.leaf_key), Some(&p.leaf_chain)).unwrap();
    assert!(matches!(mtls.kind(), ChannelKind::Ssl(cfg) if cfg.private_key.is_some() && cfg.certificate_chain.is_some()));
    ChannelCredentials::ssl(None, None, None).unwrap();

    let server = ServerCredentials::ssl(&[(&p.leaf_key, &p.leaf_chain)], Some(&p.ca_cert), true).unwrap();
    match server {
        ServerCredentials::Ssl {
            pairs,
            root_certificates,
            require_client_auth,
        } => {
            assert_eq!(pairs.len(), 1);
            assert_eq!(pairs[0].private_key, p.leaf_key);
            assert!(root_certificates.is_some());
            assert!(require_client_auth);
        }
        other => panic!("{other:?}"),
    }
    ServerCredentials::ssl(&[(&p.leaf_key, &p.leaf_chain)], None, false).unwrap();
}

#[test]
fn bad_channel_pem_gives_the_specific_error() {
    let p = pki();
    let no_cert = |what| CredentialsError::NoPem {
        what,
        expected: "CERTIFICATE block",
    };
    assert_eq!(
        ChannelCredentials::ssl(Some(b"garbage"), None, None).unwrap_err(),
        no_cert("root_certificates")
    );
    assert_eq!(
        ChannelCredentials::ssl(Some(b""), None, None).unwrap_err(),
        no_cert("root_certificates")
    );
    assert_eq!(
        ChannelCredentials::ssl(Some(&p.leaf_key), None, None).unwrap_err(),
        no_cert("root_certificates")
    );
    assert_eq!(
        ChannelCredentials::ssl(None, Some(&p.leaf_key), None).unwrap_err(),
        CredentialsError::UnpairedKey
    );
    assert_eq!(
        ChannelCredentials::ssl(None, None, Some(&p.leaf_chain)).unwrap_err(),
        CredentialsError::UnpairedKey
    );
    assert_eq!(
        ChannelCredentials::ssl(None, Some(&p.leaf_chain), Some(&p.leaf_chain)).unwrap_err(),
        CredentialsError::NoPem {
            what: "private_key",
            expected: "PRIVATE KEY block"
        }
    );
    assert_eq!(
        ChannelCredentials::ssl(None, Some(&p.leaf_key), Some(&p.leaf_key)).unwrap_err(),
        no_cert("certificate_chain")
    );
    let broken = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
    assert!(matches!(
        ChannelCredentials::ssl(Some(broken), None, None).unwrap_err(),
        CredentialsError::BadPem {
            what: "root_certificates",
            ..
        }
    ));
}

#[test]
fn bad_server_pem_gives_the_specific_error() {
    let p = pki();
    assert_eq!(ServerCredentials::ssl(&[], None, false).unwrap_err(), CredentialsError::NoKeyPairs);
    assert_eq!(
        ServerCredentials::ssl(&[(b"", &p.leaf_chain)], None, false).unwrap_err(),
        CredentialsError::NoPem {
            what: "private_key",
            expected: "PRIVATE KEY block"
        }
    );
    assert_eq!(
        ServerCredentials::ssl(&[(&p.leaf_key, b"")], None, false).unwrap_err(),
        CredentialsError::NoPem {
            what: "certificate_chain",
            expected: "CERTIFICATE block"
        }
    );
    assert_eq!(
        ServerCredentials::ssl(&[(&p.leaf_key, &p.leaf_key)], None, false).unwrap_err(),
        CredentialsError::NoPem {
            what: "certificate_chain",
            expected: "CERTIFICATE block"
        }
    );
    let err = ServerCredentials::ssl(&[(&p.leaf_key, &p.leaf_chain)], None, true).unwrap_err();
    assert!(
        matches!(
            err,
            CredentialsError::NoPem {
                what: "root_certificates",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("require_client_auth"), "{err}");
    assert_eq!(
        ServerCredentials::ssl(&[(&p.leaf_key, &p.leaf_chain)], Some(b"junk"), false).unwrap_err(),
        CredentialsError::NoPem {
            what: "root_certificates",
            expected: "CERTIFICATE block"
        }
    );
}

#[test]
fn error_messages_say_what_to_fix() {
    let msg = ChannelCredentials::ssl(Some(b"garbage"), None, None).unwrap_err().to_string();
    assert_eq!(msg, "root_certificates: no PEM CERTIFICATE block found");
    assert!(
        CredentialsError::UnpairedKey
            .to_string()
            .contains("private_key and certificate_chain")
    );
    assert!(CredentialsError::NoKeyPairs.to_string().contains("at least one"));
}

fn ctx() -> AuthMetadataContext {
    AuthMetadataContext {
        service_url: "https://example.com/pkg.Greeter".into(),
        method_name: "SayHello".into(),
    }
}

#[test]
fn access_token_adds_bearer_authorization() {
    let md = CallCredentials::access_token("tok123").metadata(&ctx()).unwrap();
    assert_eq!(md.get_str("authorization"), Some("Bearer tok123"));
    assert_eq!(md.len(), 1);
    let bad = CallCredentials::access_token("line\nbreak").metadata(&ctx()).unwrap_err();
    assert_eq!(bad.code(), StatusCode::Internal);
}

struct Recorder {
    seen: Arc<Mutex<Vec<(String, String)>>>,
    value: &'static str,
}

impl AuthMetadataPlugin for Recorder {
    fn get_metadata(&self, context: &AuthMetadataContext) -> Result<Metadata, RpcError> {
        self.seen
            .lock()
            .unwrap()
            .push((context.service_url.clone(), context.method_name.clone()));
        Ok(Metadata::new().with("x-plugin", self.value)?)
    }
}

struct Failing;

impl AuthMetadataPlugin for Failing {
    fn get_metadata(&self, _: &AuthMetadataContext) -> Result<Metadata, RpcError> {
        Err(RpcError::unauthenticated("token expired"))
    }
}

#[test]
fn plugins_get_the_context_and_composites_keep_order() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let creds = CallCredentials::metadata_plugin(Recorder {
        seen: seen.clone(),
        value: "one",
    })
    .composite(CallCredentials::access_token("t"))
    .composite(CallCredentials::metadata_plugin(Recorder {
        seen: seen.clone(),
        value: "two",
    }));
    let md = creds.metadata(&ctx()).unwrap();
    let flat: Vec<_> = md.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap())).collect();
    assert_eq!(flat, ["x-plugin=one", "authorization=Bearer t", "x-plugin=two"]);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0], ("https://example.com/pkg.Greeter".to_owned(), "SayHello".to_owned()));
    assert!(format!("{creds:?}").contains("metadata_plugin"));
}

#[test]
fn plugin_errors_propagate_with_their_code() {
    let creds = CallCredentials::access_token("t").composite(CallCredentials::metadata_plugin(Failing));
    let err = creds.metadata(&ctx()).unwrap_err();
    assert_eq!(err.code(), StatusCode::Unauthenticated);
    assert_eq!(err.details(), "token expired");
}

#[test]
fn call_credentials_are_permitted_on_local_and_ssl_only() {
    assert!(!ChannelCredentials::insecure().permits_call_credentials());
    assert!(ChannelCredentials::local().permits_call_credentials());
    assert!(ChannelCredentials::ssl(None, None, None).unwrap().permits_call_credentials());
    let composite = ChannelCredentials::local()
        .with_call_credentials(CallCredentials::access_token("a"))
        .with_call_credentials(CallCredentials::access_token("b"));
    let tokens: Vec<_> = composite
        .call_credentials()
        .iter()
        .map(|c| c.metadata(&ctx()).unwrap().get_str("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(tokens, ["Bearer a", "Bearer b"]);
}

#[test]
fn a_server_key_must_belong_to_its_certificate() {
    let (p, other) = (pki(), pki());
    let err = ServerCredentials::ssl(&[(&other.leaf_key, &p.leaf_chain)], None, false).unwrap_err();
    assert!(matches!(err, CredentialsError::BadPair { .. }), "{err}");
    assert!(ServerCredentials::ssl(&[(&p.leaf_key, &p.leaf_chain)], None, false).is_ok());
    let (_, handle) = ServerCredentials::ssl_reloadable(&[(&p.leaf_key, &p.leaf_chain)], None, false).unwrap();
    assert!(matches!(
        handle.replace(&[(&other.leaf_key, &p.leaf_chain)], None),
        Err(CredentialsError::BadPair { .. })
    ));
    assert_eq!(handle.current().0, 0);
    handle.replace(&[(&other.leaf_key, &other.leaf_chain)], None).unwrap();
    let (generation, config) = handle.current();
    assert_eq!((generation, &config.pairs[0].certificate_chain), (1, &other.leaf_chain));
}
