//! The async `Channel`: construction (insecure, TLS, local, builder), interceptor views,
//! and `close`.
//!
//! # Implementation
//!
//! A channel's target is resolved into addresses by its resolver and spread over
//! subchannels (one connection per address) by its load-balancing policy; both run on the
//! channel's control task ([`super::control`]), which publishes the picker calls use, the
//! service config and the connectivity state (SHUTDOWN once the channel is closed). Calls
//! hold the shared state, never a handle, so a call never keeps the channel open: dropping
//! the last handle closes it.

use super::backoff::Backoff;
use super::connect::Connector;
use super::control::{Control, Current, Event, Host};
use super::health::HealthCheck;
use super::interceptor::ClientInterceptor;
use super::lb::{self, Constant, LbPolicyBuilder, Picker};
use super::resolver::{self, ResolverBuilder, TargetUri};
use super::service_config::ServiceConfig;
use super::subchannel::Core;
use super::throttle::Throttle;
use super::tls;
use crate::channelz::{ChannelNode, Severity};
use rpc_core::{ChannelConnectivity, ChannelCredentials, ChannelKind, ChannelOptions, RpcError};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};

/// The library's part of the `user-agent` header (gRPC's `grpc-<language>-<name>/<version>`).
const USER_AGENT: &str = concat!("grpc-rust-rpc/", env!("CARGO_PKG_VERSION"));

/// What calls share with the channel.
pub(crate) struct ChannelShared {
    pub(crate) target: TargetUri,
    pub(crate) scheme: http::uri::Scheme,
    pub(crate) authority: http::uri::Authority,
    pub(crate) options: ChannelOptions,
    pub(crate) credentials: ChannelCredentials,
    pub(crate) runtime: tokio::runtime::Handle,
    pub(crate) user_agent: http::HeaderValue,
    /// The picker, the service config and the throttle, as the control task published them.
    pub(crate) current: watch::Sender<Current>,
    /// Request bytes all calls keep for retries (against `retry_buffer_size`).
    pub(crate) retry_buffered: AtomicUsize,
    events: mpsc::UnboundedSender<Event>,
    /// Every subchannel made, so that closing the channel closes their connections.
    cores: Mutex<Vec<Weak<Core>>>,
    state: watch::Sender<ChannelConnectivity>,
    closed: AtomicBool,
    active: AtomicUsize,
    idle: Notify,
    /// The channel's channelz entry: its calls, state and trace.
    pub(crate) channelz: Arc<ChannelNode>,
}

impl fmt::Debug for ChannelShared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelShared").field("target", &self.target.to_string()).finish()
    }
}

/// Counts one active call (for `close(grace)`); dropping it uncounts the call.
pub(crate) struct ActiveCall(Arc<ChannelShared>);

impl Drop for ActiveCall {
    fn drop(&mut self) {
        if self.0.active.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl ChannelShared {
    /// Counts a new call, or `None` when the channel is closed.
    pub(crate) fn begin_call(self: &Arc<Self>) -> Option<ActiveCall> {
        self.active.fetch_add(1, Ordering::AcqRel);
        let guard = ActiveCall(self.clone());
        if self.closed.load(Ordering::Acquire) { None } else { Some(guard) }
    }

    /// Whether `close` has begun (new calls fail).
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The connectivity state.
    pub(crate) fn state(&self) -> ChannelConnectivity {
        *self.state.borrow()
    }

    /// A receiver of state changes.
    pub(crate) fn subscribe(&self) -> watch::Receiver<ChannelConnectivity> {
        self.state.subscribe()
    }

    /// Asks the control task to connect an IDLE channel.
    pub(crate) fn exit_idle(&self) {
        let _ = self.events.send(Event::ExitIdle);
    }

    async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.active.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }

    /// New calls fail from now on; the state is SHUTDOWN.
    fn begin_close(&self) {
        self.closed.store(true, Ordering::Release);
        self.state.send_replace(ChannelConnectivity::Shutdown);
        self.channelz.set_state(ChannelConnectivity::Shutdown);
        // Wakes calls waiting for a pick: they see the channel closed.
        self.current.send_modify(|c| {
            c.picker = Arc::new(Constant::Fail(RpcError::cancelled("channel closed")));
            c.state = ChannelConnectivity::Shutdown;
        });
    }

    /// Closes the connections: the calls still on them fail.
    fn shut_down(&self) {
        self.begin_close();
        let cores = std::mem::take(&mut *self.cores.lock().unwrap_or_else(|p| p.into_inner()));
        for core in cores.iter().filter_map(Weak::upgrade) {
            core.shutdown();
        }
        let _ = self.events.send(Event::Shutdown);
        self.channelz.deregister();
    }
}

impl Host for ChannelShared {
    fn target(&self) -> &TargetUri {
        &self.target
    }

    fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }

    fn lb_policy_name(&self) -> Option<&str> {
        self.options.lb_policy_name.as_deref()
    }

    fn is_closed(&self) -> bool {
        ChannelShared::is_closed(self)
    }

    /// Publishes a picker, then the state it goes with (unless the channel is closed).
    fn publish(&self, state: ChannelConnectivity, picker: Arc<dyn Picker>) {
        if self.is_closed() {
            return;
        }
        // The state first: a call that saw the new picker (and failed by it, say) then
        // reads the state that came with it from `get_state`.
        self.state.send_if_modified(|s| {
            if *s == state || *s == ChannelConnectivity::Shutdown {
                false
            } else {
                *s = state;
                self.channelz.set_state(state);
                true
            }
        });
        self.current.send_modify(|c| {
            c.picker = picker;
            c.state = state;
        });
    }

    /// Records that the resolver answered, with the service config now in force (`None`:
    /// unchanged).
    fn set_resolved(&self, config: Option<Arc<ServiceConfig>>) {
        let what = if config.is_some() { "with a service config" } else { "" };
        self.channelz
            .event(Severity::Info, format!("Resolution result received {what}").trim_end().to_owned());
        self.current.send_modify(|c| {
            c.resolved = true;
            if let Some(config) = config
                && !Arc::ptr_eq(&config, &c.config)
            {
                if config.throttling != c.config.throttling {
                    c.throttle = config.throttling.map(|t| Arc::new(Throttle::new(t)));
                }
                c.config = config;
            }
        });
    }

    /// Keeps a weak reference to a new subchannel, for `shut_down`.
    fn track(&self, core: &Arc<Core>) {
        let mut cores = self.cores.lock().unwrap_or_else(|p| p.into_inner());
        cores.retain(|c| c.strong_count() > 0);
        cores.push(Arc::downgrade(core));
        drop(cores);
        self.channelz.add_subchannel(core.channelz());
    }
}

/// An async gRPC channel (grpc.aio's `Channel`). Cheap to clone; the clones share its
/// resolver, policy and connections. Dropping the last clone closes it without grace (active calls are cancelled).
///
/// ```no_run
/// # async fn demo() -> Result<(), rpc_aio::RpcError> {
/// use rpc_aio::{ChannelOptions, Request, insecure_channel};
/// use rpc_aio::codec::{Bytes, BytesCodec};
/// use std::time::Duration;
///
/// let channel = insecure_channel("localhost:50051", ChannelOptions::default())?;
/// let echo = channel.unary_unary_with_codec("/echo.Echo/Say", BytesCodec);
/// let call = echo.call(Request::new(Bytes::from_static(b"hi")).timeout(Duration::from_secs(1)));
/// let headers = call.initial_metadata().await?;
/// let reply = call.await?;
/// # let _ = (headers, reply);
/// channel.close(Some(Duration::from_secs(5))).await;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Channel {
    view: Arc<View>,
}

/// A chain of client interceptors, in the order they run.
pub(crate) type Interceptors = Arc<[Arc<dyn ClientInterceptor>]>;

/// One view of the connection: the connection's handle and this view's interceptors.
struct View {
    handle: Arc<Handle>,
    interceptors: Interceptors,
}

/// Owned by every view: when the last one goes, the channel closes.
struct Handle {
    shared: Arc<ChannelShared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.shut_down();
    }
}

impl fmt::Debug for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field("target", &self.shared().target.to_string())
            .field("state", &self.shared().state())
            .finish()
    }
}

/// Creates a channel without TLS. Lazy: nothing connects until the first call or
/// `get_state(true)`. Must be called inside a tokio runtime.
///
/// # Errors
/// INVALID_ARGUMENT for a bad target or option; FAILED_PRECONDITION outside a runtime.
pub fn insecure_channel(target: &str, options: ChannelOptions) -> Result<Channel, RpcError> {
    Channel::builder(target).options(options).build()
}

/// Creates a channel with the given credentials (TLS, local or insecure). Lazy; must be
/// called inside a tokio runtime.
///
/// # Errors
/// As [`insecure_channel`], and INVALID_ARGUMENT for TLS settings rustls refuses.
pub fn secure_channel(target: &str, credentials: ChannelCredentials, options: ChannelOptions) -> Result<Channel, RpcError> {
    Channel::builder(target).credentials(credentials).options(options).build()
}

