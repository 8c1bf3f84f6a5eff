//! The bounded pool of named worker threads that runs blocking handlers: at most
//! `max_workers` threads (started on demand, ended after a minute idle) and at most
//! `max_queued` jobs waiting for one. Beyond that a job is refused at once, so the server
//! answers RESOURCE_EXHAUSTED instead of queueing without bound.
//!
//! Workers are never on the path to shutdown: a stop does not wait for them, and a worker
//! stuck in a handler that never returns is simply left behind.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How long an idle worker waits for a job before it ends.
const IDLE_LIFETIME: Duration = Duration::from_secs(60);

/// Numbers worker threads across every pool of the process.
static WORKER_COUNTER: AtomicUsize = AtomicUsize::new(0);

type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    workers: usize,
    idle: usize,
    /// Workers spawned that have not taken their first job yet: like idle ones, each will
    /// take a queued job, so those jobs are not waiting for a worker.
    starting: usize,
    closed: bool,
}

struct Inner {
    max_workers: usize,
    max_queued: usize,
    state: Mutex<State>,
    available: Condvar,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Jobs run outside the lock, so a poisoned lock holds consistent state.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
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
    pub(crate) fn new(max_workers: usize, max_queued: usize) -> WorkerPool {
        WorkerPool {
            inner: Arc::new(Inner {
                max_workers: max_workers.max(1),
                max_queued,
                state: Mutex::new(State::default()),
                available: Condvar::new(),
            }),
        }
    }

    /// Runs `job` on a worker: an idle one, a new one (below `max_workers`), or the next
    /// one free if fewer than `max_queued` jobs are already waiting. Refused otherwise.
    pub(crate) fn execute(&self, job: impl FnOnce() + Send + 'static) -> Result<(), PoolFull> {
        let mut st = self.inner.lock();
        let full = PoolFull {
            workers: self.inner.max_workers,
            queued: self.inner.max_queued,
        };
        if st.closed {
            return Err(full);
        }
        let free = st.idle + st.starting;
        let waiting = st.queue.len().saturating_sub(free);
        if free > st.queue.len() {
            st.queue.push_back(Box::new(job));
            drop(st);
            self.inner.available.notify_one();
            return Ok(());
        }
        if st.workers < self.inner.max_workers {
            st.queue.push_back(Box::new(job));
            st.workers += 1;
            st.starting += 1;
            drop(st);
            return self.spawn_worker().map_err(|_| full);
        }
        if waiting < self.inner.max_queued {
            st.queue.push_back(Box::new(job));
            return Ok(());
        }
        Err(full)
    }

    fn spawn_worker(&self) -> std::io::Result<()> {
        let inner = self.inner.clone();
        let name = format!("rpc-worker-{}", WORKER_COUNTER.fetch_add(1, Ordering::Relaxed));
        let spawned = std::thread::Builder::new().name(name).spawn(move || work(&inner));
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

    /// Threads currently started (busy or idle).
    #[cfg(test)]
    pub(crate) fn workers(&self) -> usize {
        self.inner.lock().workers
    }
}

fn work(inner: &Inner) {
    inner.lock().starting -= 1;
    loop {
        let job = {
            let mut st = inner.lock();
            loop {
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
        let pool = WorkerPool::new(1, 1);
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
    fn refuses_when_workers_and_queue_are_full_and_runs_the_rest() {
        let pool = WorkerPool::new(1, 1);
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
