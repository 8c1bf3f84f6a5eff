//! `ServicerContext`: what a server handler knows about and can do to its RPC, shared by
//! blocking and async handlers, and (hidden from the documentation) `ContextControl`,
//! the server engine's side of it.

use crate::compression::Compression;
use crate::error::RpcError;
use crate::metadata::{Metadata, MetadataValue};
use crate::status::StatusCode;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// The authentication facts of a connection: the transport security type and, with
/// mutual TLS, the client certificate's subject and subject alternative names.
///
/// Cheap to clone: every RPC of a connection shares its connection's facts (a change made
/// through a clone copies them first).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthContext {
    inner: Arc<AuthFacts>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct AuthFacts {
    properties: BTreeMap<String, Vec<Vec<u8>>>,
    peer_identity_key: Option<String>,
}

impl AuthContext {
    /// An empty context (plaintext, anonymous).
    pub fn new() -> AuthContext {
        AuthContext::default()
    }

    /// Adds a property value.
    pub fn add_property(&mut self, name: &str, value: impl Into<Vec<u8>>) {
        let facts = Arc::make_mut(&mut self.inner);
        facts.properties.entry(name.to_owned()).or_default().push(value.into());
    }

    /// Names the property that identifies the peer (gRPC: `x509_subject_alternative_name` or `x509_common_name`).
    pub fn set_peer_identity_key(&mut self, name: &str) {
        Arc::make_mut(&mut self.inner).peer_identity_key = Some(name.to_owned());
    }

    /// The name of the identity property, if the peer is authenticated.
    pub fn peer_identity_key(&self) -> Option<&str> {
        self.inner.peer_identity_key.as_deref()
    }

    /// The values of the identity property, if the peer is authenticated.
    pub fn peer_identities(&self) -> Option<Vec<Vec<u8>>> {
        let key = self.inner.peer_identity_key.as_ref()?;
        self.inner.properties.get(key).cloned()
    }

    /// Every property, e.g. `transport_security_type`, `x509_common_name`, `x509_subject_alternative_name`.
    pub fn properties(&self) -> &BTreeMap<String, Vec<Vec<u8>>> {
        &self.inner.properties
    }
}

/// What the engine knows about an RPC when it starts, for [`ServicerContext::new`].
#[derive(Clone, Debug, Default)]
#[doc(hidden)]
pub struct RpcInfo {
    /// The full method path, `/package.Service/Method`.
    pub method: String,
    /// The client's metadata.
    pub invocation_metadata: Metadata,
    /// The peer address, e.g. `ipv4:127.0.0.1:50312` (shared by the RPCs of a connection).
    pub peer: Arc<str>,
    /// The connection's authentication facts.
    pub auth_context: AuthContext,
    /// The deadline the client gave, if any.
    pub deadline: Option<Instant>,
    /// The compression the client declared for its messages (its `grpc-encoding` header);
    /// `NoCompression` when it declared none.
    pub request_compression: Compression,
}

type Callback = Box<dyn FnOnce() + Send>;
type InitialMetadataSender = Box<dyn FnOnce(Metadata) + Send>;

#[derive(Default)]
struct State {
    initial_metadata_sent: bool,
    initial_metadata_sender: Option<InitialMetadataSender>,
    trailing_metadata: Metadata,
    code: Option<StatusCode>,
    details: Option<String>,
    compression: Option<Compression>,
    callbacks: Vec<Callback>,
    terminated: bool,
    wakers: Vec<Waker>,
    /// Threads blocked in `wait_cancelled`: the condition variable is signalled only when
    /// there are some (signalling is a system call, once per RPC otherwise).
    blocked_waiters: usize,
}

