//! Test PKI made with rcgen at test time: a CA and leaf certificates signed by it, in PEM.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// A certificate authority able to sign leaves.
pub struct Ca {
    /// Its certificate, in PEM.
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca").finish_non_exhaustive()
    }
}

/// A leaf certificate and its key, in PEM.
#[derive(Clone, Debug)]
pub struct Leaf {
    /// The certificate.
    pub cert: String,
    /// The private key.
    pub key: String,
}

/// When a leaf is valid.
#[derive(Clone, Copy, Debug)]
pub enum Validity {
    /// From before now until after now.
    Now,
    /// Until a year ago.
    Expired,
    /// From two years on.
    NotYetValid,
}

impl Ca {
    /// A self-signed CA with common name `name`.
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().expect("a CA key");
        let pem = params.self_signed(&key).expect("a CA certificate").pem();
        Ca {
            pem,
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf with common name `cn` and subject alternative names `sans` (IP addresses
    /// where they parse as one).
    pub fn leaf(&self, cn: &str, sans: &[&str], validity: Validity) -> Leaf {
        let mut params = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).expect("leaf parameters");
        params.distinguished_name.push(DnType::CommonName, cn);
        let year = this_year();
        match validity {
            Validity::Now => {}
            Validity::Expired => {
                params.not_before = rcgen::date_time_ymd(year - 3, 1, 1);
                params.not_after = rcgen::date_time_ymd(year - 1, 1, 1);
            }
            Validity::NotYetValid => {
                params.not_before = rcgen::date_time_ymd(year + 2, 1, 1);
                params.not_after = rcgen::date_time_ymd(year + 4, 1, 1);
            }
        }
        let key = KeyPair::generate().expect("a leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("a leaf certificate");
        Leaf {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }

    /// A server leaf for `localhost` and 127.0.0.1, valid now.
    pub fn server_leaf(&self) -> Leaf {
        self.leaf("localhost", &["localhost", "127.0.0.1"], Validity::Now)
    }
}

fn this_year() -> i32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    1970 + (secs / 31_556_952) as i32
}
