//! The resolver API: what a resolver yields ([`Resolution`], [`ResolverUpdate`]), the
//! stream a channel polls ([`Resolver`]) and what makes one per channel
//! ([`ResolverBuilder`]).

use super::address::Address;
use super::uri::TargetUri;
use futures::Stream;
use rpc_core::{ChannelOptions, RpcError};
use std::fmt;

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
