//! The test service's servicers, in both styles: [`Blocking`] (handlers on worker threads)
//! and [`Async`] (async handlers). They behave alike, as asked by the request (see `plan.rs`),
//! and record into the [`Probe`] they were made with. Either registers on a server of
//! either face.

use crate::pb::{AsyncSvcServicer, Msg, SvcServicer, SvcStub, add_svc_servicer_to_server};
use crate::plan::{self, FailHow, Failure, Plan, Value};
use crate::probe::{CancelGuard, Probe};
use crate::wait::LIMIT;
use futures::StreamExt;
use rpc_core::codegen::Server as CodegenServer;
use rpc_core::details::ErrorInfo;
use rpc_core::{
    Metadata, MetadataValue, Request, RequestIterator, RequestStream, ResponseIterator, ResponseStream, RpcError, ServicerContext,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often an endless stream sends, and a held handler looks at its gate.
const TICK: Duration = Duration::from_millis(10);

/// The style of a server's handlers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Blocking handlers, run on the server's worker pool ([`Blocking`]).
    Blocking,
    /// Async handlers ([`Async`]).
    Async,
}

impl Style {
    /// Both styles, for tests that run against each.
    pub const ALL: [Style; 2] = [Style::Blocking, Style::Async];

    /// Registers the test service with handlers of this style on `server` (of either
    /// face), recording into `probe`.
    pub fn register(self, server: &impl CodegenServer, probe: &Arc<Probe>) {
        match self {
            Style::Blocking => add_svc_servicer_to_server(Blocking::new(probe), server),
            Style::Async => add_svc_servicer_to_server(Async::new(probe), server),
        }
    }
}

/// The test service with blocking handlers.
#[derive(Clone, Debug)]
pub struct Blocking {
    probe: Arc<Probe>,
}

/// The test service with async handlers.
#[derive(Clone, Debug)]
pub struct Async {
    probe: Arc<Probe>,
}

impl Blocking {
    /// A servicer recording into `probe`.
    pub fn new(probe: &Arc<Probe>) -> Blocking {
        Blocking { probe: probe.clone() }
    }
}

impl Async {
    /// A servicer recording into `probe`.
    pub fn new(probe: &Arc<Probe>) -> Async {
        Async { probe: probe.clone() }
    }
}

/// The metadata of `pairs`.
pub(crate) fn metadata(pairs: &[(&str, Value)]) -> Metadata {
    let mut md = Metadata::new();
    for (key, value) in pairs {
        let value = match value {
            Value::Text(s) => MetadataValue::from(s.as_str()),
            Value::Bin(b) => MetadataValue::from(b.clone()),
        };
        md.add(key, value).expect("the plan's metadata keys are valid");
    }
    md
}

/// The `x-why` trailers of a failure.
pub(crate) fn why() -> Metadata {
    Metadata::new()
        .with(plan::WHY.0, plan::WHY.1)
        .and_then(|md| md.with(plan::WHY_BIN.0, plan::WHY_BIN.1.to_vec()))
        .expect("valid trailers")
}

/// The error of a failure, with its rich detail, and the `x-why` trailers if `trailers`.
pub(crate) fn failure_error(failure: &Failure, trailers: bool) -> RpcError {
    let mut err = RpcError::new(failure.code, plan::FAIL_DETAILS);
    if trailers {
        err = err.with_trailing_metadata(why());
    }
    match &failure.detail {
        Some(reason) => err.with_detail(ErrorInfo {
            reason: reason.clone(),
            domain: plan::DETAIL_DOMAIN.to_owned(),
            metadata: Default::default(),
        }),
        None => err,
    }
}

