//! Serving until a signal, from blocking code: the same `Shutdown` as rpc-aio (shielded
//! start-up, lame duck, grace cut short by a second signal, shielded finalizers in reverse
//! order), with blocking hooks as the default kind.

use crate::runtime::RuntimeHandle;
use crate::server::Server;
use rpc_core::RpcError;
use std::fmt;
use std::time::Duration;

pub use rpc_aio::{ShutdownOutcome, ShutdownReason, ShutdownTrigger};

/// Serves a blocking server until SIGINT or SIGTERM; see rpc-aio's `Shutdown` for the timeline.
///
/// ```no_run
/// use std::time::Duration;
///
/// fn main() -> Result<std::process::ExitCode, rpc_sync::RpcError> {
///     let server = rpc_sync::server(rpc_sync::ServerOptions::default())?;
///     server.add_insecure_port("127.0.0.1:50051")?;
///     let outcome = rpc_sync::Shutdown::new(Some(Duration::from_secs(10)))
///         .finalizer_blocking("flush logs", || Ok(()))
///         .serve(&server)?;
///     Ok(outcome.exit_code())
/// }
/// ```
pub struct Shutdown {
    inner: rpc_aio::Shutdown,
}

impl fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl Shutdown {
    /// A shutdown that stops with `grace` (`None`: cancel RPCs at once).
    pub fn new(grace: Option<Duration>) -> Shutdown {
        Shutdown {
            inner: rpc_aio::Shutdown::new(grace),
        }
    }

    /// Keeps serving for `delay` after the signal (lame duck) before stopping.
    pub fn drain_delay(self, delay: Duration) -> Self {
        Shutdown {
            inner: self.inner.drain_delay(delay),
        }
    }

    /// Does not listen to OS signals: only [`ShutdownTrigger`]s stop the server.
    pub fn without_signals(self) -> Self {
        Shutdown {
            inner: self.inner.without_signals(),
        }
    }

    /// Exits the process (code 130) on a third signal, even during finalizers.
    pub fn force_exit_on_third_signal(self) -> Self {
        Shutdown {
            inner: self.inner.force_exit_on_third_signal(),
        }
    }

    /// A trigger that acts like a signal.
    pub fn trigger(&self) -> ShutdownTrigger {
        self.inner.trigger()
    }

    /// An async start-up hook, run on the private runtime; signals wait until it is done.
    pub fn startup<F, Fut>(self, name: &str, hook: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
    {
        Shutdown {
            inner: self.inner.startup(name, hook),
        }
    }

    /// A blocking start-up hook, run on a thread of its own; signals wait until it is done.
    pub fn startup_blocking(self, name: &str, hook: impl FnOnce() -> Result<(), String> + Send + 'static) -> Self {
        Shutdown {
            inner: self.inner.startup_blocking(name, hook),
        }
    }

    /// Runs right after the server has started (e.g. to print "listening on PORT").
    pub fn on_started(self, hook: impl FnOnce() + Send + 'static) -> Self {
        Shutdown {
            inner: self.inner.on_started(hook),
        }
    }

    /// Runs at once when the first signal lands (e.g. health's `enter_graceful_shutdown`).
    pub fn on_signal(self, hook: impl FnOnce() + Send + 'static) -> Self {
        Shutdown {
            inner: self.inner.on_signal(hook),
        }
    }

    /// An async finalizer, run on the private runtime after the server has terminated, in
    /// reverse order of registration, exactly once.
    pub fn finalizer<F, Fut>(self, name: &str, hook: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
    {
        Shutdown {
            inner: self.inner.finalizer(name, hook),
        }
    }

    /// A blocking finalizer, run after the server has terminated, in reverse order of
    /// registration, exactly once, on a thread of its own (never a server worker).
    pub fn finalizer_blocking(self, name: &str, hook: impl FnOnce() -> Result<(), String> + Send + 'static) -> Self {
        Shutdown {
            inner: self.inner.finalizer_blocking(name, hook),
        }
    }

    /// Starts `server`, blocks until a signal, stops it and finalizes; returns how it went.
    /// Works from any thread that is not inside an async runtime.
    pub fn serve(self, server: &Server) -> Result<ShutdownOutcome, RpcError> {
        let runtime = RuntimeHandle::shared()?;
        let aio = server.as_aio().clone();
        let inner = self.inner;
        runtime.block_on(async move { inner.serve(&aio).await })?
    }
}
