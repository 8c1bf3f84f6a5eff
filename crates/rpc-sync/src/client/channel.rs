//! The blocking `Channel`: construction (insecure, TLS, local, builder), interceptor views
//! and `close`; an `rpc_aio::Channel` on the private runtime.
//!
//! # Implementation
//!
//! A `Channel` holds an [`rpc_aio::Channel`] (built inside the private runtime, so its
//! connection and call tasks live there) and a [`RuntimeHandle`] that keeps the runtime
//! alive. Every rule (targets, TLS, options, connectivity) is rpc-aio's.

use super::interceptor::{self, ClientInterceptor};
use crate::bridge;
use crate::runtime::RuntimeHandle;
use rpc_core::{ChannelCredentials, ChannelOptions, RpcError};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

/// A blocking gRPC channel (gRPC Python's `grpc.Channel`). Cheap to clone; clones share its
/// resolver, load-balancing policy and connections.
///
/// # Drop behavior
/// Dropping the last clone closes the channel: active calls end CANCELLED and connectivity
/// subscriptions stop. (Calls made through [`intercept_channel`](crate::intercept_channel)
/// views count as clones: the connection stays open while any view lives.)
///
/// ```no_run
/// use rpc_sync::codec::{Bytes, BytesCodec};
/// use rpc_sync::{ChannelOptions, Request, insecure_channel};
/// use std::time::Duration;
///
/// let channel = insecure_channel("localhost:50051", ChannelOptions::default())?;
/// let echo = channel.unary_unary_with_codec("/echo.Echo/Say", BytesCodec);
/// let reply = echo.call(Request::new(Bytes::from_static(b"hi")).timeout(Duration::from_secs(1)))?;
/// # let _ = reply;
/// channel.close(None);
/// # Ok::<(), rpc_sync::RpcError>(())
/// ```
#[derive(Clone)]
pub struct Channel {
    pub(crate) inner: Arc<Inner>,
}

/// The subscription tasks of one channel.
#[derive(Default)]
pub(crate) struct Subscriptions {
    pub(crate) next: u64,
    pub(crate) tasks: HashMap<u64, JoinHandle<()>>,
}

impl Subscriptions {
    pub(crate) fn abort_all(&mut self) {
        for (_, task) in self.tasks.drain() {
            task.abort();
        }
    }
}

/// What the clones of one channel (or one interceptor view) share.
pub(crate) struct Inner {
    pub(crate) aio: rpc_aio::Channel,
    pub(crate) subscriptions: Mutex<Subscriptions>,
    // Last, so the aio channel (and its calls) go before the runtime handle.
    pub(crate) runtime: RuntimeHandle,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Subscription tasks hold a clone of the aio channel; stop them so it closes.
        self.subscriptions.get_mut().unwrap_or_else(|p| p.into_inner()).abort_all();
    }
}

impl fmt::Debug for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel").field("aio", &self.inner.aio).finish()
    }
}

/// Creates a channel without TLS. Lazy: nothing connects until the first call or
/// `get_state(true)`; never blocks, so it may be called anywhere (also inside a runtime).
///
/// # Errors
/// `INVALID_ARGUMENT` for a bad target or option; `UNAVAILABLE` if the private runtime
/// cannot start.
pub fn insecure_channel(target: &str, options: ChannelOptions) -> Result<Channel, RpcError> {
    Channel::builder(target).options(options).build()
}

/// Creates a channel with the given credentials (TLS, local or insecure). Lazy, like
/// [`insecure_channel`].
///
/// # Errors
/// As [`insecure_channel`], and `INVALID_ARGUMENT` for an unusable TLS configuration.
pub fn secure_channel(target: &str, credentials: ChannelCredentials, options: ChannelOptions) -> Result<Channel, RpcError> {
    Channel::builder(target).credentials(credentials).options(options).build()
}

/// Builds a [`Channel`]: target, options, credentials and blocking interceptors. It holds
/// rpc-aio's builder and adds the blocking interceptors.
#[must_use = "a builder does nothing until build() is called"]
pub struct ChannelBuilder {
    inner: rpc_aio::ChannelBuilder,
    interceptors: Vec<Arc<dyn ClientInterceptor>>,
}

impl fmt::Debug for ChannelBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelBuilder")
            .field("aio", &self.inner)
            .field("interceptors", &self.interceptors.len())
            .finish()
    }
}

impl ChannelBuilder {
    /// Sets the options.
    pub fn options(self, options: ChannelOptions) -> Self {
        ChannelBuilder {
            inner: self.inner.options(options),
            ..self
        }
    }

    /// Sets the credentials (default: insecure).
    pub fn credentials(self, credentials: ChannelCredentials) -> Self {
        ChannelBuilder {
            inner: self.inner.credentials(credentials),
            ..self
        }
    }

    /// Adds a blocking interceptor; interceptors run in the order added.
    pub fn interceptor(self, interceptor: impl ClientInterceptor) -> Self {
        self.interceptor_arc(Arc::new(interceptor))
    }

    /// Adds a blocking interceptor already in an `Arc`.
    pub fn interceptor_arc(mut self, interceptor: Arc<dyn ClientInterceptor>) -> Self {
        self.interceptors.push(interceptor);
        self
    }