/// Builds a [`Channel`]: target, options, credentials, interceptors, and resolvers and
/// load-balancing policies of its own.
#[must_use = "a builder does nothing until build() is called"]
pub struct ChannelBuilder {
    target: String,
    options: ChannelOptions,
    credentials: ChannelCredentials,
    interceptors: Vec<Arc<dyn ClientInterceptor>>,
    resolvers: Vec<Arc<dyn ResolverBuilder>>,
    policies: Vec<Arc<dyn LbPolicyBuilder>>,
}

impl fmt::Debug for ChannelBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelBuilder")
            .field("target", &self.target)
            .field("interceptors", &self.interceptors.len())
            .field("resolvers", &self.resolvers)
            .field("policies", &self.policies)
            .finish()
    }
}

impl ChannelBuilder {
    /// Sets the options.
    pub fn options(mut self, options: ChannelOptions) -> Self {
        self.options = options;
        self
    }

    /// Sets the credentials (default: insecure).
    pub fn credentials(mut self, credentials: ChannelCredentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Adds an interceptor; interceptors run in the order added.
    pub fn interceptor(self, interceptor: impl ClientInterceptor) -> Self {
        self.interceptor_arc(Arc::new(interceptor))
    }

    /// Adds an interceptor already in an `Arc`.
    pub fn interceptor_arc(mut self, interceptor: Arc<dyn ClientInterceptor>) -> Self {
        self.interceptors.push(interceptor);
        self
    }

    /// Adds a resolver for its scheme, for this channel only (it wins over a registered
    /// one of the same scheme).
    pub fn resolver(self, builder: impl ResolverBuilder) -> Self {
        self.resolver_arc(Arc::new(builder))
    }

    /// Adds a resolver already in an `Arc` (see [`resolver`](Self::resolver)).
    pub fn resolver_arc(mut self, builder: Arc<dyn ResolverBuilder>) -> Self {
        self.resolvers.push(builder);
        self
    }

    /// Adds a load-balancing policy by its name, for this channel only.
    pub fn lb_policy(self, builder: impl LbPolicyBuilder) -> Self {
        self.lb_policy_arc(Arc::new(builder))
    }

    /// Adds a policy already in an `Arc` (see [`lb_policy`](Self::lb_policy)).
    pub fn lb_policy_arc(mut self, builder: Arc<dyn LbPolicyBuilder>) -> Self {
        self.policies.push(builder);
        self
    }

    /// Creates the channel (lazily connected: nothing is resolved or connected until the
    /// first call, `get_state(true)` or `channel_ready`).
    ///
    /// # Errors
    /// INVALID_ARGUMENT for a bad target, option, service config or TLS configuration;
    /// FAILED_PRECONDITION outside a tokio runtime.
    pub fn build(self) -> Result<Channel, RpcError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            RpcError::failed_precondition("rpc_aio channels must be created inside a tokio runtime (use rpc_sync for blocking code)")
        })?;
        let own = &self.resolvers;
        let target = TargetUri::parse(&self.target, |scheme| resolver::lookup(scheme, own).is_some())?;
        let builder = resolver::lookup(target.scheme(), own)
            .ok_or_else(|| RpcError::invalid_argument(format!("invalid target {:?}: no resolver for its scheme", self.target)))?;
        let resolver = builder.build(&target, &self.options)?;
        let o = &self.options;
        let bad =
            |what: &str, e: &dyn fmt::Display| RpcError::invalid_argument(format!("invalid {what} for target {:?}: {e}", self.target));
        if let Some(name) = &o.lb_policy_name
            && lb::lookup(name, &self.policies).is_none()
        {
            return Err(bad(
                "lb_policy_name",
                &format!("no load-balancing policy named {name:?} (built in: pick_first, round_robin)"),
            ));
        }
        let default_config = Arc::new(match &o.service_config {
            Some(json) => ServiceConfig::parse(json, &self.policies)?,
            None => ServiceConfig::default(),
        });
        let target_authority = builder.default_authority(&target);
        let tls = match self.credentials.kind() {
            ChannelKind::Ssl(ssl) => {
                let name = o
                    .ssl_target_name_override
                    .clone()
                    .unwrap_or_else(|| host_of(&target_authority).to_owned());
                Some(tls::client_config(ssl, &name)?)
            }
            _ => None,
        };
        let local_only = matches!(self.credentials.kind(), ChannelKind::Local);
        let authority_text = o.default_authority.clone().unwrap_or(target_authority);
        let authority = http::uri::Authority::try_from(authority_text.as_str()).map_err(|e| bad("authority", &e))?;
        let scheme = if tls.is_some() {
            http::uri::Scheme::HTTPS
        } else {
            http::uri::Scheme::HTTP
        };
        let user_agent = match &o.user_agent {
            Some(prefix) => format!("{prefix} {USER_AGENT}"),
            None => USER_AGENT.to_owned(),
        };
        let user_agent = http::HeaderValue::try_from(user_agent).map_err(|e| bad("user agent", &e))?;
        let connector = Arc::new(Connector::new(o, tls, local_only));
        let backoff = Backoff {
            initial: o.initial_reconnect_backoff,
            max: o.max_reconnect_backoff,
        };
        let (events, events_rx) = mpsc::unbounded_channel();
        let health = HealthCheck {
            service: String::new(),
            scheme: scheme.clone(),
            authority: authority.clone(),
            user_agent: user_agent.clone(),
        };
        let shared = Arc::new(ChannelShared {
            target,
            scheme,
            authority,
            options: self.options,
            credentials: self.credentials,
            runtime: runtime.clone(),
            user_agent,
            current: watch::channel(Current::new(default_config.clone())).0,
            retry_buffered: AtomicUsize::new(0),
            events: events.clone(),
            cores: Mutex::new(Vec::new()),
            state: watch::channel(ChannelConnectivity::Idle).0,
            closed: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            idle: Notify::new(),
            channelz: ChannelNode::register(self.target.clone()),
        });
        let control = Control {
            shared: Arc::downgrade(&(shared.clone() as Arc<dyn Host>)),
            resolver,
            policies: self.policies,
            default_config,
            connector,
            backoff,
            health,
            events,
        };
        runtime.spawn(control.run(events_rx));
        Ok(Channel {
            view: Arc::new(View {
                handle: Arc::new(Handle { shared }),
                interceptors: self.interceptors.into(),
            }),
        })
    }
}

