//! The bounded pool of named worker threads that runs blocking handlers: at most
//! `max_workers` threads running handlers (started on demand, ended after a minute idle)
//! and at most `max_queued` jobs waiting for one. Beyond that a job is refused at once, so
//! the server answers RESOURCE_EXHAUSTED instead of queueing without bound.
//!
//! The pool is elastic for threads that wait on the network: a worker that blocks for its
//! client's next request (or for a call to another server) says so with [`park_while`],
//! and while it waits it does not count against `max_workers`, so the next job gets a
//! thread; at most `max_parked` threads wait so. A worker back from waiting finishes its
//! job; a worker that finds more workers running than `max_workers` ends instead of taking
//! another job, so the pool settles back.
//!
//! Jobs that continue an RPC already admitted ([`WorkerPool::continue_rpc`], e.g. pulling
//! the next responses of a streaming handler) go first and are never refused for a full
//! queue.
//!
//! A job queued from a runtime task wakes an idle worker at the end of the runtime's tick
//! rather than at once, so a burst of RPCs read together costs one wake-up, not one per
//! RPC (see `WorkerPool::dispatch`).
//!
//! Workers are never on the path to shutdown: a stop does not wait for them, and a worker
//! stuck in a handler that never returns is simply left behind.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How long an idle worker waits for a job before it ends.
const IDLE_LIFETIME: Duration = Duration::from_secs(60);

/// Numbers worker threads across every pool of the process.
static WORKER_COUNTER: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// The pool of the worker running on this thread, if it is one.
    static CURRENT: RefCell<Option<Arc<Inner>>> = const { RefCell::new(None) };
}

type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    /// Threads started (running, idle, starting or parked).
    workers: usize,
    idle: usize,
    /// Workers spawned that have not taken their first job yet: like idle ones, each will
    /// take a queued job, so those jobs are not waiting for a worker.
    starting: usize,
    /// Workers waiting on the network inside a job ([`park_while`]).
    parked: usize,
    /// Idle workers notified that have not taken the lock back yet.
    woken: usize,
    /// A task is scheduled to wake idle workers at the end of the runtime's tick.
    wake_scheduled: bool,
    closed: bool,
}

impl State {
    /// Workers that count against `max_workers`.
    fn running(&self) -> usize {
        self.workers - self.parked
    }

    /// Queued jobs that no idle or starting worker will take.
    fn unserved(&self) -> usize {
        self.queue.len().saturating_sub(self.idle + self.starting)
    }

    /// Whether a queued job waits for an idle worker that nobody has woken yet.
    fn should_wake(&self) -> bool {
        self.queue.len() > self.starting + self.woken && self.idle > self.woken
    }
}

struct Inner {
    max_workers: usize,
    max_queued: usize,
    max_parked: usize,
    state: Mutex<State>,
    available: Condvar,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Jobs run outside the lock, so a poisoned lock holds consistent state.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether another thread may start to take a queued job.
    fn may_start(&self, st: &State) -> bool {
        st.running() < self.max_workers && st.workers < self.max_workers + self.max_parked
    }
}

/// A bounded pool of worker threads named `rpc-worker-N`. Cloning shares the pool.
#[derive(Clone)]
pub(crate) struct WorkerPool {
    inner: Arc<Inner>,
}

/// Why a job was refused.
#[derive(Debug)]
pub(crate) struct PoolFull {
    pub(crate) workers: usize,
    pub(crate) queued: usize,
}

impl WorkerPool {
    pub(crate) fn new(max_workers: usize, max_queued: usize, max_parked: usize) -> WorkerPool {
        WorkerPool {
            inner: Arc::new(Inner {
                max_workers: max_workers.max(1),
                max_queued,
                max_parked,
                state: Mutex::new(State::default()),
                available: Condvar::new(),
            }),
        }
    }

    fn full(&self) -> PoolFull {
        PoolFull {
            workers: self.inner.max_workers,
            queued: self.inner.max_queued,
        }
    }

    /// Runs `job` on a worker: an idle one, a new one (below `max_workers`), or the next
    /// one free if fewer than `max_queued` jobs are already waiting. Refused otherwise.
    pub(crate) fn execute(&self, job: impl FnOnce() + Send + 'static) -> Result<(), PoolFull> {
        let mut st = self.inner.lock();
        if st.closed {
            return Err(self.full());
        }
        // Refused only when no free worker will take it, no thread may start for it, and
        // `max_queued` jobs already wait.
        let free = st.idle + st.starting > st.queue.len();
        if !free && !self.inner.may_start(&st) && st.unserved() >= self.inner.max_queued {
            return Err(self.full());
        }
        st.queue.push_back(Box::new(job));
        self.dispatch(st, true)
    }

    /// Runs `job`, which continues an admitted RPC, before any queued new RPC; never
    /// refused for a full queue (only once the pool is closed).
    pub(crate) fn continue_rpc(&self, job: impl FnOnce() + Send + 'static) -> Result<(), PoolFull> {
        let mut st = self.inner.lock();
        if st.closed {
            return Err(self.full());
        }
        st.queue.push_front(Box::new(job));
        self.dispatch(st, false)
    }

