//! The server's one lifecycle state machine:
//!
//! ```text
//! Created --start--> Serving --stop--> Draining --grace over--> Cancelling --> Closing --> Terminated
//!    \________________stop (never started)_______________________________________________/
//! ```
//!
//! - **Serving**: ports accept connections; RPCs are admitted.
//! - **Draining**: no new connections or RPCs (they get UNAVAILABLE); connections are sent
//!   GOAWAY; RPCs in flight run on until the grace ends.
//! - **Cancelling**: the grace ended: the RPCs still in flight are cancelled (handlers see
//!   cancellation, clients get UNAVAILABLE) and get a moment to send their status.
//! - **Closing**: the connections are closed.
//! - **Terminated**: everything is over; `wait_for_termination` returns.
//!
//! States only move forward. Everything that depends on the state (accept loops,
//! connections, admission, stop handles, waiters) watches this one value.

use std::time::Instant;
use tokio::sync::watch;

/// Where a server is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    Created,
    Serving,
    Draining,
    Cancelling,
    Closing,
    Terminated,
}

/// The server's state and, once stopping, when the grace ends.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    phase: watch::Sender<Phase>,
    grace_end: watch::Sender<Option<Instant>>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            phase: watch::channel(Phase::Created).0,
            grace_end: watch::channel(None).0,
        }
    }
}

impl Lifecycle {
    /// The current phase.
    pub(crate) fn phase(&self) -> Phase {
        *self.phase.borrow()
    }

    /// A receiver of phase changes.
    pub(crate) fn subscribe(&self) -> watch::Receiver<Phase> {
        self.phase.subscribe()
    }

    /// Moves to `phase` if it is later than the current one; whether it moved.
    pub(crate) fn advance(&self, phase: Phase) -> bool {
        self.phase.send_if_modified(|p| {
            if phase > *p {
                *p = phase;
                true
            } else {
                false
            }
        })
    }

    /// Sets when the grace ends: the earlier of `end` and any end set before.
    pub(crate) fn shorten_grace(&self, end: Instant) {
        self.grace_end
            .send_modify(|current| *current = Some(current.map_or(end, |c| c.min(end))));
    }

    /// A receiver of the grace's end.
    pub(crate) fn grace_end(&self) -> watch::Receiver<Option<Instant>> {
        self.grace_end.subscribe()
    }

    /// Waits until the phase is at least `phase`.
    pub(crate) async fn reached(&self, phase: Phase) {
        let mut rx = self.subscribe();
        let _ = rx.wait_for(|p| *p >= phase).await;
    }

    /// Whether the server has terminated.
    pub(crate) fn is_terminated(&self) -> bool {
        self.phase() == Phase::Terminated
    }
}
