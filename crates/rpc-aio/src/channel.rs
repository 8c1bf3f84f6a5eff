//! The async `Channel`: construction (insecure, TLS, builder), connectivity, and `close`.
//!
//! # Implementation
//!
//! A channel is a lazily connected `tonic::transport::Channel` whose connector is our own
//! ([`crate::connectivity`]): it opens the TCP or Unix socket, so the connectivity state is
//! what really happened (IDLE, CONNECTING, READY, TRANSIENT_FAILURE with backoff, IDLE again
//! when the socket ends, SHUTDOWN after `close`). TLS is tonic's, on top of that socket; with
//! no root certificates given it trusts the process's default roots ([`crate::tls_roots`]).

use crate::client_interceptor::ClientInterceptor;
use crate::connectivity::{Connectivity, ObservedConnector};
use crate::target::Target;
use rpc_core::{ChannelConnectivity, ChannelCredentials, ChannelKind, ChannelOptions, RpcError};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio_rustls::rustls::pki_types::TrustAnchor;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

/// What calls share with the channel; calls hold it, so a call never keeps the channel open.
pub(crate) struct ChannelInner {
    pub(crate) tonic: tonic::transport::Channel,
    pub(crate) target: Target,
    pub(crate) authority: String,
    pub(crate) options: ChannelOptions,
    pub(crate) credentials: ChannelCredentials,
    pub(crate) connectivity: Arc<Connectivity>,
    pub(crate) runtime: tokio::runtime::Handle,
    pub(crate) cancel_all: watch::Sender<bool>,
    closed: AtomicBool,
    active: AtomicUsize,
    idle: Notify,
}

/// Counts one active call; dropping it (the call's task ended or was aborted) uncounts it.
pub(crate) struct CallGuard(Arc<ChannelInner>);

impl Drop for CallGuard {
    fn drop(&mut self) {
        if self.0.active.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl ChannelInner {
    /// Counts a new call, or `None` when the channel is closed.
    pub(crate) fn begin_call(self: &Arc<Self>) -> Option<CallGuard> {
        self.active.fetch_add(1, Ordering::AcqRel);
        let guard = CallGuard(self.clone());
        if self.closed.load(Ordering::Acquire) { None } else { Some(guard) }
    }

    /// Whether `close` has begun (new calls fail).
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
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

    fn begin_close(&self) {
        self.closed.store(true, Ordering::Release);
        self.connectivity.set(ChannelConnectivity::Shutdown);
    }
}

/// An async gRPC channel (grpc.aio's `Channel`). Cheap to clone; the clones share one
/// connection. Dropping the last clone closes it without grace (active calls are cancelled).
///
/// ```no_run
/// # async fn demo() -> Result<(), rpc_aio::RpcError> {
/// use rpc_aio::{ChannelOptions, Request, insecure_channel};
/// use std::time::Duration;
///
/// let channel = insecure_channel("localhost:50051", ChannelOptions::default())?;
/// let echo = channel.unary_unary::<String, String>("/echo.Echo/Say");
/// let call = echo.call(Request::new("hi".to_owned()).timeout(Duration::from_secs(1)));
/// let headers = call.initial_metadata().await?;
/// let reply = call.await?;
/// # let _ = (headers, reply);
/// channel.close(Some(Duration::from_secs(5))).await;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Channel {
    pub(crate) handle: Arc<Handle>,
    /// The interceptors of this view of the connection (see [`Channel::with_interceptors`]).
    pub(crate) interceptors: Interceptors,
}

/// A chain of client interceptors, in the order they run.
pub(crate) type Interceptors = Arc<[Arc<dyn ClientInterceptor>]>;

pub(crate) struct Handle {
    pub(crate) inner: Arc<ChannelInner>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.inner.begin_close();
        self.inner.cancel_all.send_replace(true);
    }
}

impl fmt::Debug for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field("target", &self.inner().target.to_string())
            .field("state", &self.inner().connectivity.get())
            .finish()
    }
}

/// Creates a channel without TLS. Lazy: nothing connects until the first call or
/// `get_state(true)`. Must be called inside a tokio runtime.
pub fn insecure_channel(target: &str, options: ChannelOptions) -> Result<Channel, RpcError> {
    Channel::builder(target).options(options).build()
}