struct Inner {
    info: RpcInfo,
    cancelled: AtomicBool,
    /// Whether the request message handed to the handler last was compressed on the wire.
    last_request_compressed: AtomicBool,
    /// The handler asked for its next response to go uncompressed (read per streamed
    /// response, so outside the lock).
    disable_next_compression: AtomicBool,
    state: Mutex<State>,
    cancel_signal: Condvar,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking callback cannot leave the state half-written, so a poisoned
        // lock is still safe to use.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The context of one RPC on the server: the client's metadata, peer and deadline,
/// and the handler's controls over what is sent back.
///
/// The same type serves blocking and async handlers. Cloning is cheap (it is shared).
#[derive(Clone)]
pub struct ServicerContext {
    inner: Arc<Inner>,
}

/// The server engine's handle on a [`ServicerContext`]: it cancels the RPC, sends
/// initial metadata and reads what the handler set when the RPC ends.
#[derive(Clone)]
#[doc(hidden)]
pub struct ContextControl {
    inner: Arc<Inner>,
}

impl ServicerContext {
    /// A new context for an RPC, and the engine's control of it (for the engine and for
    /// tests of handlers). `initial_metadata_sender`
    /// is called at most once, when the handler sends initial metadata early.
    #[doc(hidden)]
    pub fn new(info: RpcInfo, initial_metadata_sender: Option<Box<dyn FnOnce(Metadata) + Send>>) -> (ServicerContext, ContextControl) {
        let inner = Arc::new(Inner {
            info,
            cancelled: AtomicBool::new(false),
            last_request_compressed: AtomicBool::new(false),
            disable_next_compression: AtomicBool::new(false),
            state: Mutex::new(State {
                initial_metadata_sender,
                ..State::default()
            }),
            cancel_signal: Condvar::new(),
        });
        (ServicerContext { inner: inner.clone() }, ContextControl { inner })
    }

    /// The full method path, `/package.Service/Method`.
    pub fn method(&self) -> &str {
        &self.inner.info.method
    }

    /// The metadata the client sent.
    pub fn invocation_metadata(&self) -> &Metadata {
        &self.inner.info.invocation_metadata
    }

    /// The client's address, e.g. `ipv4:127.0.0.1:50312` or `unix:/tmp/sock`.
    pub fn peer(&self) -> &str {
        &self.inner.info.peer
    }

    /// The client's authenticated identities (with mutual TLS: the certificate's SANs, or its
    /// common name), or `None` if the client is not authenticated.
    pub fn peer_identities(&self) -> Option<Vec<Vec<u8>>> {
        self.inner.info.auth_context.peer_identities()
    }

    /// The name of the auth-context property that identifies the peer.
    pub fn peer_identity_key(&self) -> Option<&str> {
        self.inner.info.auth_context.peer_identity_key()
    }

    /// The connection's authentication facts.
    pub fn auth_context(&self) -> &AuthContext {
        &self.inner.info.auth_context
    }

    /// The client's deadline, if it gave one.
    pub fn deadline(&self) -> Option<Instant> {
        self.inner.info.deadline
    }

    /// The compression the client declared for its request messages (`grpc-encoding`),
    /// `NoCompression` if none. The request has already been decompressed; this only says
    /// how it travelled. gRPC lets a client send single messages of such a call uncompressed
    /// (each message carries a flag), so this is what the call allowed, not a per-message
    /// fact: see [`last_request_compressed`](Self::last_request_compressed) for that.
    pub fn request_compression(&self) -> Compression {
        self.inner.info.request_compression
    }

    /// Whether the request message handed to the handler last (the request of a
    /// unary-request method, or the one a request stream or iterator returned last) was
    /// compressed on the wire. gRPC marks each message; a client may send some messages of a
    /// compressed call uncompressed. `false` before any request was handed over.
    pub fn last_request_compressed(&self) -> bool {
        self.inner.last_request_compressed.load(Ordering::Acquire)
    }

