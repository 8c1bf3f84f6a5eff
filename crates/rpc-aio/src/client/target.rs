//! Target parsing: turns `host:port`, `dns:`, `ipv4:`, `ipv6:` and `unix:` targets into the
//! address to connect to and the authority to send.

use rpc_core::RpcError;
use std::fmt;

/// Where a channel connects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// A TCP address: a host name or IP literal (IPv6 without brackets) and a port.
    Tcp { host: String, port: u16 },
    /// A Unix domain socket path.
    Unix(String),
}

impl Target {
    /// Parses a gRPC target string.
    pub(crate) fn parse(target: &str) -> Result<Target, RpcError> {
        let bad = |why: &str| RpcError::invalid_argument(format!("invalid target {target:?}: {why}"));
        let t = target.trim();
        if t.is_empty() {
            return Err(bad("it is empty"));
        }
        if let Some(rest) = t.strip_prefix("unix:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(bad("a unix target needs a path, e.g. unix:/tmp/sock"));
            }
            return Ok(Target::Unix(path.to_owned()));
        }
        let rest = if let Some(r) = t.strip_prefix("dns:///") {
            r
        } else if let Some(r) = t.strip_prefix("dns:") {
            r.strip_prefix("//").map(|r| r.split_once('/').map_or(r, |(_, x)| x)).unwrap_or(r)
        } else if let Some(r) = t.strip_prefix("ipv4:") {
            let (host, port) = split_host_port(r).ok_or_else(|| bad("expected ipv4:A.B.C.D:PORT"))?;
            if host.parse::<std::net::Ipv4Addr>().is_err() {
                return Err(bad("not an IPv4 address"));
            }
            return Ok(Target::Tcp {
                host,
                port: parse_port(port, &bad)?,
            });
        } else if let Some(r) = t.strip_prefix("ipv6:") {
            let (host, port) = split_host_port(r).ok_or_else(|| bad("expected ipv6:[ADDR]:PORT"))?;
            if host.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(bad("not an IPv6 address"));
            }
            return Ok(Target::Tcp {
                host,
                port: parse_port(port, &bad)?,
            });
        } else if t.contains("://") {
            return Err(bad("unsupported scheme (use host:port, dns:, ipv4:, ipv6: or unix:)"));
        } else {
            t
        };
        let (host, port) = split_host_port(rest).ok_or_else(|| bad("expected host:port"))?;
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/' || c == '@') {
            return Err(bad("the host is empty or has invalid characters"));
        }
        Ok(Target::Tcp {
            host,
            port: parse_port(port, &bad)?,
        })
    }

    /// The `:authority` to send (`host:port`, IPv6 in brackets; `localhost` for Unix sockets).
    pub(crate) fn authority(&self) -> String {
        match self {
            Target::Tcp { host, port } if host.contains(':') => format!("[{host}]:{port}"),
            Target::Tcp { host, port } => format!("{host}:{port}"),
            Target::Unix(_) => "localhost".to_owned(),
        }
    }

    /// The host name TLS verifies by default.
    pub(crate) fn host(&self) -> &str {
        match self {
            Target::Tcp { host, .. } => host,
            Target::Unix(_) => "localhost",
        }
    }
}

/// Where one transport connects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Address {
    /// A host name or IP literal and a port (resolved when connecting).
    Tcp((String, u16)),
    /// A Unix domain socket path.
    Unix(String),
}

impl Target {
    /// The address to connect to.
    pub(crate) fn address(&self) -> Address {
        match self {
            Target::Tcp { host, port } => Address::Tcp((host.clone(), *port)),
            Target::Unix(path) => Address::Unix(path.clone()),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Tcp((host, port)) if host.contains(':') => write!(f, "[{host}]:{port}"),
            Address::Tcp((host, port)) => write!(f, "{host}:{port}"),
            Address::Unix(p) => write!(f, "unix:{p}"),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Unix(p) => write!(f, "unix:{p}"),
            tcp => f.write_str(&tcp.authority()),
        }
    }
}

fn split_host_port(s: &str) -> Option<(String, &str)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = after.strip_prefix(':')?;
        return Some((host.to_owned(), port));
    }
    let (host, port) = s.rsplit_once(':')?;
    if host.contains(':') {
        return None;
    }
    Some((host.to_owned(), port))
}

fn parse_port(port: &str, bad: &dyn Fn(&str) -> RpcError) -> Result<u16, RpcError> {
    port.parse::<u16>().map_err(|_| bad("the port is not a number in 0..=65535"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_supported_forms_and_rejects_garbage() {
        let tcp = |h: &str, p| Target::Tcp {
            host: h.to_owned(),
            port: p,
        };
        assert_eq!(Target::parse("localhost:50051").unwrap(), tcp("localhost", 50051));
        assert_eq!(Target::parse("dns:example.com:443").unwrap(), tcp("example.com", 443));
        assert_eq!(Target::parse("dns:///example.com:443").unwrap(), tcp("example.com", 443));
        assert_eq!(Target::parse("ipv4:127.0.0.1:1").unwrap(), tcp("127.0.0.1", 1));
        assert_eq!(Target::parse("ipv6:[::1]:8080").unwrap(), tcp("::1", 8080));
        assert_eq!(Target::parse("[::1]:8080").unwrap().authority(), "[::1]:8080");
        assert_eq!(Target::parse("unix:/tmp/s").unwrap(), Target::Unix("/tmp/s".into()));
        assert_eq!(Target::parse("unix:///tmp/s").unwrap(), Target::Unix("/tmp/s".into()));
        for bad in [
            "",
            "localhost",
            "host:notaport",
            "host:70000",
            "ipv4:::1:80",
            "ipv6:1.2.3.4:5",
            "unix:",
            "http://x:1",
            "::1:80",
            ":80",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }
}
