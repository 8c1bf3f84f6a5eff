//! Load balancing: how a channel spreads calls over the addresses its resolver found
//! (gRPC's load-balancing policies). A policy ([`LbPolicy`]) gets each address list, makes
//! one [`Subchannel`] per address it wants (each with its own connection, state and
//! backoff), watches their states, and publishes the channel's state with a [`Picker`]
//! that chooses the subchannel of each call.
//!
//! Built in: `pick_first` (the default: the addresses in order, the first that connects
//! gets every call) and `round_robin` (every READY subchannel in turn, per call). A policy
//! is chosen by the service config's `loadBalancingConfig` (or its older
//! `loadBalancingPolicy`), else by `ChannelOptions::lb_policy_name`, else `pick_first`.
//! Custom policies are registered by name ([`register`], or per channel with
//! `ChannelBuilder::lb_policy`).
//!
//! # A custom policy
//!
//! A policy that sends each call to the subchannel whose address has the largest
//! `weight` attribute among the READY ones:
//!
//! ```
//! use rpc_aio::ChannelConnectivity;
//! use rpc_aio::lb::{LbHelper, LbPolicy, LbPolicyBuilder, LbUpdate, Pick, PickInfo, Picker, Subchannel};
//! use std::sync::Arc;
//!
//! struct Heaviest;
//! impl LbPolicyBuilder for Heaviest {
//!     fn name(&self) -> &str { "heaviest" }
//!     fn build(&self) -> Box<dyn LbPolicy> { Box::new(HeaviestPolicy(Vec::new())) }
//! }
//!
//! struct HeaviestPolicy(Vec<(u32, Subchannel)>);
//! impl LbPolicy for HeaviestPolicy {
//!     fn update(&mut self, update: LbUpdate<'_>, helper: &mut dyn LbHelper) {
//!         self.0 = update.addresses.iter().map(|a| {
//!             let weight = a.attribute("weight").and_then(|w| w.parse().ok()).unwrap_or(1);
//!             let subchannel = helper.new_subchannel(a, true);
//!             subchannel.connect();
//!             (weight, subchannel)
//!         }).collect();
//!         self.publish(helper);
//!     }
//!     fn subchannel_state(&mut self, subchannel: &Subchannel, state: ChannelConnectivity, helper: &mut dyn LbHelper) {
//!         if state == ChannelConnectivity::Idle {
//!             subchannel.connect();
//!         }
//!         self.publish(helper);
//!     }
//! }
//! impl HeaviestPolicy {
//!     fn publish(&self, helper: &mut dyn LbHelper) {
//!         let best = self.0.iter()
//!             .filter(|(_, s)| s.state() == ChannelConnectivity::Ready)
//!             .max_by_key(|(w, _)| *w)
//!             .map(|(_, s)| s.clone());
//!         let state = if best.is_some() { ChannelConnectivity::Ready } else { ChannelConnectivity::Connecting };
//!         helper.update_state(state, Arc::new(Fixed(best)));
//!     }
//! }
//!
//! struct Fixed(Option<Subchannel>);
//! impl Picker for Fixed {
//!     fn pick(&self, _info: &PickInfo<'_>) -> Pick {
//!         match &self.0 { Some(s) => Pick::Ready(s.clone()), None => Pick::Queue }
//!     }
//! }
//!
//! rpc_aio::lb::register(Heaviest);
//! // ChannelOptions::default().lb_policy_name("heaviest".to_owned())
//! ```

mod pick_first;
mod round_robin;
mod subchannel_ref;

pub(crate) use pick_first::PickFirstBuilder;
pub(crate) use round_robin::RoundRobinBuilder;
pub use subchannel_ref::Subchannel;
pub(crate) use subchannel_ref::WeakSubchannel;

use super::resolver::Address;
use rpc_core::{ChannelConnectivity, Metadata, RpcError};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

/// What a policy is told when the resolver has new addresses.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct LbUpdate<'a> {
    /// The addresses, in the resolver's order (never empty: an empty list is reported
    /// with [`LbPolicy::resolver_error`]).
    pub addresses: &'a [Address],
    /// This policy's entry of the service config's `loadBalancingConfig`, as JSON (`{}`
    /// when the policy was chosen by name).
    pub config: &'a str,
}

