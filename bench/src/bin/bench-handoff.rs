//! The cost of the thread hand-off alone, without any RPC: `bench-handoff [callers] [calls]`.
//!
//! Models how the rpc-sync client waits: each of `callers` threads (default 64) posts a
//! request to one server thread and parks until it is answered; the server thread answers
//! every request it finds by unparking its caller. Prints the time per answered request,
//! which is the least a blocking call pays on this machine for waking its thread, on top
//! of the work of the call itself. Run it pinned to one core, as the bench pins its
//! clients: `taskset -c 1 bench-handoff`. Bounded: `calls` (default 200,000) answers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, Thread};
use std::time::Instant;

struct Slot {
    answered: AtomicBool,
}

/// The requests waiting for the server thread: each with the thread to unpark.
type Queue = Mutex<Vec<(Arc<Slot>, Thread)>>;

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let callers = args.next().and_then(Result::ok).unwrap_or(64).max(1);
    let calls = args.next().and_then(Result::ok).unwrap_or(200_000).max(callers);
    let per_caller = calls / callers;
    let total = per_caller * callers;
    let queue: Arc<Queue> = Arc::default();
    let started = Instant::now();
    let server = {
        let queue = queue.clone();
        thread::spawn(move || {
            let mut answered = 0;
            while answered < total {
                let batch = std::mem::take(&mut *queue.lock().unwrap_or_else(|p| p.into_inner()));
                if batch.is_empty() {
                    thread::yield_now();
                    continue;
                }
                for (slot, caller) in batch {
                    slot.answered.store(true, Ordering::Release);
                    caller.unpark();
                    answered += 1;
                }
            }
        })
    };
    let threads: Vec<_> = (0..callers)
        .map(|_| {
            let queue = queue.clone();
            thread::spawn(move || {
                for _ in 0..per_caller {
                    let slot = Arc::new(Slot {
                        answered: AtomicBool::new(false),
                    });
                    queue
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((slot.clone(), thread::current()));
                    while !slot.answered.load(Ordering::Acquire) {
                        thread::park();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    let _ = server.join();
    let elapsed = started.elapsed();
    println!(
        "{callers} callers, {total} hand-offs: {:.2} us per hand-off ({:.0} per second)",
        elapsed.as_secs_f64() * 1e6 / total as f64,
        total as f64 / elapsed.as_secs_f64()
    );
}
