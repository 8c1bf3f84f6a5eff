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

use std::cell::RefCell;
use std::thread::Thread;

/// The batch running on a thread: whether one is open, and the threads it holds (the list
/// keeps its room between batches).
struct Held {
    open: bool,
    threads: Vec<Thread>,
}

thread_local! {
    static HELD: RefCell<Held> = const { RefCell::new(Held { open: false, threads: Vec::new() }) };
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
        // Unparked outside the borrow; the list goes back for its room.
        let Ok(mut threads) = HELD.try_with(|h| {
            let mut h = h.borrow_mut();
            h.open = false;
            std::mem::take(&mut h.threads)
        }) else {
            return;
        };
        for thread in threads.drain(..) {
            thread.unpark();
        }
        let _ = HELD.try_with(|h| h.borrow_mut().threads = threads);
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
