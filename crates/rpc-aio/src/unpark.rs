//! Unparking blocked threads once per batch: a blocking caller (rpc-sync) parks its thread
//! until the engine wakes it, and the engine's wakes come from a connection's task, one
//! per frame that concerns the call (its response headers, its data, its trailers). On a
//! busy core each wake could switch to the woken thread at once, in the middle of the
//! connection's work: the thread finds half a response, parks again, and the connection
//! task waits for the core.
//!
//! So a connection task polls its connection inside a [`Batch`]: an [`unpark`] made
//! meanwhile on that thread is held, and the threads are unparked together when the poll
//! is over (each once, with everything the poll read for it). Outside a batch, [`unpark`]
//! unparks at once.
//!
//! The other way round, a caller that queues a request's headers and then its DATA frame
//! would wake the connection's task twice: on a busy core the task could run between the
//! two, writing the headers alone and parking again. A connection's task therefore hands
//! h2 a [`Deferred`] waker, whose wakes are held the same way: the caller opens a batch
//! around the frames it queues, and the task is woken once, with all of them.

use futures::task::AtomicWaker;
use std::cell::RefCell;
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::thread::Thread;

/// The batch running on a thread: whether one is open, and the threads and tasks it holds
/// (the lists keep their room between batches).
struct Held {
    open: bool,
    threads: Vec<Thread>,
    tasks: Vec<Waker>,
}

thread_local! {
    static HELD: RefCell<Held> = const { RefCell::new(Held { open: false, threads: Vec::new(), tasks: Vec::new() }) };
}

/// A task's waker whose wakes are held while a [`Batch`] runs on the waking thread. The
/// task registers its own waker before each poll ([`Deferred::context`]).
#[derive(Default)]
pub(crate) struct Deferred {
    task: AtomicWaker,
}

impl Deferred {
    /// Registers `task`'s own waker: the one a deferred wake reaches.
    pub(crate) fn register(self: &Arc<Self>, task: &Context<'_>) {
        self.task.register(task.waker());
    }
}

impl Wake for Deferred {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let held = HELD
            .try_with(|h| {
                let mut h = h.borrow_mut();
                if h.open {
                    h.tasks.push(Waker::from(self.clone()));
                }
                h.open
            })
            .unwrap_or(false);
        if !held {
            self.task.wake();
        }
    }
}

/// Unparks `thread`, at the end of the current batch if this thread runs one.
pub(crate) fn unpark(thread: &Thread) {
    let held = HELD
        .try_with(|h| {
            let mut h = h.borrow_mut();
            if h.open {
                h.threads.push(thread.clone());
            }
            h.open
        })
        .unwrap_or(false);
    if !held {
        thread.unpark();
    }
}

/// Holds the unparks made on this thread until dropped (batches nest: the outermost
/// unparks).
pub(crate) struct Batch {
    outer: bool,
}

impl Batch {
    pub(crate) fn start() -> Batch {
        let outer = HELD
            .try_with(|h| !std::mem::replace(&mut h.borrow_mut().open, true))
            .unwrap_or(false);
        Batch { outer }
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        if !self.outer {
            return;
        }
        // Woken outside the borrow (no batch is open then); the lists go back for their room.
        let Ok((mut threads, mut tasks)) = HELD.try_with(|h| {
            let mut h = h.borrow_mut();
            h.open = false;
            (std::mem::take(&mut h.threads), std::mem::take(&mut h.tasks))
        }) else {
            return;
        };
        for thread in threads.drain(..) {
            thread.unpark();
        }
        for task in tasks.drain(..) {
            task.wake();
        }
        let _ = HELD.try_with(|h| {
            let mut h = h.borrow_mut();
            h.threads = threads;
            h.tasks = tasks;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    /// A thread that parks until `flag` is set, and reports when it is unparked.
    fn parked(flag: Arc<AtomicBool>) -> (std::thread::JoinHandle<()>, std::sync::mpsc::Receiver<()>) {
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                std::thread::park();
            }
            let _ = tx.send(());
        });
        (handle, rx)
    }

    #[test]
    fn a_batch_holds_unparks_until_it_ends() {
        let flag = Arc::new(AtomicBool::new(false));
        let (handle, woke) = parked(flag.clone());
        let batch = Batch::start();
        let inner = Batch::start();
        flag.store(true, Ordering::SeqCst);
        unpark(handle.thread());
        drop(inner);
        // Held while the outer batch is open.
        assert_eq!(HELD.with(|h| h.borrow().threads.len()), 1);
        drop(batch);
        assert!(HELD.with(|h| !h.borrow().open && h.borrow().threads.is_empty()));
        woke.recv_timeout(Duration::from_secs(20)).expect("unparked when the batch ended");
        handle.join().unwrap();
    }

    /// A waker that counts its wakes.
    struct Count(std::sync::atomic::AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_batch_holds_a_deferred_wake_until_it_ends() {
        let count = Arc::new(Count(Default::default()));
        let task = Waker::from(count.clone());
        let deferred = Arc::new(Deferred::default());
        deferred.register(&Context::from_waker(&task));
        let waker = Waker::from(deferred.clone());
        let batch = Batch::start();
        waker.wake_by_ref();
        assert_eq!(count.0.load(Ordering::SeqCst), 0, "held while the batch is open");
        drop(batch);
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "woken when the batch ended");
        // Outside a batch, at once (once registered again, as a task does before each poll).
        deferred.register(&Context::from_waker(&task));
        waker.wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn outside_a_batch_unpark_is_at_once() {
        let flag = Arc::new(AtomicBool::new(true));
        let (handle, woke) = parked(flag);
        unpark(handle.thread());
        assert!(HELD.with(|h| h.borrow().threads.is_empty()));
        woke.recv_timeout(Duration::from_secs(20)).expect("unparked");
        handle.join().unwrap();
    }
}
