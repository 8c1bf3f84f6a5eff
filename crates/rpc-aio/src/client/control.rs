//! The control side of a channel: one task per channel that runs its resolver and its
//! load-balancing policy, one event at a time (resolver updates, subchannel state changes,
//! requests to leave IDLE), and publishes what calls read: the picker, the service config
//! and the channel's connectivity state. The task starts resolving at the channel's first
//! connection attempt (a call, `get_state(true)`, `channel_ready`) and ends when the
//! channel shuts down.

use super::backoff::Backoff;
use super::connect::Connector;
use super::health::HealthCheck;
use super::lb::{self, Constant, LbHelper, LbPolicy, LbPolicyBuilder, LbUpdate, Picker, Subchannel, WeakSubchannel};
use super::resolver::{Address, Resolver, ResolverUpdate, TargetUri};
use super::service_config::ServiceConfig;
use super::subchannel::Core;
use super::throttle::Throttle;
use futures::StreamExt;
use rpc_core::{ChannelConnectivity, RpcError};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use tokio::sync::mpsc;

/// What the control task hears.
#[derive(Debug)]
pub(crate) enum Event {
    /// A call or `get_state(true)` wants the channel connected.
    ExitIdle,
    /// A subchannel changed state.
    Subchannel(u64, ChannelConnectivity),
    /// The channel shut down.
    Shutdown,
}

/// The channel, as its control task sees it (the channel implements this; the control
/// task holds it weakly, so it never keeps the channel open).
pub(crate) trait Host: Send + Sync + 'static {
    /// The target, for messages.
    fn target(&self) -> &TargetUri;
    /// The runtime subchannels run on.
    fn runtime(&self) -> &tokio::runtime::Handle;
    /// `ChannelOptions::lb_policy_name`.
    fn lb_policy_name(&self) -> Option<&str>;
    /// Whether the channel is closed.
    fn is_closed(&self) -> bool;
    /// Publishes a state and the picker calls use from now on.
    fn publish(&self, state: ChannelConnectivity, picker: Arc<dyn Picker>);
    /// The resolver answered; the service config now in force (`None`: unchanged).
    fn set_resolved(&self, config: Option<Arc<ServiceConfig>>);
    /// A new subchannel, closed with the channel.
    fn track(&self, core: &Arc<Core>);
}

/// What calls read, published by the control task.
pub(crate) struct Current {
    pub(crate) picker: Arc<dyn Picker>,
    pub(crate) config: Arc<ServiceConfig>,
    pub(crate) throttle: Option<Arc<Throttle>>,
    /// Whether the resolver has answered once (the service config is known).
    pub(crate) resolved: bool,
    /// The channel's state published with the picker (read together with it, so a call
    /// that finds the picker queueing also sees whether the channel is IDLE).
    pub(crate) state: ChannelConnectivity,
}

impl Current {
    pub(crate) fn new(config: Arc<ServiceConfig>) -> Current {
        let throttle = config.throttling.map(|t| Arc::new(Throttle::new(t)));
        Current {
            picker: Arc::new(Constant::Queue),
            config,
            throttle,
            resolved: false,
            state: ChannelConnectivity::Idle,
        }
    }
}

/// What the control task owns.
pub(crate) struct Control {
    pub(crate) shared: Weak<dyn Host>,
    pub(crate) resolver: Box<dyn Resolver>,
    pub(crate) policies: Vec<Arc<dyn LbPolicyBuilder>>,
    pub(crate) default_config: Arc<ServiceConfig>,
    pub(crate) connector: Arc<Connector>,
    pub(crate) backoff: Backoff,
    pub(crate) health: HealthCheck,
    pub(crate) events: mpsc::UnboundedSender<Event>,
}

struct State {
    policy: Option<(String, Box<dyn LbPolicy>)>,
    subchannels: HashMap<u64, WeakSubchannel>,
    config: Arc<ServiceConfig>,
    has_addresses: bool,
}

static NEXT_SUBCHANNEL: AtomicU64 = AtomicU64::new(1);

/// The helper a policy gets while one of its methods runs.
struct Helper<'a> {
    control: &'a Control,
    shared: &'a dyn Host,
    subchannels: &'a mut HashMap<u64, WeakSubchannel>,
    health_service: Option<&'a str>,
    resolve_now: bool,
}

impl LbHelper for Helper<'_> {
    fn new_subchannel(&mut self, address: &Address, health_check: bool) -> Subchannel {
        let id = NEXT_SUBCHANNEL.fetch_add(1, Ordering::Relaxed);
        let events = self.control.events.clone();
        let health = match (health_check, self.health_service) {
            (true, Some(service)) => Some(Arc::new(HealthCheck {
                service: service.to_owned(),
                ..self.control.health.clone()
            })),
            _ => None,
        };
        let core = Core::new(
            id,
            address.clone(),
            self.control.connector.clone(),
            self.control.backoff,
            self.shared.runtime().clone(),
            Arc::new(move |id, state| {
                let _ = events.send(Event::Subchannel(id, state));
            }),
            health,
        );
        self.shared.track(&core);
        let subchannel = Subchannel::new(core);
        self.subchannels.insert(id, subchannel.downgrade());
        subchannel
    }

    fn update_state(&mut self, state: ChannelConnectivity, picker: Arc<dyn Picker>) {
        self.shared.publish(state, picker);
    }

    fn request_resolution(&mut self) {
        self.resolve_now = true;
    }
}