    /// Time left before the client's deadline (zero once passed); `None` without a deadline.
    pub fn time_remaining(&self) -> Option<Duration> {
        self.deadline().map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Sends initial metadata now, before any response. A second call is an error,
    /// as is a call after the response headers went out.
    pub fn send_initial_metadata(&self, metadata: Metadata) -> Result<(), RpcError> {
        let sender = {
            let mut st = self.inner.lock();
            if st.initial_metadata_sent {
                return Err(RpcError::internal("initial metadata was already sent for this RPC"));
            }
            st.initial_metadata_sent = true;
            st.initial_metadata_sender.take()
        };
        match sender {
            Some(send) => {
                send(metadata);
                Ok(())
            }
            None => Err(RpcError::internal("this RPC cannot send initial metadata any more")),
        }
    }

    /// Whether initial metadata has gone out (sent by the handler or with the first response).
    pub fn initial_metadata_sent(&self) -> bool {
        self.inner.lock().initial_metadata_sent
    }

    /// Sets the trailing metadata (replacing any set before).
    pub fn set_trailing_metadata(&self, metadata: Metadata) {
        self.inner.lock().trailing_metadata = metadata;
    }

    /// Adds one trailing metadata entry.
    pub fn add_trailing_metadata(&self, key: &str, value: impl Into<MetadataValue>) -> Result<(), RpcError> {
        self.inner.lock().trailing_metadata.add(key, value)?;
        Ok(())
    }

    /// The trailing metadata set so far.
    pub fn trailing_metadata(&self) -> Metadata {
        self.inner.lock().trailing_metadata.clone()
    }

    /// Sets the status code to end the RPC with, even if the handler returns a response
    /// (a non-OK code then wins, and the response is not sent).
    pub fn set_code(&self, code: StatusCode) {
        self.inner.lock().code = Some(code);
    }

    /// The code set by [`set_code`](Self::set_code).
    pub fn code(&self) -> Option<StatusCode> {
        self.inner.lock().code
    }

    /// Sets the status details.
    pub fn set_details(&self, details: impl Into<String>) {
        self.inner.lock().details = Some(details.into());
    }

    /// The details set by [`set_details`](Self::set_details).
    pub fn details(&self) -> Option<String> {
        self.inner.lock().details.clone()
    }

    /// Ends the RPC with `code` and `details` and the trailing metadata set so far.
    ///
    /// Return the result from the handler: `return Err(context.abort(code, "why"))`.
    /// An OK code is not an error, so it becomes UNKNOWN, as in gRPC.
    pub fn abort(&self, code: StatusCode, details: impl Into<String>) -> RpcError {
        let code = if code == StatusCode::Ok { StatusCode::Unknown } else { code };
        self.abort_with_status(RpcError::new(code, details))
    }

    /// Ends the RPC with `status`; its trailing metadata is added to what was set so far.
    /// As with [`abort`](Self::abort), an OK code becomes UNKNOWN.
    pub fn abort_with_status(&self, status: RpcError) -> RpcError {
        let status = if status.code() == StatusCode::Ok {
            status.with_code(StatusCode::Unknown)
        } else {
            status
        };
        let mut st = self.inner.lock();
        st.code = Some(status.code());
        st.details = Some(status.details().to_owned());
        let mut md = st.trailing_metadata.clone();
        md.extend(status.trailing_metadata().clone());
        drop(st);
        status.with_trailing_metadata(md)
    }

    /// Whether the RPC is still going: false once the client cancelled, the deadline
    /// passed, the server's grace ended, or the RPC finished.
    pub fn is_active(&self) -> bool {
        if self.inner.cancelled.load(Ordering::Acquire) {
            return false;
        }
        match self.deadline() {
            Some(d) => Instant::now() < d,
            None => true,
        }
    }

    /// Whether the RPC was cancelled (by the client, a deadline or the server's stop).
    pub fn cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::Acquire)
    }

    /// A future that completes when the RPC is cancelled or ends.
    ///
    /// # Cancel safety
    /// Dropping it has no effect on the RPC.
    pub fn on_cancel(&self) -> impl Future<Output = ()> + Send + Sync + 'static {
        Cancellation { inner: self.inner.clone() }
    }

    /// Blocks the thread until the RPC is cancelled or ends, or `timeout` passes;
    /// returns whether it was cancelled.
    pub fn wait_cancelled(&self, timeout: Duration) -> bool {
        let mut st = self.inner.lock();
        st.blocked_waiters += 1;
        let (mut st, _) = self
            .inner
            .cancel_signal
            .wait_timeout_while(st, timeout, |_| !self.inner.cancelled.load(Ordering::Acquire))
            .unwrap_or_else(|p| p.into_inner());
        st.blocked_waiters -= 1;
        self.inner.cancelled.load(Ordering::Acquire)
    }

    /// Registers `callback` to run once when the RPC terminates (for any reason).
    /// Returns false, without registering it, if the RPC has already terminated.
    pub fn add_callback(&self, callback: impl FnOnce() + Send + 'static) -> bool {
        let mut st = self.inner.lock();
        if st.terminated {
            return false;
        }
        st.callbacks.push(Box::new(callback));
        true
    }

    /// Same as [`add_callback`](Self::add_callback) (the aio name).
    pub fn add_done_callback(&self, callback: impl FnOnce() + Send + 'static) -> bool {
        self.add_callback(callback)
    }

    /// Sets the compression of the responses of this RPC.
    pub fn set_compression(&self, compression: Compression) {
        self.inner.lock().compression = Some(compression);
    }

    /// The compression chosen by [`set_compression`](Self::set_compression).
    pub fn compression(&self) -> Option<Compression> {
        self.inner.lock().compression
    }

    /// Sends the next response message uncompressed.
    pub fn disable_next_message_compression(&self) {
        self.inner.disable_next_compression.store(true, Ordering::Release);
    }
}