/// The start of every handler: records the call, reads its plan, panics if asked, sends
/// the initial metadata and sets the trailers asked for.
fn begin(probe: &Probe, ctx: &ServicerContext) -> Result<Plan, RpcError> {
    let md = ctx.invocation_metadata();
    let headers = md.iter().map(|(k, v)| (k.to_owned(), v.as_bytes().to_vec())).collect();
    probe.record_call(headers, Some(ctx.time_remaining()));
    let plan = Plan::read(
        |k| md.get_str(k).map(str::to_owned),
        |k| md.get(k).filter(|v| v.is_binary()).map(|v| v.as_bytes().to_vec()),
    );
    if plan.panic {
        panic!("{}", plan::PANIC_MESSAGE);
    }
    if !plan.initial.is_empty() {
        ctx.send_initial_metadata(metadata(&plan.initial))?;
    }
    for (key, value) in &plan.trailers {
        match value {
            Value::Text(s) => ctx.add_trailing_metadata(key, s.as_str())?,
            Value::Bin(b) => ctx.add_trailing_metadata(key, b.clone())?,
        }
    }
    Ok(plan)
}

/// The failure asked for, once the handler has waited as asked: an error to return, or
/// (`set-code`) the code and details set on the context, and the handler goes on.
fn fail(plan: &Plan, ctx: &ServicerContext) -> Result<(), RpcError> {
    let Some(failure) = &plan.fail else {
        return Ok(());
    };
    let add_why = || -> Result<(), RpcError> {
        ctx.add_trailing_metadata(plan::WHY.0, plan::WHY.1)?;
        ctx.add_trailing_metadata(plan::WHY_BIN.0, plan::WHY_BIN.1.to_vec())?;
        Ok(())
    };
    match failure.how {
        FailHow::Abort => {
            add_why()?;
            Err(ctx.abort(failure.code, plan::FAIL_DETAILS))
        }
        FailHow::Status => Err(ctx.abort_with_status(failure_error(failure, true))),
        FailHow::Return => {
            add_why()?;
            Err(failure_error(failure, false))
        }
        FailHow::SetCode => {
            add_why()?;
            ctx.set_code(failure.code);
            ctx.set_details(plan::FAIL_DETAILS);
            Ok(())
        }
    }
}

/// The reply of Unary: `echo:<text>` with `n` bytes of payload, or what was asked instead.
fn unary_reply(plan: &Plan, m: Msg, ctx: &ServicerContext) -> Msg {
    let text = if plan.report_deadline {
        match ctx.time_remaining() {
            Some(left) => left.as_millis().to_string(),
            None => "none".to_owned(),
        }
    } else if plan.whoami.as_deref() == Some("peer") {
        ctx.peer().to_owned()
    } else if plan.whoami.is_some() {
        whoami(ctx)
    } else {
        format!("echo:{}", m.text)
    };
    Msg {
        text,
        payload: vec![7u8; m.n.max(0) as usize],
        n: m.n,
    }
}

/// `type=..;cn=..;san=..;key=..;ids=..`: the peer's authentication, as the handler sees it.
fn whoami(ctx: &ServicerContext) -> String {
    let joined = |values: &[Vec<u8>]| {
        values
            .iter()
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect::<Vec<_>>()
            .join(",")
    };
    let auth = ctx.auth_context();
    let show = |k: &str| auth.properties().get(k).map(|vs| joined(vs)).unwrap_or_default();
    format!(
        "type={};cn={};san={};key={};ids={}",
        show("transport_security_type"),
        show("x509_common_name"),
        show("x509_subject_alternative_name"),
        ctx.peer_identity_key().unwrap_or(""),
        joined(&ctx.peer_identities().unwrap_or_default()),
    )
}

/// The request a relaying handler sends on.
fn relayed(m: Msg) -> Request<Msg> {
    let md = Metadata::new().with("x-report-deadline", "yes").expect("a valid key");
    Request::new(m).metadata(md)
}

/// The `index`th response of a server stream for a request with `size` bytes of payload.
fn streamed(index: i32, size: usize) -> Msg {
    Msg {
        text: index.to_string(),
        payload: vec![1u8; size],
        n: index,
    }
}

fn joined(texts: &[String]) -> Msg {
    Msg {
        text: texts.join(","),
        payload: Vec::new(),
        n: texts.len() as i32,
    }
}

fn echoed(m: Msg) -> Msg {
    Msg {
        text: format!("echo:{}", m.text),
        ..m
    }
}

fn cancelled() -> RpcError {
    RpcError::cancelled("the handler saw its RPC cancelled")
}