    /// Adds a resolver for its scheme, for this channel only (rpc-aio's
    /// `ChannelBuilder::resolver`).
    pub fn resolver(self, builder: impl rpc_aio::resolver::ResolverBuilder) -> Self {
        ChannelBuilder {
            inner: self.inner.resolver(builder),
            ..self
        }
    }

    /// Adds a resolver already in an `Arc` (see [`resolver`](Self::resolver)).
    pub fn resolver_arc(self, builder: Arc<dyn rpc_aio::resolver::ResolverBuilder>) -> Self {
        ChannelBuilder {
            inner: self.inner.resolver_arc(builder),
            ..self
        }
    }

    /// Adds a load-balancing policy by its name, for this channel only (rpc-aio's
    /// `ChannelBuilder::lb_policy`).
    pub fn lb_policy(self, builder: impl rpc_aio::lb::LbPolicyBuilder) -> Self {
        ChannelBuilder {
            inner: self.inner.lb_policy(builder),
            ..self
        }
    }

    /// Adds a policy already in an `Arc` (see [`lb_policy`](Self::lb_policy)).
    pub fn lb_policy_arc(self, builder: Arc<dyn rpc_aio::lb::LbPolicyBuilder>) -> Self {
        ChannelBuilder {
            inner: self.inner.lb_policy_arc(builder),
            ..self
        }
    }

    /// Creates the channel (lazily connected) on the private runtime.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for a bad target, option, service config or TLS configuration;
    /// `UNAVAILABLE` if the private runtime cannot start.
    pub fn build(self) -> Result<Channel, RpcError> {
        let runtime = RuntimeHandle::shared()?;
        let aio = {
            // rpc-aio channels attach to the runtime they are built in.
            let _entered = runtime.enter();
            self.inner.build()?
        };
        let aio = interceptor::wrap(&aio, &runtime, self.interceptors);
        Ok(Channel::from_parts(aio, runtime))
    }
}

impl Channel {
    /// A builder for a channel to `target`.
    pub fn builder(target: &str) -> ChannelBuilder {
        ChannelBuilder {
            inner: rpc_aio::Channel::builder(target),
            interceptors: Vec::new(),
        }
    }

    pub(crate) fn from_parts(aio: rpc_aio::Channel, runtime: RuntimeHandle) -> Channel {
        Channel {
            inner: Arc::new(Inner {
                aio,
                subscriptions: Mutex::new(Subscriptions::default()),
                runtime,
            }),
        }
    }

    pub(crate) fn runtime(&self) -> &RuntimeHandle {
        &self.inner.runtime
    }

    /// The async channel this one wraps, for code that mixes both faces.
    pub fn as_aio(&self) -> &rpc_aio::Channel {
        &self.inner.aio
    }

    /// The target this channel was made for, normalised (`host:port` or `unix:path`).
    pub fn target(&self) -> String {
        self.inner.aio.target()
    }

    /// The options the channel was made with.
    pub fn options(&self) -> &ChannelOptions {
        self.inner.aio.options()
    }

    /// Closes the channel: new calls fail at once (CANCELLED); active calls get up to
    /// `grace` to finish, then the connection is closed and the calls still on it end
    /// CANCELLED; the state becomes SHUTDOWN. `None` (gRPC Python's `close()`) ends them at
    /// once. Closing one clone closes them all.
    ///
    /// Blocks until the grace is over, except on a thread inside an async runtime, where it
    /// starts the close and returns at once.
    pub fn close(&self, grace: Option<Duration>) {
        let aio = self.inner.aio.clone();
        if bridge::wait(self.runtime().handle(), aio.close(grace)).is_err() {
            let aio = self.inner.aio.clone();
            drop(self.runtime().spawn(async move { aio.close(grace).await }));
        }
    }
}

impl Channel {
    /// A channel over the same connection whose calls run through `interceptors` first (in
    /// the order given), then through this channel's own (gRPC Python's
    /// `intercept_channel`). It shares this channel's connection, state and `close`.
    pub fn with_interceptors(&self, interceptors: impl IntoIterator<Item = Arc<dyn ClientInterceptor>>) -> Channel {
        let aio = interceptor::wrap(&self.inner.aio, self.runtime(), interceptors.into_iter().collect());
        Channel::from_parts(aio, self.runtime().clone())
    }
}

/// A channel whose calls run through `interceptors` (in the order given), then through
/// `channel`'s own (gRPC Python's `grpc.intercept_channel(channel, *interceptors)`).
///
/// The new channel shares `channel`'s connection: closing either closes both, and the
/// connection stays open while either has a live clone. To mix interceptor types, pass
/// `Arc<dyn ClientInterceptor>`s (or nest `intercept_channel` calls: the outer one runs first).
pub fn intercept_channel<I>(channel: &Channel, interceptors: I) -> Channel
where
    I: IntoIterator,
    I::Item: ClientInterceptor,
{
    channel.with_interceptors(interceptors.into_iter().map(|i| Arc::new(i) as Arc<dyn ClientInterceptor>))
}
