//! Policies by name: the process-wide registry ([`register`]) and the lookup a channel
//! makes (its own policies, then the registered ones, then the built-in ones).

use super::pick_first::PickFirstBuilder;
use super::policy::LbPolicyBuilder;
use super::round_robin::RoundRobinBuilder;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

type Registry = RwLock<HashMap<String, Arc<dyn LbPolicyBuilder>>>;

fn registry() -> &'static Registry {
    static REGISTRY: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
    REGISTRY.get_or_init(Registry::default)
}

/// Registers a policy by its name, process-wide (replacing one of the same name, the
/// built-in ones included). Channels made afterwards can use it.
pub fn register(builder: impl LbPolicyBuilder) {
    register_arc(Arc::new(builder));
}

/// Registers a builder already in an `Arc` (see [`register`]).
pub fn register_arc(builder: Arc<dyn LbPolicyBuilder>) {
    registry()
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .insert(builder.name().to_owned(), builder);
}

/// The builder named `name`: the channel's own, then the registered ones, then the built-in.
pub(crate) fn lookup(name: &str, own: &[Arc<dyn LbPolicyBuilder>]) -> Option<Arc<dyn LbPolicyBuilder>> {
    if let Some(b) = own.iter().find(|b| b.name() == name) {
        return Some(b.clone());
    }
    if let Some(b) = registry().read().unwrap_or_else(|p| p.into_inner()).get(name) {
        return Some(b.clone());
    }
    match name {
        "pick_first" => Some(Arc::new(PickFirstBuilder)),
        "round_robin" => Some(Arc::new(RoundRobinBuilder)),
        _ => None,
    }
}