fn never_released() -> RpcError {
    RpcError::internal(format!("held for {LIMIT:?} and never released"))
}

impl Blocking {
    /// The waits of a plan: `x-sleep-ms`, `x-hold`, `x-stuck`.
    fn wait(&self, plan: &Plan, ctx: &ServicerContext) -> Result<(), RpcError> {
        if !(plan.sleep.is_some() || plan.hold || plan.stuck) {
            return Ok(());
        }
        let mut guard = CancelGuard::new(&self.probe);
        if let Some(sleep) = plan.sleep
            && ctx.wait_cancelled(sleep)
        {
            return Err(cancelled());
        }
        let end = Instant::now() + LIMIT;
        while (plan.hold || plan.stuck) && !self.probe.is_released() {
            if Instant::now() > end {
                return Err(never_released());
            }
            if plan.stuck {
                // Ignores cancellation, as a handler stuck in a blocking call would.
                std::thread::sleep(TICK);
            } else if ctx.wait_cancelled(TICK) {
                return Err(cancelled());
            }
        }
        guard.disarm();
        self.probe.record_completed();
        Ok(())
    }
}

impl SvcServicer for Blocking {
    fn unary(&self, request: Msg, ctx: &ServicerContext) -> Result<Msg, RpcError> {
        let plan = begin(&self.probe, ctx)?;
        self.wait(&plan, ctx)?;
        fail(&plan, ctx)?;
        if let Some(target) = &plan.relay_to {
            let channel = rpc_sync::insecure_channel(target, Default::default())?;
            return SvcStub::new(channel).unary(relayed(request));
        }
        Ok(unary_reply(&plan, request, ctx))
    }

    fn server_stream(&self, request: Msg, ctx: &ServicerContext) -> Result<ResponseIterator<Msg>, RpcError> {
        let plan = begin(&self.probe, ctx)?;
        self.wait(&plan, ctx)?;
        fail(&plan, ctx)?;
        let (probe, ctx) = (self.probe.clone(), ctx.clone());
        let (count, size, mut fail_after) = (request.n, request.payload.len(), plan.fail_after);
        let mut guard = CancelGuard::new(&probe);
        let mut index = 0;
        Ok(ResponseIterator::new(std::iter::from_fn(move || {
            if count >= 0 && index >= count {
                guard.disarm();
                return fail_after.then(|| {
                    fail_after = false;
                    Err(RpcError::aborted(plan::STREAM_ABORTED))
                });
            }
            // An endless stream paces itself, and stops at cancellation (the guard counts it).
            if count < 0 && index > 0 && ctx.wait_cancelled(TICK) {
                return None;
            }
            probe.record_sent();
            index += 1;
            Some(Ok(streamed(index - 1, size)))
        })))
    }

    fn client_stream(&self, requests: RequestIterator<Msg>, ctx: &ServicerContext) -> Result<Msg, RpcError> {
        let plan = begin(&self.probe, ctx)?;
        let mut guard = CancelGuard::new(&self.probe);
        let texts = requests.map(|r| r.map(|m| m.text)).collect::<Result<Vec<_>, _>>()?;
        guard.disarm();
        self.wait(&plan, ctx)?;
        fail(&plan, ctx)?;
        Ok(joined(&texts))
    }

    fn bidi(&self, mut requests: RequestIterator<Msg>, ctx: &ServicerContext) -> Result<ResponseIterator<Msg>, RpcError> {
        let plan = begin(&self.probe, ctx)?;
        fail(&plan, ctx)?;
        let mut guard = CancelGuard::new(&self.probe);
        let mut ended = false;
        Ok(ResponseIterator::new(std::iter::from_fn(move || {
            if ended {
                return None;
            }
            match requests.next() {
                Some(Ok(m)) => Some(Ok(echoed(m))),
                // The request stream failed (the RPC was cancelled): the guard counts it.
                Some(Err(e)) => {
                    ended = true;
                    Some(Err(e))
                }
                None => {
                    guard.disarm();
                    None
                }
            }
        })))
    }
}