    /// Gets the jobs queued (one just pushed) served: starts a thread for a job no worker
    /// will take, and wakes idle workers, at once or (`defer`, called on a runtime) at the
    /// end of the runtime's tick.
    ///
    /// Deferring is what makes a burst of RPCs cost one wake-up: on one core, a woken
    /// worker preempts the runtime thread, so waking it per job means two context switches
    /// per RPC. Woken once the runtime has read everything at hand, it finds the whole
    /// burst queued and runs it while the runtime waits, and the runtime then writes all
    /// the answers in one go. A worker that is busy takes the next job without a wake-up.
    fn dispatch(&self, mut st: MutexGuard<'_, State>, defer: bool) -> Result<(), PoolFull> {
        let start = st.unserved() > 0 && self.inner.may_start(&st);
        if start {
            st.workers += 1;
            st.starting += 1;
        }
        let mut wake = st.should_wake();
        if wake && defer {
            wake = !st.wake_scheduled && !self.schedule_wake(&mut st);
        }
        drop(st);
        if start {
            // Without a thread the job still waits for the next free worker.
            let _ = self.spawn_worker();
        }
        if wake {
            self.wake_idle(false);
        }
        Ok(())
    }

    /// Schedules [`wake_idle`](Self::wake_idle) to run after the tasks the runtime has ready (a
    /// yielding task runs once the runtime next polls its driver or parks); false when not
    /// on a runtime.
    fn schedule_wake(&self, st: &mut State) -> bool {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        st.wake_scheduled = true;
        // The guard wakes the workers even if the task is dropped unrun (runtime shutdown).
        let guard = WakeOnDrop(self.clone());
        runtime.spawn(async move {
            tokio::task::yield_now().await;
            drop(guard);
        });
        true
    }

    /// Wakes idle workers, one at a time, while a queued job waits for one that nobody has
    /// woken. One at a time, because on one core a woken worker runs at once and may
    /// empty the queue before the next would be woken.
    fn wake_idle(&self, scheduled: bool) {
        let mut st = self.inner.lock();
        if scheduled {
            st.wake_scheduled = false;
        }
        while st.should_wake() {
            st.woken += 1;
            drop(st);
            self.inner.available.notify_one();
            st = self.inner.lock();
        }
    }

    fn spawn_worker(&self) -> std::io::Result<()> {
        let inner = self.inner.clone();
        let name = format!("rpc-worker-{}", WORKER_COUNTER.fetch_add(1, Ordering::Relaxed));
        let spawned = std::thread::Builder::new().name(name).spawn(move || work(inner));
        if let Err(e) = spawned {
            // The job stays queued for another worker; this one never started.
            let mut st = self.inner.lock();
            st.workers -= 1;
            st.starting -= 1;
            tracing::warn!("could not start a worker thread: {e}");
            if st.workers == 0 {
                st.queue.clear();
            }
            return Err(e);
        }
        Ok(())
    }

    /// Refuses new jobs; idle workers end once the queue is empty.
    pub(crate) fn close(&self) {
        self.inner.lock().closed = true;
        self.inner.available.notify_all();
    }

    /// Threads currently started (busy, idle or parked).
    #[cfg(test)]
    pub(crate) fn workers(&self) -> usize {
        self.inner.lock().workers
    }
}

/// Runs `wait`, a wait on the network, on this thread; on a worker of a pool, the worker
/// does not count against `max_workers` meanwhile (while fewer than `max_parked` are
/// parked), and a queued job gets a thread. Elsewhere it just runs `wait`.
pub(crate) fn park_while<T>(wait: impl FnOnce() -> T) -> T {
    let Some(inner) = CURRENT.with(|c| c.borrow().clone()) else {
        return wait();
    };
    let parked = {
        let mut st = inner.lock();
        if st.parked < inner.max_parked {
            st.parked += 1;
            // This worker's place is free: a job waiting for one gets a thread.
            if st.unserved() > 0 && inner.may_start(&st) {
                st.workers += 1;
                st.starting += 1;
                drop(st);
                let _ = WorkerPool { inner: inner.clone() }.spawn_worker();
            }
            true
        } else {
            false
        }
    };
    // Unparked on unwind too: the wait may panic inside user code.
    struct Unpark<'a>(&'a Inner, bool);
    impl Drop for Unpark<'_> {
        fn drop(&mut self) {
            if self.1 {
                self.0.lock().parked -= 1;
            }
        }
    }
    let _unpark = Unpark(&inner, parked);
    wait()
}

