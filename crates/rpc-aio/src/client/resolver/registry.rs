//! Resolvers by scheme: the process-wide registry ([`register`]) and the lookup a channel
//! makes (its own resolvers, then the registered ones, then the built-in ones).

use super::api::ResolverBuilder;
use super::dns::DnsResolverBuilder;
use super::fixed;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

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
