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
mod policy;
mod registry;
mod round_robin;
mod subchannel_ref;

pub(crate) use policy::{Constant, all_failed};
pub use policy::{LbHelper, LbPolicy, LbPolicyBuilder, LbUpdate, Pick, PickInfo, Picker};
pub(crate) use registry::lookup;
pub use registry::{register, register_arc};
pub use subchannel_ref::Subchannel;
pub(crate) use subchannel_ref::WeakSubchannel;
