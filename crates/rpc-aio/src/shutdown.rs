//! Serving until a signal: `Shutdown` starts a server with shielded start-up hooks, waits for
//! SIGINT/SIGTERM (or an explicit trigger), drains (lame duck), stops with a grace that a
//! second signal cuts short, then runs finalizers in reverse order, shielded from signals.
//!
//! Timeline:
//!
//! ```text
//! start-up hooks + start   signal 1          drain delay        grace            finalizers
//! |------ shielded -------|--- serving ---|-- lame duck --|-- stop(grace) --|-- shielded --| exit
//!   (a signal here is held                 on_signal hooks   signal 2: stop    signal 3: force
//!    until start-up is done)               run at once       at once            exit (optional)
//! ```

use crate::server::Server;
use futures::FutureExt;
use futures::future::BoxFuture;
use std::fmt;
use std::time::Duration;
use tokio::sync::mpsc;

type AsyncHook = Box<dyn FnOnce() -> BoxFuture<'static, Result<(), String>> + Send>;
type BlockingHook = Box<dyn FnOnce() -> Result<(), String> + Send>;

enum Hook {
    Async(AsyncHook),
    Blocking(BlockingHook),
}

impl Hook {
    /// Runs the hook; blocking hooks run on a thread of their own (never a server worker),
    /// so they run even when every worker is stuck. A panic becomes an error.
    async fn run(self) -> Result<(), String> {
        match self {
            Hook::Async(f) => match std::panic::AssertUnwindSafe(f()).catch_unwind().await {
                Ok(r) => r,
                Err(p) => Err(panic_message(&p)),
            },
            Hook::Blocking(f) => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                let spawned = std::thread::Builder::new().name("rpc-shutdown-hook".into()).spawn(move || {
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| Err(panic_message(&p)));
                    let _ = tx.send(r);
                });
                match spawned {
                    Ok(_) => rx.await.unwrap_or_else(|_| Err("hook thread ended without a result".into())),
                    Err(e) => Err(format!("could not start a thread for the hook: {e}")),
                }
            }
        }
    }
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    let msg = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned());
    format!("panicked: {}", msg.unwrap_or_else(|| "(no message)".into()))
}

/// What ended the serving phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShutdownReason {
    /// SIGINT (Ctrl+C).
    Interrupt,
    /// SIGTERM.
    Terminate,
    /// [`ShutdownTrigger::trigger`].
    Triggered,
}

/// Triggers a shutdown as a signal would; for tests, and for applications that decide to stop.
/// Each call counts as one signal (a second one cuts the grace short).
#[derive(Clone, Debug)]
pub struct ShutdownTrigger {
    tx: mpsc::UnboundedSender<ShutdownReason>,
}

impl ShutdownTrigger {
    /// Sends one signal-like event.
    pub fn trigger(&self) {
        let _ = self.tx.send(ShutdownReason::Triggered);
    }
}

/// How a shutdown went. `is_clean()` decides the process exit code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShutdownOutcome {
    /// What started the shutdown.
    pub reason: ShutdownReason,
    /// Whether a second signal cut the grace short.
    pub grace_cut_short: bool,
    /// Whether the server still had RPCs running when it stopped (they were cancelled).
    pub calls_cancelled: bool,
    /// Finalizers that failed, by name, with their errors.
    pub failed_finalizers: Vec<(String, String)>,
}

impl ShutdownOutcome {
    /// Clean: the grace was not cut short, no call was cancelled, every finalizer succeeded.
    pub fn is_clean(&self) -> bool {
        !self.grace_cut_short && !self.calls_cancelled && self.failed_finalizers.is_empty()
    }

    /// 0 when clean, 1 otherwise: return it from `main`.
    pub fn exit_code(&self) -> std::process::ExitCode {
        if self.is_clean() {
            std::process::ExitCode::SUCCESS
        } else {
            std::process::ExitCode::FAILURE
        }
    }
}

