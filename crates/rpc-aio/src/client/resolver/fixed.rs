//! The resolvers of targets that name their addresses: `ipv4:a[:port][,b[:port]...]`,
//! `ipv6:addr` or `ipv6:[addr]:port` lists (port 443 when left out), `unix:path`,
//! `unix:///absolute/path` and `unix-abstract:name`.

use super::address::Address;
use super::api::{Resolution, Resolver, ResolverBuilder, ResolverUpdate};
use super::uri::TargetUri;
use futures::Stream;
use rpc_core::{ChannelOptions, RpcError};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

/// The port of an address that names none (gRPC's default).
pub(crate) const DEFAULT_PORT: u16 = 443;

/// The builder of one fixed scheme.
#[derive(Debug)]
pub(crate) struct FixedBuilder(pub(crate) &'static str);

/// The built-in fixed scheme called `scheme`.
pub(crate) fn scheme_name(scheme: &str) -> Option<&'static str> {
    ["ipv4", "ipv6", "unix", "unix-abstract"].into_iter().find(|s| *s == scheme)
}

impl ResolverBuilder for FixedBuilder {
    fn scheme(&self) -> &str {
        self.0
    }

    fn build(&self, target: &TargetUri, _options: &ChannelOptions) -> Result<Box<dyn Resolver>, RpcError> {
        Ok(Box::new(Fixed::new(fixed_addresses(target)?)))
    }

    fn default_authority(&self, target: &TargetUri) -> String {
        match fixed_addresses(target).ok().and_then(|a| a.first().and_then(Address::socket_addr)) {
            Some(addr) if self.0 == "ipv4" || self.0 == "ipv6" => addr.to_string(),
            _ => "localhost".to_owned(),
        }
    }
}

/// The addresses a fixed target names.
///
/// # Errors
/// INVALID_ARGUMENT, saying what is wrong with the target.
pub(crate) fn fixed_addresses(target: &TargetUri) -> Result<Vec<Address>, RpcError> {
    let bad = |why: &str| RpcError::invalid_argument(format!("invalid target {:?}: {why}", target.as_str()));
    match target.scheme() {
        "unix" => {
            let path = match target.authority() {
                None => target.path(),
                Some("") => target.path(),
                Some(_) => {
                    return Err(bad(
                        "unix://path needs an absolute path: unix:///absolute/path (or unix:relative/path)",
                    ));
                }
            };
            if path.is_empty() {
                return Err(bad("a unix target needs a path, e.g. unix:/tmp/sock or unix:///tmp/sock"));
            }
            Ok(vec![Address::unix(path)])
        }
        "unix-abstract" => {
            let name = target.endpoint();
            if name.contains('\0') {
                return Err(bad("an abstract socket name cannot contain NUL"));
            }
            Ok(vec![Address::unix_abstract(name.as_bytes())])
        }
        scheme @ ("ipv4" | "ipv6") => {
            if target.authority().is_some_and(|a| !a.is_empty()) {
                return Err(bad("ipv4: and ipv6: targets take no authority"));
            }
            let list = target.endpoint();
            if list.is_empty() {
                return Err(bad("no address"));
            }
            list.split(',')
                .map(|one| {
                    let addr = if scheme == "ipv4" { ipv4(one.trim()) } else { ipv6(one.trim()) };
                    addr.map(Address::tcp).ok_or_else(|| {
                        bad(&format!(
                            "{one:?} is not an {scheme} address ({})",
                            if scheme == "ipv4" {
                                "A.B.C.D or A.B.C.D:PORT"
                            } else {
                                "ADDR or [ADDR]:PORT"
                            }
                        ))
                    })
                })
                .collect()
        }
        other => Err(bad(&format!("{other} is not a fixed scheme"))),
    }
}

/// The Unix endpoint a server's listening address names when it is a `unix:` or
/// `unix-abstract:` address, read as a channel target is (so a server listens where a
/// channel with the same string connects); `None` for any other address.
pub(crate) fn unix_endpoint(address: &str) -> Option<Result<super::address::Endpoint, RpcError>> {
    let known = |s: &str| s == "unix" || s == "unix-abstract";
    let target = match TargetUri::parse(address, known) {
        Ok(t) if known(t.scheme()) => t,
        _ => return None,
    };
    Some(fixed_addresses(&target).and_then(|mut a| {
        a.pop()
            .map(|a| a.endpoint)
            .ok_or_else(|| RpcError::invalid_argument(format!("{address:?} names no socket")))
    }))
}

fn ipv4(s: &str) -> Option<SocketAddr> {
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().ok()?),
        None => (s, DEFAULT_PORT),
    };
    Some(SocketAddr::new(IpAddr::V4(host.parse::<Ipv4Addr>().ok()?), port))
}

fn ipv6(s: &str) -> Option<SocketAddr> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after {
            "" => DEFAULT_PORT,
            p => p.strip_prefix(':')?.parse::<u16>().ok()?,
        };
        return Some(SocketAddr::new(IpAddr::V6(host.parse::<Ipv6Addr>().ok()?), port));
    }
    Some(SocketAddr::new(IpAddr::V6(s.parse::<Ipv6Addr>().ok()?), DEFAULT_PORT))
}

/// A fixed list of addresses, yielded once: the resolver of `ipv4:`, `ipv6:`, `unix:` and
/// `unix-abstract:` targets.
#[derive(Debug)]
pub(crate) struct Fixed(Option<Resolution>);

impl Fixed {
    pub(crate) fn new(addresses: Vec<Address>) -> Fixed {
        Fixed(Some(Resolution::new(addresses)))
    }
}

impl Stream for Fixed {
    type Item = ResolverUpdate;
    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<ResolverUpdate>> {
        match self.0.take() {
            Some(r) => Poll::Ready(Some(Ok(r))),
            // A fixed list never changes: the stream stays open (pending) rather than ending.
            None => Poll::Pending,
        }
    }
}

impl Resolver for Fixed {}