/// A load-balancing policy of one channel. Its methods run one at a time on the
/// channel's runtime (never concurrently, never from inside a call); they must not block.
pub trait LbPolicy: Send + 'static {
    /// New addresses from the resolver. Subchannels the policy no longer holds (dropped
    /// with every clone) close once their calls are done.
    fn update(&mut self, update: LbUpdate<'_>, helper: &mut dyn LbHelper);

    /// A subchannel this policy made changed state (IDLE after its connection ended or
    /// after the backoff that follows a failure; CONNECTING; READY; TRANSIENT_FAILURE).
    fn subchannel_state(&mut self, subchannel: &Subchannel, state: ChannelConnectivity, helper: &mut dyn LbHelper);

    /// The resolver failed (or found no addresses). The default keeps using the addresses
    /// the policy has, and when it has none, publishes TRANSIENT_FAILURE with the error.
    fn resolver_error(&mut self, error: &RpcError, helper: &mut dyn LbHelper) {
        let _ = (error, helper);
    }

    /// A call (or `get_state(true)`) wants the IDLE channel to connect.
    fn exit_idle(&mut self, helper: &mut dyn LbHelper) {
        let _ = helper;
    }
}

/// Makes one policy per channel; registered by name.
pub trait LbPolicyBuilder: Send + Sync + 'static {
    /// The name in `loadBalancingConfig` and `ChannelOptions::lb_policy_name`.
    fn name(&self) -> &str;

    /// A new policy.
    fn build(&self) -> Box<dyn LbPolicy>;

    /// Checks this policy's configuration (JSON) when a service config names it: an error
    /// makes the whole service config invalid (gRFC A21). The default accepts anything.
    ///
    /// # Errors
    /// Why the configuration is not acceptable.
    fn validate_config(&self, config: &str) -> Result<(), String> {
        let _ = config;
        Ok(())
    }
}

/// What a policy can ask of its channel.
pub trait LbHelper {
    /// A new subchannel (not connected: call [`Subchannel::connect`]) for `address`.
    /// With `health_check`, and a `healthCheckConfig` in the service config, the
    /// subchannel is READY only while the backend's `grpc.health.v1.Health/Watch` says
    /// SERVING (gRFC A17).
    fn new_subchannel(&mut self, address: &Address, health_check: bool) -> Subchannel;

    /// Publishes the channel's state and the picker calls use from now on.
    fn update_state(&mut self, state: ChannelConnectivity, picker: Arc<dyn Picker>);

    /// Asks the resolver to look again (it may do so later, see its docs).
    fn request_resolution(&mut self);
}

/// What a picker knows of the call it picks for.
#[derive(Clone, Copy, Debug)]
pub struct PickInfo<'a> {
    pub(crate) method: &'a str,
    pub(crate) metadata: &'a Metadata,
}

impl<'a> PickInfo<'a> {
    /// The method path (`/package.Service/Method`).
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// The call's metadata (e.g. a key to hash on).
    pub fn metadata(&self) -> &'a Metadata {
        self.metadata
    }
}

/// A picker's choice for one call.
#[derive(Debug)]
pub enum Pick {
    /// Send the call on this subchannel (if it is no longer READY, the call waits for the
    /// next picker).
    Ready(Subchannel),
    /// Wait for the next picker (connections are being made).
    Queue,
    /// Fail the call with this error (UNAVAILABLE, usually), unless it waits for ready,
    /// in which case it waits for the next picker.
    Fail(RpcError),
}

/// Chooses the subchannel of each call. Called on the call's task, for every call: it
/// must be fast and must not block.
pub trait Picker: Send + Sync + 'static {
    /// The choice for one call.
    fn pick(&self, info: &PickInfo<'_>) -> Pick;
}

/// A picker that always gives the same answer: queue, or fail with an error.
#[derive(Debug)]
pub(crate) enum Constant {
    Queue,
    Fail(RpcError),
}

impl Picker for Constant {
    fn pick(&self, _info: &PickInfo<'_>) -> Pick {
        match self {
            Constant::Queue => Pick::Queue,
            Constant::Fail(e) => Pick::Fail(e.clone()),
        }
    }
}

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

impl fmt::Debug for dyn LbPolicyBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LbPolicyBuilder").field("name", &self.name()).finish()
    }
}

impl fmt::Debug for dyn Picker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Picker")
    }
}

/// The error of a call when every address failed: the last failure, naming the address.
pub(crate) fn all_failed(subchannels: &[Subchannel]) -> RpcError {
    let why = subchannels
        .iter()
        .rev()
        .find_map(|s| s.last_error().map(|e| format!("failed to connect to {}: {e}", s.address())));
    RpcError::unavailable(why.unwrap_or_else(|| "no address could be connected".to_owned()))
}