/// Serves a server until SIGINT or SIGTERM, with shielded start-up and finalization; see
/// the module documentation for the timeline.
///
/// ```no_run
/// use rpc_aio::Shutdown;
/// use std::time::Duration;
///
/// #[tokio::main]
/// async fn main() -> Result<std::process::ExitCode, rpc_aio::RpcError> {
///     let server = rpc_aio::server(rpc_aio::ServerOptions::default());
///     server.add_insecure_port("127.0.0.1:50051")?;
///     let outcome = Shutdown::new(Some(Duration::from_secs(10)))
///         .drain_delay(Duration::from_secs(2))
///         .finalizer_blocking("flush logs", || Ok(()))
///         .serve(&server)
///         .await?;
///     Ok(outcome.exit_code())
/// }
/// ```
pub struct Shutdown {
    grace: Option<Duration>,
    drain_delay: Duration,
    signals: bool,
    force_exit_on_third: bool,
    signals_seen: usize,
    startup: Vec<(String, Hook)>,
    on_signal: Vec<Box<dyn FnOnce() + Send>>,
    on_started: Vec<Box<dyn FnOnce() + Send>>,
    finalizers: Vec<(String, Hook)>,
    events_tx: mpsc::UnboundedSender<ShutdownReason>,
    events_rx: mpsc::UnboundedReceiver<ShutdownReason>,
}

impl fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shutdown")
            .field("grace", &self.grace)
            .field("drain_delay", &self.drain_delay)
            .field("signals", &self.signals)
            .field("startup_hooks", &self.startup.len())
            .field("finalizers", &self.finalizers.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>())
            .finish()
    }
}

impl Shutdown {
    /// A shutdown that stops with `grace` (`None`: cancel RPCs at once).
    pub fn new(grace: Option<Duration>) -> Shutdown {
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        Shutdown {
            grace,
            drain_delay: Duration::ZERO,
            signals: true,
            force_exit_on_third: false,
            signals_seen: 0,
            startup: Vec::new(),
            on_signal: Vec::new(),
            on_started: Vec::new(),
            finalizers: Vec::new(),
            events_tx,
            events_rx,
        }
    }

    /// After the signal, keep serving for `delay` (with the lame-duck hooks already run, e.g.
    /// health reporting NOT_SERVING) so load balancers notice, then stop with the grace.
    pub fn drain_delay(mut self, delay: Duration) -> Self {
        self.drain_delay = delay;
        self
    }

    /// Does not listen to OS signals: only [`ShutdownTrigger`]s stop the server (for tests).
    pub fn without_signals(mut self) -> Self {
        self.signals = false;
        self
    }

    /// Exits the process (code 130) on a third signal, even during finalizers.
    pub fn force_exit_on_third_signal(mut self) -> Self {
        self.force_exit_on_third = true;
        self
    }

    /// A trigger that acts like a signal.
    pub fn trigger(&self) -> ShutdownTrigger {
        ShutdownTrigger {
            tx: self.events_tx.clone(),
        }
    }