fn work(inner: Arc<Inner>) {
    CURRENT.with(|c| *c.borrow_mut() = Some(inner.clone()));
    inner.lock().starting -= 1;
    loop {
        let job = {
            let mut st = inner.lock();
            loop {
                // More workers running than allowed (some came back from waiting): this
                // one ends, unless it is needed for the queue.
                if st.running() > inner.max_workers {
                    st.workers -= 1;
                    return;
                }
                if let Some(job) = st.queue.pop_front() {
                    break job;
                }
                if st.closed {
                    st.workers -= 1;
                    return;
                }
                st.idle += 1;
                let (next, timeout) = inner.available.wait_timeout(st, IDLE_LIFETIME).unwrap_or_else(|p| p.into_inner());
                st = next;
                st.idle -= 1;
                st.woken = st.woken.saturating_sub(1);
                if timeout.timed_out() && st.queue.is_empty() {
                    st.workers -= 1;
                    return;
                }
            }
        };
        // Jobs catch their own panics; this one is a last line of defence for the thread.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

/// Wakes the pool's idle workers when dropped.
struct WakeOnDrop(WorkerPool);

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        self.0.wake_idle(true);
    }
}

impl fmt::Debug for WorkerPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner.lock();
        f.debug_struct("WorkerPool")
            .field("max_workers", &self.inner.max_workers)
            .field("max_queued", &self.inner.max_queued)
            .field("workers", &st.workers)
            .field("queued", &st.queue.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn a_job_given_to_a_worker_being_started_is_not_counted_as_queued() {
        // One worker and room for one waiting job: the first job goes to the worker being
        // started, so the second (sent before that thread has taken the first) is the one
        // waiting, not refused. Counting the first as queued refused the second.
        let pool = WorkerPool::new(1, 1, 0);
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (done_tx, done_rx) = mpsc::channel();
        pool.execute(move || {
            let _ = release_rx.recv();
        })
        .unwrap();
        pool.execute(move || done_tx.send(()).unwrap())
            .expect("the second job waits for the worker");
        drop(release_tx);
        done_rx.recv_timeout(Duration::from_secs(30)).unwrap();
        pool.close();
    }

    #[test]
    fn a_parked_worker_gives_its_place_to_the_next_job_within_the_cap() {
        // One worker place, one parked thread allowed, nothing may queue.
        let pool = WorkerPool::new(1, 0, 1);
        let (parked_tx, parked_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (done_tx, done_rx) = mpsc::channel();
        let done = done_tx.clone();
        pool.execute(move || {
            park_while(|| {
                parked_tx.send(()).unwrap();
                let _ = release_rx.recv();
            });
            done.send("parked job").unwrap();
        })
        .unwrap();
        parked_rx.recv_timeout(Duration::from_secs(30)).unwrap();
        // The place is free while the first waits: a second job runs at once.
        let (hold_tx, hold_rx) = mpsc::channel::<()>();
        let done = done_tx.clone();
        pool.execute(move || {
            // Parking is refused past the cap: this one keeps its place.
            park_while(|| {
                let _ = hold_rx.recv();
            });
            done.send("second job").unwrap();
        })
        .expect("the parked worker's place is free");
        assert!(pool.execute(|| {}).is_err(), "both places taken, no queue: refused");
        drop(hold_tx);
        assert_eq!(done_rx.recv_timeout(Duration::from_secs(30)).unwrap(), "second job");
        drop(release_tx);
        assert_eq!(done_rx.recv_timeout(Duration::from_secs(30)).unwrap(), "parked job");
        pool.close();
    }

    #[test]
    fn a_job_queued_from_a_runtime_runs_even_if_the_runtime_ends_before_its_tick_does() {
        let pool = WorkerPool::new(2, 8, 0);
        // A first job starts a worker, which then waits idle.
        let (tx, rx) = mpsc::channel();
        pool.execute(move || tx.send(()).unwrap()).unwrap();
        rx.recv_timeout(Duration::from_secs(30)).unwrap();
        let until = std::time::Instant::now() + Duration::from_secs(30);
        while pool.inner.lock().idle == 0 {
            assert!(std::time::Instant::now() < until, "the worker never went idle");
            std::thread::sleep(Duration::from_millis(1));
        }
        // Queued from a runtime, the job's wake-up waits for the end of the runtime's
        // tick, which never comes: the runtime is dropped first. The worker is woken all
        // the same (without that it would sleep out its idle minute).
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let (tx, rx) = mpsc::channel();
        runtime.block_on(async { pool.execute(move || tx.send("ran").unwrap()).unwrap() });
        drop(runtime);
        assert_eq!(rx.recv_timeout(Duration::from_secs(30)).unwrap(), "ran");
        pool.close();
    }

    #[test]
    fn park_while_outside_a_pool_just_waits() {
        assert_eq!(park_while(|| 7), 7);
    }

    #[test]
    fn refuses_when_workers_and_queue_are_full_and_runs_the_rest() {
        let pool = WorkerPool::new(1, 1, 0);
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::channel();
        pool.execute(move || {
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
        })
        .unwrap();
        started_rx.recv().unwrap();
        let queued_done = done_tx.clone();
        pool.execute(move || queued_done.send("queued").unwrap()).unwrap();
        assert!(pool.execute(|| {}).is_err(), "a third job must be refused");
        release_tx.send(()).unwrap();
        assert_eq!(done_rx.recv_timeout(Duration::from_secs(30)).unwrap(), "queued");
        assert_eq!(pool.workers(), 1);
        pool.close();
        assert!(pool.execute(|| {}).is_err(), "a closed pool refuses jobs");
    }
}
