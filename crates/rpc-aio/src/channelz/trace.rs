//! Counters and traces shared by the entries: call counts, the ring of recent events, and
//! a connectivity state whose changes are traced.

use super::info::{CallCounts, EntityRef, Severity, TRACE_EVENTS, Trace, TraceEvent};
use rpc_core::ChannelConnectivity;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::MutexGuard;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicI64, AtomicU8, AtomicU64};
use std::time::SystemTime;
use std::time::{Duration, UNIX_EPOCH};

/// Call counters (relaxed atomics: each is exact, they are not read together atomically).
#[derive(Default)]
pub(crate) struct Calls {
    started: AtomicU64,
    succeeded: AtomicU64,
    failed: AtomicU64,
    last_started: AtomicI64,
}

impl Calls {
    pub(crate) fn start(&self) {
        self.started.fetch_add(1, Relaxed);
        self.last_started.store(now_nanos(), Relaxed);
    }

    pub(crate) fn end(&self, ok: bool) {
        if ok { &self.succeeded } else { &self.failed }.fetch_add(1, Relaxed);
    }

    pub(super) fn snapshot(&self) -> CallCounts {
        CallCounts {
            started: self.started.load(Relaxed),
            succeeded: self.succeeded.load(Relaxed),
            failed: self.failed.load(Relaxed),
            last_call_started: time_of(self.last_started.load(Relaxed)),
        }
    }
}

/// A bounded ring of recent events.
pub(super) struct TraceLog {
    created: SystemTime,
    logged: u64,
    events: VecDeque<TraceEvent>,
}

impl TraceLog {
    pub(super) fn new() -> Mutex<TraceLog> {
        Mutex::new(TraceLog {
            created: SystemTime::now(),
            logged: 0,
            events: VecDeque::new(),
        })
    }
}

pub(super) fn log(trace: &Mutex<TraceLog>, severity: Severity, description: String, child: Option<EntityRef>) {
    let mut t = lock(trace);
    t.logged += 1;
    if t.events.len() == TRACE_EVENTS {
        t.events.pop_front();
    }
    t.events.push_back(TraceEvent {
        description,
        severity,
        timestamp: SystemTime::now(),
        child,
    });
}

pub(super) fn trace_of(trace: &Mutex<TraceLog>) -> Trace {
    let t = lock(trace);
    Trace {
        events_logged: t.logged,
        created: t.created,
        events: t.events.iter().cloned().collect(),
    }
}

/// A channel's or subchannel's connectivity state, with a trace of its changes and events.
pub(super) struct StateTrace {
    /// "Channel" or "Subchannel", as the events name it.
    kind: &'static str,
    state: AtomicU8,
    trace: Mutex<TraceLog>,
}

impl StateTrace {
    pub(super) fn new(kind: &'static str) -> StateTrace {
        let t = StateTrace {
            kind,
            state: AtomicU8::new(state_code(ChannelConnectivity::Idle)),
            trace: TraceLog::new(),
        };
        t.log(Severity::Info, format!("{kind} created"), None);
        t
    }

    /// Records a state change (nothing if the state is the same).
    pub(super) fn set(&self, state: ChannelConnectivity) {
        if self.state.swap(state_code(state), Relaxed) != state_code(state) {
            self.log(Severity::Info, format!("{} state changed to {}", self.kind, state.name()), None);
        }
    }

    pub(super) fn state(&self) -> ChannelConnectivity {
        state_of(self.state.load(Relaxed))
    }

    pub(super) fn log(&self, severity: Severity, description: String, child: Option<EntityRef>) {
        log(&self.trace, severity, description, child);
    }

    pub(super) fn trace(&self) -> Trace {
        trace_of(&self.trace)
    }
}

fn state_code(state: ChannelConnectivity) -> u8 {
    match state {
        ChannelConnectivity::Idle => 0,
        ChannelConnectivity::Connecting => 1,
        ChannelConnectivity::Ready => 2,
        ChannelConnectivity::TransientFailure => 3,
        ChannelConnectivity::Shutdown => 4,
    }
}

fn state_of(code: u8) -> ChannelConnectivity {
    match code {
        0 => ChannelConnectivity::Idle,
        1 => ChannelConnectivity::Connecting,
        2 => ChannelConnectivity::Ready,
        3 => ChannelConnectivity::TransientFailure,
        _ => ChannelConnectivity::Shutdown,
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Nanoseconds since the Unix epoch (0 stands for "never").
pub(super) fn now_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

pub(super) fn time_of(nanos: i64) -> Option<SystemTime> {
    (nanos > 0).then(|| UNIX_EPOCH + Duration::from_nanos(nanos as u64))
}
