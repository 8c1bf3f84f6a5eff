//! One RPC on the server ([`Rpc`]): its context, deadline and entry in the server's
//! books, what the server lends every RPC ([`RpcEnv`]), and how its final status is made
//! from what the handler returned and set on its context.

use crate::outcome::RpcOutcome;
use crate::server::admission::{Admission, Booked};
use crate::server::pool::WorkerPool;
use rpc_core::{Compression, ContextControl, Metadata, RpcError, ServerOptions, ServicerContext, StatusCode};
use std::any::Any;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

/// A hook on each request or response message of an RPC.
pub(crate) use crate::wire::encoding::MessageHook;
/// A hook on the final status of an RPC.
pub(crate) type StatusHook = Arc<dyn Fn(&RpcOutcome) + Send + Sync>;

/// One hook an interceptor put on a handler.
#[derive(Clone)]
pub(crate) enum Hook {
    Request(MessageHook),
    Response(MessageHook),
    Status(StatusHook),
}

/// The hooks of one RPC, outermost first (none: nothing is cloned or timed).
#[derive(Default)]
pub(crate) struct RpcHooks {
    pub(crate) request: Vec<MessageHook>,
    response: Vec<MessageHook>,
    status: Vec<StatusHook>,
    started: Option<Instant>,
    ended: Option<Result<Metadata, RpcError>>,
}

impl RpcHooks {
    /// Adds a hook of a wrapper further in (the first one added starts the clock).
    pub(crate) fn add(&mut self, hook: Hook) {
        self.started.get_or_insert_with(Instant::now);
        match hook {
            Hook::Request(h) => self.request.push(h),
            Hook::Response(h) => self.response.push(h),
            Hook::Status(h) => self.status.push(h),
        }
    }

    /// Runs the response hooks on `message`, innermost first (responses travel outwards).
    #[inline]
    pub(crate) fn on_response(&self, message: &mut (dyn Any + Send)) {
        crate::wire::encoding::run_hooks(&self.response, message);
    }

    /// The response hooks, for a worker that encodes the responses it pulls.
    pub(crate) fn response_hooks(&self) -> Vec<MessageHook> {
        self.response.clone()
    }

    /// Keeps the final status for the status hooks.
    fn record(&mut self, result: &Result<Metadata, RpcError>) {
        if !self.status.is_empty() && self.ended.is_none() {
            self.ended = Some(result.clone());
        }
    }

    /// Reports the final status (or `otherwise`, for an RPC that ended without one) to the
    /// status hooks, innermost first.
    fn report(&mut self, otherwise: impl FnOnce() -> RpcError) {
        if self.status.is_empty() {
            return;
        }
        let result = self.ended.take().unwrap_or_else(|| Err(otherwise()));
        let outcome = RpcOutcome::new(result, self.started.map(|s| s.elapsed()).unwrap_or_default());
        for hook in self.status.iter().rev() {
            hook(&outcome);
        }
    }
}

/// What the server lends every RPC.
#[derive(Debug)]
pub(crate) struct RpcEnv {
    pub(crate) options: ServerOptions,
    pub(crate) pool: WorkerPool,
    pub(crate) admission: Arc<Admission>,
    runtime: OnceLock<tokio::runtime::Handle>,
}

impl RpcEnv {
    pub(crate) fn new(options: ServerOptions, admission: Arc<Admission>) -> RpcEnv {
        let pool = WorkerPool::new(options.max_workers, options.max_queued_rpcs, options.max_parked_workers);
        RpcEnv {
            options,
            pool,
            admission,
            runtime: OnceLock::new(),
        }
    }

    /// The runtime the server was started on.
    pub(crate) fn runtime(&self) -> Option<&tokio::runtime::Handle> {
        self.runtime.get()
    }

    /// Records the runtime at start; false if it was recorded before (started twice).
    pub(crate) fn set_runtime(&self, handle: tokio::runtime::Handle) -> bool {
        self.runtime.set(handle).is_ok()
    }
}

/// Initial metadata sent early with `ServicerContext::send_initial_metadata`, and the
/// signal that it was, so the response headers can go out before the handler returns.
#[derive(Default)]
pub(crate) struct InitialSlot {
    metadata: Mutex<Option<Metadata>>,
    sent: tokio::sync::Notify,
}

impl InitialSlot {
    /// Called from the handler's `send_initial_metadata` (at most once).
    pub(crate) fn put(&self, metadata: Metadata) {
        *self.metadata.lock().unwrap_or_else(|p| p.into_inner()) = Some(metadata);
        // notify_one keeps a permit, so a waiter that comes later still sees it.
        self.sent.notify_one();
    }
}

/// What the request said about the wire, for the RPC's request and response bodies.
#[derive(Debug, Clone)]
pub(crate) struct Wire {
    /// The algorithm of the request messages (`grpc-encoding`), if any.
    pub(crate) request_encoding: Option<Compression>,
    /// What the client accepts for the responses (`grpc-accept-encoding`).
    pub(crate) accepted: Option<http::HeaderValue>,
}

