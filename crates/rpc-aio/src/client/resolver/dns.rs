//! The `dns` resolver: `dns:[//authority/]host[:port]` and bare `host:port` targets, port
//! 443 when left out.
//!
//! Names are looked up with the system resolver (`getaddrinfo`, through tokio's
//! `lookup_host` on its blocking pool), not with a DNS client of our own: that honours
//! `/etc/hosts`, `nsswitch.conf` and resolv.conf's search domains and `ndots` exactly as every
//! other program on the host does (Kubernetes service names rely on the search list), and it
//! is what the channel used before resolvers existed. The price: no TTLs and no TXT or SRV
//! records (so no service config from DNS, which gRPC leaves off by default anyway), and a
//! DNS server named in the target cannot be honoured (such a target is an error).
//!
//! The name is looked up when the channel first connects, again when the channel asks (a
//! connection dropped or every address failed), and otherwise every
//! `dns_min_time_between_resolutions` (30 s); never more often than that.

use super::fixed::DEFAULT_PORT;
use super::{Address, Resolution, Resolver, ResolverBuilder, ResolverUpdate, TargetUri};
use futures::Stream;
use futures::future::BoxFuture;
use rpc_core::{ChannelOptions, RpcError};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// Builds the dns resolver.
#[derive(Debug)]
pub(crate) struct DnsResolverBuilder;

/// The host and port a dns target names.
pub(crate) fn host_port(target: &TargetUri) -> Result<(String, u16), RpcError> {
    let bad = |why: &str| RpcError::invalid_argument(format!("invalid target {:?}: {why}", target.as_str()));
    if target.authority().is_some_and(|a| !a.is_empty()) {
        return Err(bad(
            "a DNS server in the target (dns://server/host) is not supported: names are looked up with the system resolver",
        ));
    }
    let endpoint = target.endpoint();
    let (host, port) = if let Some(rest) = endpoint.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(|| bad("an IPv6 address needs its closing ]"))?;
        match after {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':').ok_or_else(|| bad("expected [ADDR]:PORT"))?)),
        }
    } else {
        match endpoint.rsplit_once(':') {
            Some((h, _)) if h.contains(':') => {
                return Err(bad("an IPv6 address needs brackets: [ADDR]:PORT"));
            }
            Some((h, p)) => (h, Some(p)),
            None => (endpoint, None),
        }
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || matches!(c, '/' | '@' | '[' | ']' | ',')) {
        return Err(bad("the host is empty or has invalid characters"));
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => p.parse::<u16>().map_err(|_| bad("the port is not a number in 0..=65535"))?,
    };
    Ok((host.to_owned(), port))
}

impl ResolverBuilder for DnsResolverBuilder {
    fn scheme(&self) -> &str {
        "dns"
    }

    fn build(&self, target: &TargetUri, options: &ChannelOptions) -> Result<Box<dyn Resolver>, RpcError> {
        let (host, port) = host_port(target)?;
        Ok(Box::new(DnsResolver {
            host,
            port,
            every: options.dns_min_time_between_resolutions.max(Duration::from_millis(1)),
            lookup: None,
            timer: None,
            last: None,
            requested: false,
            yielded: None,
        }))
    }

    fn default_authority(&self, target: &TargetUri) -> String {
        match host_port(target) {
            Ok((host, port)) if host.contains(':') => format!("[{host}]:{port}"),
            Ok(_) => target.endpoint().to_owned(),
            Err(_) => "localhost".to_owned(),
        }
    }
}

struct DnsResolver {
    host: String,
    port: u16,
    every: Duration,
    lookup: Option<BoxFuture<'static, std::io::Result<Vec<SocketAddr>>>>,
    timer: Option<Pin<Box<Sleep>>>,
    last: Option<Instant>,
    requested: bool,
    /// What was yielded last, so an unchanged answer is not yielded again.
    yielded: Option<Result<Vec<SocketAddr>, String>>,
}

impl DnsResolver {
    fn start(&mut self) {
        let (host, port) = (self.host.clone(), self.port);
        self.requested = false;
        self.timer = None;
        self.lookup = Some(Box::pin(async move {
            // An IP literal needs no lookup (nor a blocking thread).
            if let Ok(ip) = host.parse::<std::net::IpAddr>() {
                return Ok(vec![SocketAddr::new(ip, port)]);
            }
            let mut seen = Vec::new();
            for a in tokio::net::lookup_host((host.as_str(), port)).await? {
                if !seen.contains(&a) {
                    seen.push(a);
                }
            }
            Ok(seen)
        }));
    }
}

impl Stream for DnsResolver {
    type Item = ResolverUpdate;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ResolverUpdate>> {
        let this = &mut *self;
        loop {
            if let Some(lookup) = this.lookup.as_mut() {
                let result = std::task::ready!(lookup.as_mut().poll(cx));
                this.lookup = None;
                let now = Instant::now();
                this.last = Some(now);
                this.timer = Some(Box::pin(tokio::time::sleep_until(now + this.every)));
                let result = match result {
                    Ok(addrs) if addrs.is_empty() => Err(format!("the name {:?} has no addresses", this.host)),
                    Ok(addrs) => Ok(addrs),
                    Err(e) => Err(format!("looking up {:?} failed: {e}", this.host)),
                };
                if this.yielded.as_ref() == Some(&result) {
                    continue;
                }
                this.yielded = Some(result.clone());
                return Poll::Ready(Some(match result {
                    Ok(addrs) => Ok(Resolution::new(addrs.into_iter().map(Address::tcp).collect())),
                    Err(why) => Err(RpcError::unavailable(format!("DNS resolution failed: {why}"))),
                }));
            }
            match (this.last, this.timer.as_mut()) {
                (None, _) => this.start(),
                (Some(last), _) if this.requested && last.elapsed() >= this.every => this.start(),
                (Some(_), Some(timer)) => {
                    std::task::ready!(timer.as_mut().poll(cx));
                    this.start();
                }
                (Some(_), None) => this.start(),
            }
        }
    }
}

impl Resolver for DnsResolver {
    fn resolve_now(&mut self) {
        self.requested = true;
    }
}