impl Control {
    /// Runs until the channel shuts down.
    pub(crate) async fn run(mut self, mut events: mpsc::UnboundedReceiver<Event>) {
        let mut state = State {
            policy: None,
            subchannels: HashMap::new(),
            config: self.default_config.clone(),
            has_addresses: false,
        };
        let mut started = false;
        let mut resolver_open = true;
        loop {
            let step = tokio::select! {
                e = events.recv() => match e {
                    Some(Event::Shutdown) | None => break,
                    Some(e) => Ok(e),
                },
                u = self.resolver.next(), if started && resolver_open => match u {
                    Some(u) => Err(u),
                    None => { resolver_open = false; continue }
                },
            };
            let Some(shared) = self.shared.upgrade() else { break };
            let shared = &*shared;
            if shared.is_closed() {
                break;
            }
            let resolve_now = match step {
                Ok(Event::ExitIdle) if !started => {
                    started = true;
                    shared.publish(ChannelConnectivity::Connecting, Arc::new(Constant::Queue));
                    false
                }
                Ok(Event::ExitIdle) => self.with_policy(shared, &mut state, |p, h| p.exit_idle(h)),
                Ok(Event::Subchannel(id, s)) => {
                    let Some(subchannel) = state.subchannels.get(&id).and_then(WeakSubchannel::upgrade) else {
                        state.subchannels.remove(&id);
                        continue;
                    };
                    self.with_policy(shared, &mut state, |p, h| p.subchannel_state(&subchannel, s, h))
                }
                Ok(Event::Shutdown) => break,
                Err(update) => self.resolved(shared, &mut state, update),
            };
            if resolve_now {
                self.resolver.resolve_now();
            }
        }
        drop(state);
    }

    /// Runs `f` on the policy (if there is one) with a helper; whether it asked to re-resolve.
    fn with_policy(&self, shared: &dyn Host, state: &mut State, f: impl FnOnce(&mut dyn LbPolicy, &mut dyn LbHelper)) -> bool {
        let Some((_, policy)) = state.policy.as_mut() else {
            return false;
        };
        let mut helper = Helper {
            control: self,
            shared,
            subchannels: &mut state.subchannels,
            health_service: state.config.health_service.as_deref(),
            resolve_now: false,
        };
        f(policy.as_mut(), &mut helper);
        helper.resolve_now
    }

    /// A resolver update: the service config, the policy, the addresses.
    fn resolved(&self, shared: &dyn Host, state: &mut State, update: ResolverUpdate) -> bool {
        let resolution = match update {
            Ok(r) if r.addresses.is_empty() => Err(RpcError::unavailable(format!(
                "the resolver of {} found no addresses",
                shared.target()
            ))),
            other => other,
        };
        let resolution = match resolution {
            Ok(r) => r,
            Err(e) => {
                shared.set_resolved(None);
                let e = RpcError::unavailable(format!("name resolution of {} failed: {}", shared.target(), e.details()));
                if state.policy.is_none() || !state.has_addresses {
                    shared.publish(ChannelConnectivity::TransientFailure, Arc::new(Constant::Fail(e.clone())));
                }
                return self.with_policy(shared, state, |p, h| p.resolver_error(&e, h));
            }
        };
        if let Some(json) = &resolution.service_config {
            match ServiceConfig::parse(json, &self.policies) {
                Ok(c) => state.config = Arc::new(c),
                Err(e) => {
                    tracing::warn!(target = %shared.target(), "the resolver's service config is invalid; keeping the last good one: {e}")
                }
            }
        } else if !Arc::ptr_eq(&state.config, &self.default_config) {
            state.config = self.default_config.clone();
        }
        shared.set_resolved(Some(state.config.clone()));
        let (name, lb_config) = match &state.config.lb {
            Some((name, json)) => (name.clone(), json.clone()),
            None => (shared.lb_policy_name().unwrap_or("pick_first").to_owned(), "{}".to_owned()),
        };
        if state.policy.as_ref().is_none_or(|(current, _)| *current != name) {
            match lb::lookup(&name, &self.policies) {
                Some(builder) => state.policy = Some((name, builder.build())),
                None => {
                    let e = RpcError::unavailable(format!("no load-balancing policy named {name:?}"));
                    shared.publish(ChannelConnectivity::TransientFailure, Arc::new(Constant::Fail(e)));
                    return false;
                }
            }
        }
        state.has_addresses = true;
        let addresses = resolution.addresses;
        self.with_policy(shared, state, |p, h| {
            p.update(
                LbUpdate {
                    addresses: &addresses,
                    config: &lb_config,
                },
                h,
            )
        })
    }
}