/// The host of an authority (`host:port`, `[v6]:port`, `host`).
fn host_of(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(h, _)| h);
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => authority,
    }
}

impl Channel {
    /// A builder for a channel to `target`.
    pub fn builder(target: &str) -> ChannelBuilder {
        ChannelBuilder {
            target: target.to_owned(),
            options: ChannelOptions::default(),
            credentials: ChannelCredentials::insecure(),
            interceptors: Vec::new(),
            resolvers: Vec::new(),
            policies: Vec::new(),
        }
    }

    pub(crate) fn shared(&self) -> &Arc<ChannelShared> {
        &self.view.handle.shared
    }

    pub(crate) fn interceptors(&self) -> &Interceptors {
        &self.view.interceptors
    }

    /// A channel over the same connection whose calls run through `interceptors` first (in
    /// the order given), then through this channel's own interceptors, as gRPC Python's
    /// `intercept_channel` wraps a channel.
    ///
    /// The result is a clone of this channel in every other respect: the connection, its
    /// connectivity state and `close` are shared, and the connection stays open until the
    /// last clone of either is dropped.
    pub fn with_interceptors(&self, interceptors: impl IntoIterator<Item = Arc<dyn ClientInterceptor>>) -> Channel {
        let chain: Vec<_> = interceptors.into_iter().chain(self.view.interceptors.iter().cloned()).collect();
        Channel {
            view: Arc::new(View {
                handle: self.view.handle.clone(),
                interceptors: chain.into(),
            }),
        }
    }

    /// The target this channel was made for, as given.
    pub fn target(&self) -> String {
        self.shared().target.to_string()
    }

    /// The options the channel was made with.
    pub fn options(&self) -> &ChannelOptions {
        &self.shared().options
    }

    /// Closes the channel: new calls fail at once (CANCELLED), active calls get up to
    /// `grace` to finish, then the connection is closed and the calls still on it fail
    /// (CANCELLED); the state becomes SHUTDOWN. `None` closes the connection at once.
    ///
    /// # Cancel safety
    /// The channel is closed to new calls as soon as this is first polled; dropping the
    /// future during the grace period leaves active calls running (drop the channel or call
    /// `close(None)` to end them).
    pub async fn close(&self, grace: Option<Duration>) {
        let shared = self.shared();
        shared.begin_close();
        if let Some(grace) = grace {
            let _ = tokio::time::timeout(grace, shared.wait_idle()).await;
        }
        shared.shut_down();
    }
}

/// A channel whose calls run through `interceptors` (in the order given), then through
/// `channel`'s own (gRPC Python's `grpc.aio` interceptors, in `intercept_channel`'s shape).
///
/// The new channel shares `channel`'s connection: closing either closes both, and the
/// connection stays open while either has a live clone.
pub fn intercept_channel<I>(channel: &Channel, interceptors: I) -> Channel
where
    I: IntoIterator,
    I::Item: ClientInterceptor,
{
    channel.with_interceptors(interceptors.into_iter().map(|i| Arc::new(i) as Arc<dyn ClientInterceptor>))
}