    /// An async start-up hook, run before the server starts; signals wait until it is done.
    pub fn startup<F, Fut>(mut self, name: &str, hook: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
    {
        self.startup.push((name.to_owned(), Hook::Async(Box::new(move || hook().boxed()))));
        self
    }

    /// A blocking start-up hook (run on a thread of its own).
    pub fn startup_blocking(mut self, name: &str, hook: impl FnOnce() -> Result<(), String> + Send + 'static) -> Self {
        self.startup.push((name.to_owned(), Hook::Blocking(Box::new(hook))));
        self
    }

    /// Runs right after the server has started (e.g. to print "listening on PORT").
    pub fn on_started(mut self, hook: impl FnOnce() + Send + 'static) -> Self {
        self.on_started.push(Box::new(hook));
        self
    }

    /// Runs at once when the first signal lands (the lame-duck switch), e.g.
    /// `move || health.enter_graceful_shutdown()`.
    pub fn on_signal(mut self, hook: impl FnOnce() + Send + 'static) -> Self {
        self.on_signal.push(Box::new(hook));
        self
    }

    /// An async finalizer. Finalizers run after the server has terminated, in reverse order
    /// of registration, each exactly once; further signals do not interrupt them.
    pub fn finalizer<F, Fut>(mut self, name: &str, hook: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
    {
        self.finalizers
            .push((name.to_owned(), Hook::Async(Box::new(move || hook().boxed()))));
        self
    }

    /// A blocking finalizer, run on a thread of its own (never a server worker, so it runs
    /// even when every worker is stuck).
    pub fn finalizer_blocking(mut self, name: &str, hook: impl FnOnce() -> Result<(), String> + Send + 'static) -> Self {
        self.finalizers.push((name.to_owned(), Hook::Blocking(Box::new(hook))));
        self
    }

    /// Starts `server`, serves until a signal, stops it and finalizes; returns how it went.
    /// If start-up fails, the server is stopped, finalizers still run, and the error is returned.
    ///
    /// # Cancel safety
    /// Not cancel safe: drop the future only to abandon the server (it keeps running).
    pub async fn serve(mut self, server: &Server) -> Result<ShutdownOutcome, rpc_core::RpcError> {
        // Listen before start-up, so a signal that lands during start-up is held, not lost.
        if self.signals {
            spawn_signal_listeners(self.events_tx.clone())?;
        }
        let started = self.run_startup(server).await;
        if let Err(e) = started {
            tracing::error!(error = %e, "start-up failed; stopping");
            server.stop(None).await;
            self.run_finalizers().await;
            return Err(e);
        }
        for hook in std::mem::take(&mut self.on_started) {
            hook();
        }
        tracing::info!("serving until SIGINT or SIGTERM");
        let reason = self.events_rx.recv().await.unwrap_or(ShutdownReason::Triggered);
        self.signals_seen = 1;
        tracing::info!(?reason, "shutdown signal received");
        for hook in std::mem::take(&mut self.on_signal) {
            hook();
        }
        let mut grace_cut_short = false;
        if !self.drain_delay.is_zero() {
            tracing::info!(delay = ?self.drain_delay, "draining: still serving while load balancers notice");
            tokio::select! {
                _ = tokio::time::sleep(self.drain_delay) => {}
                Some(_) = self.events_rx.recv() => {
                    self.signals_seen += 1;
                    tracing::warn!("second signal during the drain: stopping at once");
                    grace_cut_short = true;
                }
            }
        }
        let grace = if grace_cut_short { None } else { self.grace };
        tracing::info!(?grace, "stopping: grace started");
        let stop = server.stop(grace);
        let stopping = stop.clone();
        tokio::pin!(stopping);
        loop {
            tokio::select! {
                _ = &mut stopping => break,
                Some(_) = self.events_rx.recv(), if !grace_cut_short => {
                    self.signals_seen += 1;
                    tracing::warn!("second signal: cutting the grace short, cancelling RPCs at once");
                    grace_cut_short = true;
                    drop(server.stop(None));
                }
            }
        }
        let calls_cancelled = server.cancelled_rpcs() > 0;
        tracing::info!(cancelled = server.cancelled_rpcs(), "server terminated");
        let failed_finalizers = self.run_finalizers().await;
        Ok(ShutdownOutcome {
            reason,
            grace_cut_short,
            calls_cancelled,
            failed_finalizers,
        })
    }

    async fn run_startup(&mut self, server: &Server) -> Result<(), rpc_core::RpcError> {
        for (name, hook) in std::mem::take(&mut self.startup) {
            tracing::info!(hook = %name, "start-up hook running (signals are held)");
            hook.run()
                .await
                .map_err(|e| rpc_core::RpcError::internal(format!("start-up hook {name:?} failed: {e}")))?;
        }
        server.start().await
    }

    /// Runs finalizers in reverse order; signals that land meanwhile are counted, not obeyed
    /// (a third signal overall exits when so configured).
    async fn run_finalizers(&mut self) -> Vec<(String, String)> {
        let mut failed = Vec::new();
        let mut finalizers = std::mem::take(&mut self.finalizers);
        let force = self.force_exit_on_third;
        while let Some((name, hook)) = finalizers.pop() {
            let run = hook.run();
            tokio::pin!(run);
            let result = loop {
                tokio::select! {
                    r = &mut run => break r,
                    Some(_) = self.events_rx.recv() => {
                        self.signals_seen += 1;
                        tracing::warn!("signal during finalization: finalizers are shielded");
                        if force && self.signals_seen >= 3 {
                            tracing::error!("third signal: forcing exit");
                            std::process::exit(130);
                        }
                    }
                }
            };
            match result {
                Ok(()) => tracing::info!(finalizer = %name, "finalizer done"),
                Err(e) => {
                    tracing::error!(finalizer = %name, error = %e, "finalizer failed");
                    failed.push((name, e));
                }
            }
        }
        failed
    }
}

fn spawn_signal_listeners(tx: mpsc::UnboundedSender<ShutdownReason>) -> Result<(), rpc_core::RpcError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int =
            signal(SignalKind::interrupt()).map_err(|e| rpc_core::RpcError::internal(format!("cannot listen for SIGINT: {e}")))?;
        let mut term =
            signal(SignalKind::terminate()).map_err(|e| rpc_core::RpcError::internal(format!("cannot listen for SIGTERM: {e}")))?;
        tokio::spawn(async move {
            loop {
                let reason = tokio::select! {
                    Some(()) = int.recv() => ShutdownReason::Interrupt,
                    Some(()) = term.recv() => ShutdownReason::Terminate,
                    else => break,
                };
                if tx.send(reason).is_err() {
                    break;
                }
            }
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if tx.send(ShutdownReason::Interrupt).is_err() {
                break;
            }
        }
    });
    Ok(())
}