impl fmt::Debug for ServicerContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServicerContext")
            .field("method", &self.method())
            .field("peer", &self.peer())
            .field("active", &self.is_active())
            .finish()
    }
}

/// What the handler set on its context, read by the engine when the RPC ends.
#[derive(Debug, Default)]
#[doc(hidden)]
pub struct HandlerOutcome {
    /// The code from `set_code`/`abort`.
    pub code: Option<StatusCode>,
    /// The details from `set_details`/`abort`.
    pub details: Option<String>,
    /// The trailing metadata.
    pub trailing_metadata: Metadata,
}

impl ContextControl {
    /// Marks the RPC cancelled and wakes everyone waiting on it. Idempotent.
    pub fn cancel(&self) {
        if !self.inner.cancelled.swap(true, Ordering::AcqRel) {
            let (wakers, blocked) = {
                let mut st = self.inner.lock();
                (std::mem::take(&mut st.wakers), st.blocked_waiters > 0)
            };
            if blocked {
                self.inner.cancel_signal.notify_all();
            }
            wakers.into_iter().for_each(Waker::wake);
        }
    }

    /// Records whether the request message about to be handed to the handler was compressed.
    pub fn set_last_request_compressed(&self, compressed: bool) {
        self.inner.last_request_compressed.store(compressed, Ordering::Release);
    }

    /// A future that completes when the RPC is cancelled or ends.
    pub fn cancelled_future(&self) -> Cancellation {
        Cancellation { inner: self.inner.clone() }
    }

    /// Whether the RPC was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::Acquire)
    }

    /// Takes the early initial-metadata sender, marking initial metadata as sent; the engine
    /// calls this when it sends the response headers itself.
    pub fn mark_initial_metadata_sent(&self) {
        let mut st = self.inner.lock();
        st.initial_metadata_sent = true;
        st.initial_metadata_sender = None;
    }

    /// What the handler set: code, details and trailing metadata.
    pub fn outcome(&self) -> HandlerOutcome {
        let st = self.inner.lock();
        HandlerOutcome {
            code: st.code,
            details: st.details.clone(),
            trailing_metadata: st.trailing_metadata.clone(),
        }
    }

    /// The response compression chosen by the handler.
    pub fn compression(&self) -> Option<Compression> {
        self.inner.lock().compression
    }

    /// Whether the next message should go uncompressed (and clears the flag).
    pub fn take_disable_next_compression(&self) -> bool {
        // A load first: the flag is rarely set, and a swap would write the line each time.
        let flag = &self.inner.disable_next_compression;
        flag.load(Ordering::Acquire) && flag.swap(false, Ordering::AcqRel)
    }

    /// Ends the RPC: marks it inactive, wakes waiters and runs the callbacks once, in
    /// registration order. A panicking callback is caught, so the others still run.
    pub fn terminate(&self) {
        let callbacks = {
            let mut st = self.inner.lock();
            if st.terminated {
                return;
            }
            st.terminated = true;
            std::mem::take(&mut st.callbacks)
        };
        self.cancel_quietly();
        for cb in callbacks {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(cb));
        }
    }

    fn cancel_quietly(&self) {
        // After termination the RPC is no longer active; waiters are released.
        self.cancel();
    }

    /// The context this control belongs to.
    pub fn context(&self) -> ServicerContext {
        ServicerContext { inner: self.inner.clone() }
    }
}

impl fmt::Debug for ContextControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextControl").field("cancelled", &self.is_cancelled()).finish()
    }
}

/// A future that completes when an RPC is cancelled or ends; see [`ServicerContext::on_cancel`].
#[must_use = "futures do nothing unless polled"]
#[doc(hidden)]
pub struct Cancellation {
    inner: Arc<Inner>,
}

impl Future for Cancellation {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.inner.cancelled.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        let mut st = self.inner.lock();
        if self.inner.cancelled.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        if !st.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            st.wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

impl fmt::Debug for Cancellation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cancellation")
    }
}
