//! [`Address`]: one place a subchannel connects to (a TCP socket address, a Unix socket
//! path or an abstract Unix socket name), with string attributes a resolver passes to the
//! load-balancing policy (a weight, a zone, ...).

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Where one connection goes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Endpoint {
    Tcp(SocketAddr),
    Unix(PathBuf),
    /// The name, without the leading NUL the kernel wants.
    UnixAbstract(Vec<u8>),
}

/// One resolved address with its attributes. Two addresses are the same subchannel when
/// their endpoints are equal (attributes do not count, so an update that only changes
/// attributes keeps the connection).
#[derive(Clone, Debug, Eq, PartialOrd, Ord)]
pub struct Address {
    pub(crate) endpoint: Endpoint,
    attributes: BTreeMap<String, String>,
}

impl PartialEq for Address {
    fn eq(&self, other: &Address) -> bool {
        self.endpoint == other.endpoint && self.attributes == other.attributes
    }
}

impl std::hash::Hash for Address {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.endpoint.hash(state);
    }
}

impl Address {
    fn of(endpoint: Endpoint) -> Address {
        Address {
            endpoint,
            attributes: BTreeMap::new(),
        }
    }

    /// A TCP address.
    pub fn tcp(addr: SocketAddr) -> Address {
        Address::of(Endpoint::Tcp(addr))
    }

    /// A Unix domain socket path.
    pub fn unix(path: impl AsRef<Path>) -> Address {
        Address::of(Endpoint::Unix(path.as_ref().to_owned()))
    }

    /// A Unix domain socket in the abstract namespace (Linux): `name` without the leading NUL.
    pub fn unix_abstract(name: impl AsRef<[u8]>) -> Address {
        Address::of(Endpoint::UnixAbstract(name.as_ref().to_owned()))
    }

    /// Adds (or replaces) an attribute.
    pub fn with_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Address {
        self.attributes.insert(key.into(), value.into());
        self
    }

    /// An attribute's value.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }

    /// Every attribute, by key.
    pub fn attributes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.attributes.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The TCP socket address, if this is one.
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        match &self.endpoint {
            Endpoint::Tcp(a) => Some(*a),
            _ => None,
        }
    }

    /// The Unix socket path, if this is one.
    pub fn unix_path(&self) -> Option<&Path> {
        match &self.endpoint {
            Endpoint::Unix(p) => Some(p),
            _ => None,
        }
    }

    /// Whether two addresses name the same endpoint (attributes aside).
    pub fn same_endpoint(&self, other: &Address) -> bool {
        self.endpoint == other.endpoint
    }
}

impl fmt::Display for Address {
    /// `127.0.0.1:50051`, `[::1]:50051`, `unix:/path`, `unix-abstract:name`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.endpoint {
            Endpoint::Tcp(a) => write!(f, "{a}"),
            Endpoint::Unix(p) => write!(f, "unix:{}", p.display()),
            Endpoint::UnixAbstract(n) => write!(f, "unix-abstract:{}", String::from_utf8_lossy(n)),
        }
    }
}