/// Creates a channel with the given credentials (TLS, local or insecure). Lazy; must be
/// called inside a tokio runtime.
pub fn secure_channel(target: &str, credentials: ChannelCredentials, options: ChannelOptions) -> Result<Channel, RpcError> {
    Channel::builder(target).credentials(credentials).options(options).build()
}

/// Builds a [`Channel`]: target, options, credentials and interceptors.
#[must_use = "a builder does nothing until build() is called"]
pub struct ChannelBuilder {
    target: String,
    options: ChannelOptions,
    credentials: ChannelCredentials,
    interceptors: Vec<Arc<dyn ClientInterceptor>>,
}

impl fmt::Debug for ChannelBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelBuilder")
            .field("target", &self.target)
            .field("interceptors", &self.interceptors.len())
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
    pub fn interceptor(mut self, interceptor: impl ClientInterceptor) -> Self {
        self.interceptors.push(Arc::new(interceptor));
        self
    }

    /// Adds an interceptor already in an `Arc`.
    pub fn interceptor_arc(mut self, interceptor: Arc<dyn ClientInterceptor>) -> Self {
        self.interceptors.push(interceptor);
        self
    }

    /// Creates the channel (lazily connected). Errors on a bad target or option, or when
    /// called outside a tokio runtime.
    ///
    /// TLS credentials without root certificates use the process's default roots, loaded
    /// (reading files) by the first such channel; when they cannot be loaded (an unreadable
    /// `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`, or no source at all) this fails with
    /// FAILED_PRECONDITION saying why, here rather than at the first connect.
    pub fn build(self) -> Result<Channel, RpcError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            RpcError::failed_precondition("rpc_aio channels must be created inside a tokio runtime (use rpc_sync for blocking code)")
        })?;
        let target = Target::parse(&self.target)?;
        let o = &self.options;
        let tls = match self.credentials.kind() {
            ChannelKind::Ssl(ssl) => {
                let mut cfg =
                    ClientTlsConfig::new().domain_name(o.ssl_target_name_override.clone().unwrap_or_else(|| target.host().to_owned()));
                cfg = match &ssl.root_certificates {
                    Some(roots) => cfg.ca_certificate(Certificate::from_pem(roots)),
                    None => cfg.trust_anchors(default_trust_anchors()?),
                };
                if let (Some(key), Some(chain)) = (&ssl.private_key, &ssl.certificate_chain) {
                    cfg = cfg.identity(Identity::from_pem(chain, key));
                }
                Some(cfg)
            }
            _ => None,
        };
        let authority = o.default_authority.clone().unwrap_or_else(|| target.authority());
        let scheme = if tls.is_some() { "https" } else { "http" };
        let bad =
            |what: &str, e: &dyn fmt::Display| RpcError::invalid_argument(format!("invalid {what} for target {:?}: {e}", self.target));
        let mut ep = Endpoint::from_shared(format!("{scheme}://{authority}")).map_err(|e| bad("authority", &e))?;
        if let Some(ua) = &o.user_agent {
            ep = ep.user_agent(ua.clone()).map_err(|e| bad("user agent", &e))?;
        }
        if let Some(t) = o.keepalive_time {
            ep = ep
                .http2_keep_alive_interval(t)
                .keep_alive_timeout(o.keepalive_timeout)
                .keep_alive_while_idle(o.keepalive_permit_without_calls);
        }
        ep = ep
            .http2_max_header_list_size(o.max_header_list_size)
            .initial_stream_window_size(o.initial_stream_window_size)
            .initial_connection_window_size(o.initial_connection_window_size);
        if let Some(tls) = tls {
            ep = ep.tls_config(tls).map_err(|e| bad("TLS configuration", &e))?;
        }
        let connectivity = Connectivity::new(
            target.clone(),
            o.connect_timeout,
            o.initial_reconnect_backoff,
            o.max_reconnect_backoff,
            runtime.clone(),
        );
        let tonic = ep.connect_with_connector_lazy(ObservedConnector {
            conn: connectivity.clone(),
        });
        let inner = Arc::new(ChannelInner {
            tonic,
            target,
            authority,
            options: self.options,
            credentials: self.credentials,
            connectivity,
            runtime,
            cancel_all: watch::channel(false).0,
            closed: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            idle: Notify::new(),
        });
        Ok(Channel {
            handle: Arc::new(Handle { inner }),
            interceptors: self.interceptors.into(),
        })
    }
}

