//! Name resolution: what turns a channel's target into the addresses it connects to
//! (gRPC's naming.md). A [`ResolverBuilder`] is registered by URI scheme ([`register`], or
//! per channel with `ChannelBuilder::resolver`); for each channel it builds a [`Resolver`],
//! a stream of [`Resolution`]s: address lists (each address with attributes for the
//! load-balancing policy) and optionally a service config, or an error.
//!
//! Built in: `dns` (the default scheme; the system resolver, `getaddrinfo`, on a blocking
//! thread), `ipv4`, `ipv6`, `unix` and `unix-abstract` (fixed lists), and [`ManualResolver`]
//! for tests and for pushing addresses from code (a Consul or Kubernetes watcher).
//!
//! ```
//! use rpc_aio::resolver::{Address, ManualResolver, Resolution};
//!
//! let manual = ManualResolver::new("fleet");
//! manual.update(Resolution::new(vec![
//!     Address::tcp("127.0.0.1:50051".parse().unwrap()),
//!     Address::tcp("127.0.0.1:50052".parse().unwrap()).with_attribute("zone", "b"),
//! ]));
//! // Channel::builder("fleet:///backends").resolver(manual.clone()) ...
//! ```

pub(crate) mod address;
mod dns;
mod fixed;
mod manual;
mod uri;

pub use address::Address;
pub(crate) use dns::DnsResolverBuilder;
pub use manual::ManualResolver;
pub use uri::TargetUri;

use futures::Stream;
use rpc_core::{ChannelOptions, RpcError};
use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};

/// One result of name resolution: the addresses to connect to, and the service config that
/// comes with them (JSON), if the resolver has one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Resolution {
    /// The addresses, in the resolver's order (`pick_first` tries them in this order).
    pub addresses: Vec<Address>,
    /// A service config as JSON. `None` keeps the channel's default
    /// (`ChannelOptions::service_config`); an invalid one is ignored and the last good one
    /// stays (gRFC A21).
    pub service_config: Option<String>,
}

impl Resolution {
    /// A resolution with these addresses and no service config.
    pub fn new(addresses: Vec<Address>) -> Resolution {
        Resolution {
            addresses,
            service_config: None,
        }
    }

    /// Adds a service config (JSON).
    pub fn with_service_config(mut self, json: impl Into<String>) -> Resolution {
        self.service_config = Some(json.into());
        self
    }
}

/// What a resolver yields: a resolution, or why resolution failed (the channel goes on with
/// the addresses it has, if any; with none, calls fail with this error, UNAVAILABLE).
pub type ResolverUpdate = Result<Resolution, RpcError>;

/// The resolver of one channel: a stream of updates (each one replaces the previous
/// address list). The channel polls it on its runtime from its first connection attempt
/// until it closes; the stream ending means no more updates (the last list stays).
pub trait Resolver: Stream<Item = ResolverUpdate> + Send + Unpin + 'static {
    /// A hint that the channel wants fresh addresses (a connection dropped, or every address
    /// failed). A resolver may look again now, later, or never; the default ignores it.
    fn resolve_now(&mut self) {}
}

/// Makes resolvers for the targets of one URI scheme.
pub trait ResolverBuilder: Send + Sync + 'static {
    /// The scheme this builder resolves (`dns`, `consul`, ...), lowercase.
    fn scheme(&self) -> &str;

    /// A resolver for `target` (whose scheme is [`scheme`](Self::scheme)).
    ///
    /// # Errors
    /// A target this resolver cannot handle: the channel's creation fails with the error
    /// (INVALID_ARGUMENT is the usual code).
    fn build(&self, target: &TargetUri, options: &ChannelOptions) -> Result<Box<dyn Resolver>, RpcError>;

    /// The `:authority` calls send by default (before `ChannelOptions::default_authority`)
    /// and the host name TLS verifies: by default the target's endpoint when it is a valid
    /// authority, else `localhost`.
    fn default_authority(&self, target: &TargetUri) -> String {
        let endpoint = target.endpoint();
        match http::uri::Authority::try_from(endpoint) {
            Ok(_) if !endpoint.is_empty() => endpoint.to_owned(),
            _ => "localhost".to_owned(),
        }
    }
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

type Registry = RwLock<HashMap<String, Arc<dyn ResolverBuilder>>>;

fn registry() -> &'static Registry {
    static REGISTRY: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
    REGISTRY.get_or_init(Registry::default)
}

/// Registers `builder` for its scheme, process-wide (replacing an earlier one of the same
/// scheme; a user's `dns` replaces the built-in one). Channels made afterwards use it.
pub fn register(builder: impl ResolverBuilder) {
    register_arc(Arc::new(builder));
}

/// Registers a builder already in an `Arc` (see [`register`]).
pub fn register_arc(builder: Arc<dyn ResolverBuilder>) {
    let scheme = builder.scheme().to_ascii_lowercase();
    registry().write().unwrap_or_else(|p| p.into_inner()).insert(scheme, builder);
}

/// The builder for `scheme`: the channel's own, then the registered ones, then the built-in.
pub(crate) fn lookup(scheme: &str, own: &[Arc<dyn ResolverBuilder>]) -> Option<Arc<dyn ResolverBuilder>> {
    if let Some(b) = own.iter().find(|b| b.scheme().eq_ignore_ascii_case(scheme)) {
        return Some(b.clone());
    }
    if let Some(b) = registry().read().unwrap_or_else(|p| p.into_inner()).get(scheme) {
        return Some(b.clone());
    }
    match scheme {
        "dns" => Some(Arc::new(DnsResolverBuilder)),
        "ipv4" | "ipv6" | "unix" | "unix-abstract" => Some(Arc::new(fixed::FixedBuilder(fixed::scheme_name(scheme)?))),
        _ => None,
    }
}

impl fmt::Debug for dyn ResolverBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResolverBuilder").field("scheme", &self.scheme()).finish()
    }
}

impl fmt::Debug for dyn Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Resolver")
    }
}