impl Async {
    /// The waits of a plan: `x-sleep-ms`, `x-hold`, `x-stuck`.
    async fn wait(&self, plan: &Plan, ctx: &ServicerContext) -> Result<(), RpcError> {
        if !(plan.sleep.is_some() || plan.hold || plan.stuck) {
            return Ok(());
        }
        // If the engine drops this future at cancellation, the guard counts it as well.
        let mut guard = CancelGuard::new(&self.probe);
        if let Some(sleep) = plan.sleep {
            tokio::select! {
                _ = ctx.on_cancel() => return Err(cancelled()),
                _ = tokio::time::sleep(sleep) => {}
            }
        }
        let end = Instant::now() + LIMIT;
        while (plan.hold || plan.stuck) && !self.probe.is_released() {
            if Instant::now() > end {
                return Err(never_released());
            }
            if plan.stuck {
                tokio::time::sleep(TICK).await;
            } else {
                tokio::select! {
                    _ = ctx.on_cancel() => return Err(cancelled()),
                    _ = tokio::time::sleep(TICK) => {}
                }
            }
        }
        guard.disarm();
        self.probe.record_completed();
        Ok(())
    }
}

impl AsyncSvcServicer for Async {
    async fn unary(&self, request: Msg, ctx: &ServicerContext) -> Result<Msg, RpcError> {
        let plan = begin(&self.probe, ctx)?;
        self.wait(&plan, ctx).await?;
        fail(&plan, ctx)?;
        if let Some(target) = &plan.relay_to {
            let channel = rpc_aio::insecure_channel(target, Default::default())?;
            return SvcStub::new(channel).unary(relayed(request)).await;
        }
        Ok(unary_reply(&plan, request, ctx))
    }

    async fn server_stream(&self, request: Msg, ctx: &ServicerContext) -> Result<ResponseStream<Msg>, RpcError> {
        let plan = begin(&self.probe, ctx)?;
        self.wait(&plan, ctx).await?;
        fail(&plan, ctx)?;
        let (count, size) = (request.n, request.payload.len());
        struct State {
            index: i32,
            fail_after: bool,
            guard: CancelGuard,
            probe: Arc<Probe>,
        }
        let state = State {
            index: 0,
            fail_after: plan.fail_after,
            guard: CancelGuard::new(&self.probe),
            probe: self.probe.clone(),
        };
        let stream = futures::stream::unfold(state, move |mut s| async move {
            if count >= 0 && s.index >= count {
                s.guard.disarm();
                if !s.fail_after {
                    return None;
                }
                s.fail_after = false;
                return Some((Err(RpcError::aborted(plan::STREAM_ABORTED)), s));
            }
            if count < 0 && s.index > 0 {
                tokio::time::sleep(TICK).await;
            }
            s.probe.record_sent();
            s.index += 1;
            Some((Ok(streamed(s.index - 1, size)), s))
        });
        Ok(ResponseStream::new(stream))
    }

    async fn client_stream(&self, mut requests: RequestStream<Msg>, ctx: &ServicerContext) -> Result<Msg, RpcError> {
        let plan = begin(&self.probe, ctx)?;
        let mut guard = CancelGuard::new(&self.probe);
        let mut texts = Vec::new();
        while let Some(m) = requests.message().await? {
            texts.push(m.text);
        }
        guard.disarm();
        self.wait(&plan, ctx).await?;
        fail(&plan, ctx)?;
        Ok(joined(&texts))
    }

    async fn bidi(&self, requests: RequestStream<Msg>, ctx: &ServicerContext) -> Result<ResponseStream<Msg>, RpcError> {
        let plan = begin(&self.probe, ctx)?;
        fail(&plan, ctx)?;
        let state = (Some(requests), CancelGuard::new(&self.probe));
        let stream = futures::stream::unfold(state, |(requests, mut guard)| async move {
            let mut requests = requests?;
            match requests.next().await {
                Some(Ok(m)) => Some((Ok(echoed(m)), (Some(requests), guard))),
                // The request stream failed (the RPC was cancelled): the guard counts it.
                Some(Err(e)) => Some((Err(e), (None, guard))),
                None => {
                    guard.disarm();
                    None
                }
            }
        });
        Ok(ResponseStream::new(stream))
    }
}