/// The process's default roots ([`crate::tls_roots`]) in the form tonic's TLS config takes.
/// tonic copies them into a store of its own per channel; a transport that builds the
/// rustls client config itself can share the `Arc<RootCertStore>` instead.
fn default_trust_anchors() -> Result<Vec<TrustAnchor<'static>>, RpcError> {
    let roots = crate::tls_roots::default_roots().map_err(|e| RpcError::failed_precondition(e.to_string()))?;
    Ok(roots.store.roots.clone())
}

impl Channel {
    /// A builder for a channel to `target`.
    pub fn builder(target: &str) -> ChannelBuilder {
        ChannelBuilder {
            target: target.to_owned(),
            options: ChannelOptions::default(),
            credentials: ChannelCredentials::insecure(),
            interceptors: Vec::new(),
        }
    }

    pub(crate) fn inner(&self) -> &Arc<ChannelInner> {
        &self.handle.inner
    }

    /// A channel over the same connection whose calls run through `interceptors` first (in
    /// the order given), then through this channel's own interceptors, as gRPC Python's
    /// `intercept_channel` wraps a channel.
    ///
    /// The result is a clone of this channel in every other respect: the connection, its
    /// connectivity state and `close` are shared, and the connection stays open until the
    /// last clone of either is dropped.
    pub fn with_interceptors(&self, interceptors: impl IntoIterator<Item = Arc<dyn ClientInterceptor>>) -> Channel {
        let chain: Vec<_> = interceptors.into_iter().chain(self.interceptors.iter().cloned()).collect();
        Channel {
            handle: self.handle.clone(),
            interceptors: chain.into(),
        }
    }

    /// The target this channel was made for, normalised (`host:port` or `unix:path`).
    pub fn target(&self) -> String {
        self.inner().target.to_string()
    }

    /// The connectivity state; with `try_to_connect`, an IDLE channel starts connecting.
    pub fn get_state(&self, try_to_connect: bool) -> ChannelConnectivity {
        let state = self.inner().connectivity.get();
        if try_to_connect && matches!(state, ChannelConnectivity::Idle | ChannelConnectivity::TransientFailure) {
            self.inner().connectivity.try_connect();
        }
        state
    }

    /// Waits until the state differs from `last` and returns the new state.
    ///
    /// # Cancel safety
    /// Cancel safe: dropping the future only stops waiting.
    pub async fn wait_for_state_change(&self, last: ChannelConnectivity) -> ChannelConnectivity {
        let mut rx = self.inner().connectivity.subscribe();
        match rx.wait_for(|s| *s != last).await {
            Ok(s) => *s,
            Err(_) => ChannelConnectivity::Shutdown,
        }
    }

    /// Waits until the channel is READY, connecting (and reconnecting with backoff) as
    /// needed. Errors only when the channel is shut down.
    ///
    /// # Cancel safety
    /// Cancel safe: dropping the future stops waiting; an attempt already started goes on.
    pub async fn channel_ready(&self) -> Result<(), RpcError> {
        crate::call::driver::wait_ready(self.inner())
            .await
            .map_err(|_| RpcError::cancelled(format!("channel to {} is shut down; it will never be ready", self.inner().target)))
    }

    /// Closes the channel: new calls fail at once (CANCELLED), active calls get up to
    /// `grace` to finish and are then cancelled; the state becomes SHUTDOWN.
    ///
    /// # Cancel safety
    /// The channel is closed to new calls as soon as this is first polled; dropping the
    /// future during the grace period leaves active calls running (drop the channel or call
    /// `close(None)` to cancel them).
    pub async fn close(&self, grace: Option<Duration>) {
        let inner = self.inner();
        inner.begin_close();
        if let Some(grace) = grace {
            let _ = tokio::time::timeout(grace, inner.wait_idle()).await;
        }
        inner.cancel_all.send_replace(true);
        inner.wait_idle().await;
    }
}