/// The server's side of one RPC. Dropping it ends the RPC: the context is terminated
/// (callbacks run, `is_active()` turns false) and the RPC leaves the server's books.
pub(crate) struct Rpc {
    pub(crate) ctx: ServicerContext,
    pub(crate) control: ContextControl,
    pub(crate) deadline: Option<Instant>,
    pub(crate) env: Arc<RpcEnv>,
    pub(crate) wire: Wire,
    pub(crate) hooks: RpcHooks,
    initial: Arc<InitialSlot>,
    pump: Option<tokio::task::AbortHandle>,
    /// Where an observed RPC counts its request message bytes.
    pub(crate) received: Option<Arc<std::sync::atomic::AtomicU64>>,
    _booked: Booked,
}

impl Drop for Rpc {
    fn drop(&mut self) {
        if let Some(pump) = self.pump.take() {
            pump.abort();
        }
        // An RPC dropped before its status was made was cancelled (the client went away,
        // or the server stopped).
        let admission = &self.env.admission;
        self.hooks.report(|| admission.cancel_error());
        self.control.terminate();
    }
}

impl Rpc {
    pub(crate) fn new(
        (ctx, control): (ServicerContext, ContextControl),
        initial: Arc<InitialSlot>,
        env: Arc<RpcEnv>,
        wire: Wire,
        booked: Booked,
    ) -> Rpc {
        let deadline = ctx.deadline();
        Rpc {
            ctx,
            control,
            deadline,
            env,
            wire,
            hooks: RpcHooks::default(),
            initial,
            pump: None,
            received: None,
            _booked: booked,
        }
    }

    /// Ties a request pump task to the RPC: it is aborted when the RPC ends.
    pub(crate) fn attach_pump(&mut self, pump: tokio::task::AbortHandle) {
        self.pump = Some(pump);
    }

    /// The response headers' metadata: what the handler sent early, or nothing.
    pub(crate) fn take_initial_metadata(&self) -> Metadata {
        self.control.mark_initial_metadata_sent();
        self.initial
            .metadata
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_default()
    }

    /// Completes once the handler has sent initial metadata early.
    pub(crate) async fn initial_metadata_sent(&self) {
        self.initial.sent.notified().await
    }

    /// The final status when the handler ended with `result`: the code and details it set
    /// on the context (a non-OK code wins over a returned response), the error it returned,
    /// and the trailing metadata of both. `Ok` carries the trailing metadata of an OK end.
    pub(crate) fn final_status(&mut self, result: Result<(), RpcError>) -> Result<Metadata, RpcError> {
        let status = self.make_status(result);
        self.hooks.record(&status);
        status
    }

    fn make_status(&self, result: Result<(), RpcError>) -> Result<Metadata, RpcError> {
        let outcome = self.control.outcome();
        let status = match result {
            // An "error" with code OK is not a success (no response was produced): UNKNOWN,
            // as abort() makes it.
            Err(e) if e.code() == StatusCode::Ok => e.with_code(StatusCode::Unknown),
            Err(e) => e,
            Ok(()) => match outcome.code {
                Some(code) if code != StatusCode::Ok => RpcError::new(code, outcome.details.clone().unwrap_or_default()),
                _ => return Ok(outcome.trailing_metadata),
            },
        };
        Err(merged(status, outcome.trailing_metadata))
    }

    /// The status of an RPC that ends before any response: trailers-only, so the initial
    /// metadata the handler sent early goes in the same header block.
    pub(crate) fn error_before_response(&mut self, error: RpcError) -> RpcError {
        let initial = self.take_initial_metadata();
        let mut status = match self.make_status(Err(error)) {
            Err(e) => e,
            Ok(_) => RpcError::internal("an error became OK"),
        };
        if !initial.is_empty() {
            let mut md = initial;
            md.extend(std::mem::take(status.trailing_metadata_mut()));
            status = status.with_trailing_metadata(md);
        }
        self.hooks.record(&Err(status.clone()));
        status
    }
}

/// Adds the context's trailing metadata to the status's (entries already there are not repeated).
fn merged(mut status: RpcError, context_trailers: Metadata) -> RpcError {
    if context_trailers.is_empty() {
        return status;
    }
    let own = std::mem::take(status.trailing_metadata_mut());
    let mut md = context_trailers;
    for (k, v) in own.iter() {
        if !md.get_all(k).any(|x| x == v) {
            // Keys and values came validated from a Metadata, so adding cannot fail.
            let _ = md.add(k, v.clone());
        }
    }
    status.with_trailing_metadata(md)
}

/// The message of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".to_owned()
    }
}

/// The status of a handler that panicked.
pub(crate) fn panicked(payload: &(dyn std::any::Any + Send)) -> RpcError {
    let message = panic_message(payload);
    tracing::error!(panic = %message, "a handler panicked; the RPC ends with UNKNOWN");
    RpcError::unknown(format!("handler panicked: {message}"))
}
