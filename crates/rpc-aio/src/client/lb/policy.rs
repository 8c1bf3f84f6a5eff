//! The load-balancing API: what a policy is told ([`LbUpdate`]), what it implements
//! ([`LbPolicy`], [`LbPolicyBuilder`]), what it can ask of its channel ([`LbHelper`]) and how
//! it chooses per call ([`Picker`], [`Pick`]).

use super::subchannel_ref::Subchannel;
use crate::client::resolver::Address;
use rpc_core::{ChannelConnectivity, Metadata, RpcError};
use std::fmt;
use std::sync::Arc;

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
