//! A bounded queue between a thread and a task (either side may be either), built so that a
//! stream of messages costs a wake-up per batch, not per message:
//!
//! - a consumer that found the queue empty is woken when the producer *announces* what it
//!   pushed: at once for a producer that cannot tell whether more follows, or once it has
//!   nothing more at hand (an async producer whose source returned `Pending`);
//! - a producer that found the queue full is woken only once the consumer has taken it
//!   down to half, so it then refills half the queue in one go;
//! - nobody is notified when nobody waits (a condvar notify is a system call even then).
//!
//! On one core, waking a thread per message costs two context switches per message; these
//! rules make it two per batch while the two sides are busy, and add no delay: an item is
//! announced before its producer could wait on anything.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

struct State<T> {
    queue: VecDeque<T>,
    /// The producer is done (normally or not): after the queue, nothing more comes.
    producer_gone: bool,
    /// The consumer is gone: pushes are refused.
    consumer_gone: bool,
    /// A consumer found the queue empty and waits (a blocked thread or a task's waker).
    consumer_waits: Waiter,
    /// A producer found the queue full and waits.
    producer_waits: Waiter,
}

enum Waiter {
    None,
    Thread,
    Task(Waker),
}

impl Waiter {
    fn is_some(&self) -> bool {
        !matches!(self, Waiter::None)
    }
}

/// How many items of `item_size` bytes make about `bytes`, between `min` and `max`: the
/// one sizing rule of the queues and read-aheads that move messages in batches.
pub(crate) fn capacity_for(bytes: usize, item_size: usize, min: usize, max: usize) -> usize {
    (bytes / item_size.max(1)).clamp(min, max)
}

/// The queue; share it in an `Arc` between the two sides.
pub(crate) struct Handoff<T> {
    state: Mutex<State<T>>,
    /// A blocked consumer waits here.
    items: Condvar,
    /// A blocked producer waits here.
    room: Condvar,
    /// At most this many items (changed with [`set_capacity`](Self::set_capacity)).
    capacity: AtomicUsize,
}

/// What [`Handoff::take_all`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Taken {
    /// Items, now moved.
    Some,
    /// Nothing yet.
    Nothing,
    /// Nothing, and nothing more comes.
    Ended,
}

/// Whom to wake, found under the lock and woken outside it.
enum Wake {
    Nobody,
    Items,
    Room,
    Task(Waker),
}

impl<T> Handoff<T> {
    /// A queue of at most `capacity` items (at least 2, so that half of it is at least one).
    pub(crate) fn new(capacity: usize) -> Handoff<T> {
        let capacity = capacity.max(2);
        Handoff {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                producer_gone: false,
                consumer_gone: false,
                consumer_waits: Waiter::None,
                producer_waits: Waiter::None,
            }),
            items: Condvar::new(),
            room: Condvar::new(),
            capacity: AtomicUsize::new(capacity),
        }
    }

    /// Changes the capacity (at least 2), e.g. once the size of an item is known, so that the
    /// queue holds about as many bytes whatever the items' size. Queued items stay.
    pub(crate) fn set_capacity(&self, capacity: usize) {
        self.capacity.store(capacity.max(2), Ordering::Relaxed);
    }

    fn capacity(&self) -> usize {
        self.capacity.load(Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // No user code runs under this lock, so a poisoned one is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wake(&self, wake: Wake) {
        match wake {
            Wake::Nobody => {}
            Wake::Items => self.items.notify_one(),
            Wake::Room => self.room.notify_one(),
            Wake::Task(w) => w.wake(),
        }
    }

    fn take(waiter: &mut Waiter, thread: Wake) -> Wake {
        match std::mem::replace(waiter, Waiter::None) {
            Waiter::None => Wake::Nobody,
            Waiter::Thread => thread,
            Waiter::Task(w) => Wake::Task(w),
        }
    }

    // --- the producer's side ---

    /// Whether there is room for one more item (`Err` when the consumer is gone).
    fn has_room(&self, st: &State<T>) -> Result<bool, ()> {
        if st.consumer_gone {
            return Err(());
        }
        Ok(st.queue.len() < self.capacity())
    }

    /// Pushes `item` if there is room, without waking anyone (see [`announce`](Self::announce)),
    /// and says whether there is room for another. `Err(item)` back when the queue is full
    /// or the consumer is gone.
    #[cfg(test)]
    pub(crate) fn try_push_quiet(&self, item: T) -> Result<bool, T> {
        let mut st = self.lock();
        match self.has_room(&st) {
            Ok(true) => {
                st.queue.push_back(item);
                Ok(st.queue.len() < self.capacity())
            }
            _ => Err(item),
        }
    }

    /// Moves as many of `batch`'s items (from its front) as there is room for, without
    /// waking anyone (see [`announce`](Self::announce)); `Err` once the consumer is gone.
    pub(crate) fn push_all_quiet(&self, batch: &mut VecDeque<T>) -> Result<(), ()> {
        let mut st = self.lock();
        if st.consumer_gone {
            return Err(());
        }
        let room = self.capacity().saturating_sub(st.queue.len());
        if st.queue.is_empty() && batch.len() <= room {
            // The whole batch, without moving an item: the queues swap their buffers.
            std::mem::swap(&mut st.queue, batch);
        } else if batch.len() <= room {
            // Moved in bulk (`extend` from a `drain` moved them one by one).
            st.queue.append(batch);
        } else {
            let n = room.min(batch.len());
            st.queue.extend(batch.drain(..n));
        }
        Ok(())
    }

    /// Wakes a waiting consumer if there is something for it.
    pub(crate) fn announce(&self) {
        let wake = {
            let mut st = self.lock();
            if st.queue.is_empty() {
                return;
            }
            Self::take(&mut st.consumer_waits, Wake::Items)
        };
        self.wake(wake);
    }

    /// Pushes `item` and wakes a waiting consumer, blocking this thread while the queue is
    /// full. `Err(item)` back once the consumer is gone.
    pub(crate) fn push_blocking(&self, item: T) -> Result<(), T> {
        let mut st = self.lock();
        loop {
            match self.has_room(&st) {
                Err(()) => return Err(item),
                Ok(true) => break,
                Ok(false) => {
                    st.producer_waits = Waiter::Thread;
                    st = self.room.wait(st).unwrap_or_else(|p| p.into_inner());
                }
            }
        }
        st.queue.push_back(item);
        let wake = Self::take(&mut st.consumer_waits, Wake::Items);
        drop(st);
        self.wake(wake);
        Ok(())
    }

    /// `Ready(true)` when there is room for an item, `Ready(false)` once the consumer is gone;
    /// `Pending` (woken when the queue is down to half) while it is full, having announced
    /// the full queue to a waiting consumer.
    pub(crate) fn poll_room(&self, cx: &mut Context<'_>) -> Poll<bool> {
        let mut st = self.lock();
        match self.has_room(&st) {
            Err(()) => Poll::Ready(false),
            Ok(true) => Poll::Ready(true),
            Ok(false) => {
                st.producer_waits = Waiter::Task(cx.waker().clone());
                let wake = Self::take(&mut st.consumer_waits, Wake::Items);
                drop(st);
                self.wake(wake);
                Poll::Pending
            }
        }
    }

    /// The producer is done: the consumer gets what is queued, then the end.
    pub(crate) fn close_producer(&self) {
        let wake = {
            let mut st = self.lock();
            st.producer_gone = true;
            Self::take(&mut st.consumer_waits, Wake::Items)
        };
        self.wake(wake);
    }

    // --- the consumer's side ---

    /// Takes the front item; wakes a waiting producer once the queue is down to half.
    fn pop(&self, st: &mut State<T>) -> (Option<T>, Wake) {
        let item = st.queue.pop_front();
        let wake = if item.is_some() && st.producer_waits.is_some() && st.queue.len() <= self.capacity() / 2 {
            Self::take(&mut st.producer_waits, Wake::Room)
        } else {
            Wake::Nobody
        };
        (item, wake)
    }

    /// The next item without waiting: `Some(Some(item))`, `Some(None)` at the end, `None`
    /// when there is nothing yet.
    #[cfg(test)]
    pub(crate) fn try_pop(&self) -> Option<Option<T>> {
        let mut st = self.lock();
        let (item, wake) = self.pop(&mut st);
        let ended = item.is_none() && st.producer_gone;
        drop(st);
        self.wake(wake);
        match item {
            Some(item) => Some(Some(item)),
            None if ended => Some(None),
            None => None,
        }
    }

    /// Moves every queued item to the back of `into`, under one lock for the batch (the
    /// queue keeps the room `into` had), and wakes a waiting producer. The consumer then
    /// holds up to a queue's worth besides the queue.
    pub(crate) fn take_all(&self, into: &mut VecDeque<T>) -> Taken {
        let mut st = self.lock();
        if st.queue.is_empty() {
            return if st.producer_gone { Taken::Ended } else { Taken::Nothing };
        }
        if into.is_empty() {
            std::mem::swap(&mut st.queue, into);
        } else {
            into.append(&mut st.queue);
        }
        let wake = Self::take(&mut st.producer_waits, Wake::Room);
        drop(st);
        self.wake(wake);
        Taken::Some
    }

    /// The next item, blocking this thread until one comes; `None` once the producer is
    /// done and the queue is empty.
    pub(crate) fn pop_blocking(&self) -> Option<T> {
        let mut st = self.lock();
        loop {
            let (item, wake) = self.pop(&mut st);
            if item.is_some() {
                drop(st);
                self.wake(wake);
                return item;
            }
            if st.producer_gone {
                return None;
            }
            st.consumer_waits = Waiter::Thread;
            st = self.items.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// The next item; `Ready(None)` once the producer is done and the queue is empty.
    pub(crate) fn poll_pop(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut st = self.lock();
        let (item, wake) = self.pop(&mut st);
        if item.is_some() {
            drop(st);
            self.wake(wake);
            return Poll::Ready(item);
        }
        if st.producer_gone {
            return Poll::Ready(None);
        }
        st.consumer_waits = Waiter::Task(cx.waker().clone());
        Poll::Pending
    }

    /// The consumer is gone: what is queued is dropped and the producer's pushes fail.
    pub(crate) fn close_consumer(&self) {
        let (queued, wake) = {
            let mut st = self.lock();
            st.consumer_gone = true;
            let wake = Self::take(&mut st.producer_waits, Wake::Room);
            (std::mem::take(&mut st.queue), wake)
        };
        // Items are dropped outside the lock (their drop may run anything).
        drop(queued);
        self.wake(wake);
    }
}

/// The producer's handle: dropping it closes the producer's side, however the producer
/// stops (its end, an error, a panic, an aborted task), so the consumer sees the end.
pub(crate) struct Producer<T>(pub(crate) Arc<Handoff<T>>);

impl<T> std::ops::Deref for Producer<T> {
    type Target = Handoff<T>;
    fn deref(&self) -> &Handoff<T> {
        &self.0
    }
}

impl<T> Drop for Producer<T> {
    fn drop(&mut self) {
        self.0.close_producer();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_thread_producer_and_consumer_see_every_item_in_order_and_the_end() {
        let q = Arc::new(Handoff::new(4));
        let producer = {
            let q = q.clone();
            std::thread::spawn(move || {
                for i in 0..1000 {
                    q.push_blocking(i).unwrap();
                }
                q.close_producer();
            })
        };
        let got: Vec<i32> = std::iter::from_fn(|| q.pop_blocking()).collect();
        producer.join().unwrap();
        assert_eq!(got, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn a_full_queue_wakes_its_producer_only_once_down_to_half() {
        let q = Handoff::new(4);
        for i in 0..4 {
            q.try_push_quiet(i).unwrap();
        }
        assert_eq!(q.try_push_quiet(9), Err(9), "full");
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(q.poll_room(&mut cx).is_pending());
        assert_eq!(q.try_pop(), Some(Some(0)));
        assert!(q.lock().producer_waits.is_some(), "3 of 4 left: not woken yet");
        assert_eq!(q.try_pop(), Some(Some(1)));
        assert!(!q.lock().producer_waits.is_some(), "2 of 4 left: woken");
    }

    #[test]
    fn take_all_moves_the_batch_in_order_frees_the_producer_and_sees_the_end() {
        let q = Handoff::new(3);
        assert_eq!(q.try_push_quiet(1), Ok(true));
        assert_eq!(q.try_push_quiet(2), Ok(true));
        assert_eq!(q.try_push_quiet(3), Ok(false), "the last room taken");
        let waker = futures::task::noop_waker();
        assert!(q.poll_room(&mut Context::from_waker(&waker)).is_pending());
        let mut local = VecDeque::from([0]);
        assert_eq!(q.take_all(&mut local), Taken::Some);
        assert_eq!(local, [0, 1, 2, 3]);
        assert!(!q.lock().producer_waits.is_some(), "the producer is woken");
        assert_eq!(q.take_all(&mut local), Taken::Nothing);
        q.try_push_quiet(4).unwrap();
        q.close_producer();
        let mut fresh = VecDeque::new();
        assert_eq!(q.take_all(&mut fresh), Taken::Some);
        assert_eq!(fresh, [4]);
        assert_eq!(q.take_all(&mut fresh), Taken::Ended);
    }

    #[test]
    fn push_all_moves_what_there_is_room_for_and_fails_once_the_consumer_is_gone() {
        let q = Handoff::new(4);
        q.try_push_quiet(0).unwrap();
        let mut batch = VecDeque::from([1, 2, 3, 4, 5]);
        assert_eq!(q.push_all_quiet(&mut batch), Ok(()));
        assert_eq!(batch, [4, 5], "three fitted");
        assert_eq!(q.push_all_quiet(&mut batch), Ok(()));
        assert_eq!(batch, [4, 5], "a full queue takes none");
        let mut taken = VecDeque::new();
        assert_eq!(q.take_all(&mut taken), Taken::Some);
        assert_eq!(taken, [0, 1, 2, 3]);
        q.close_consumer();
        assert_eq!(q.push_all_quiet(&mut batch), Err(()));
    }

    #[test]
    fn quiet_pushes_reach_a_waiting_consumer_when_announced() {
        let q = Arc::new(Handoff::new(8));
        let consumer = {
            let q = q.clone();
            std::thread::spawn(move || std::iter::from_fn(|| q.pop_blocking()).collect::<Vec<_>>())
        };
        // Let the consumer wait on the empty queue.
        while !q.lock().consumer_waits.is_some() {
            std::thread::sleep(Duration::from_millis(1));
        }
        q.try_push_quiet(1).unwrap();
        q.try_push_quiet(2).unwrap();
        assert!(q.lock().consumer_waits.is_some(), "not woken by quiet pushes");
        q.announce();
        q.close_producer();
        assert_eq!(consumer.join().unwrap(), [1, 2]);
    }

    #[test]
    fn a_gone_consumer_fails_pushes_and_frees_a_blocked_producer() {
        let q = Arc::new(Handoff::new(2));
        q.push_blocking(1).unwrap();
        q.push_blocking(2).unwrap();
        let producer = {
            let q = q.clone();
            std::thread::spawn(move || q.push_blocking(3))
        };
        while !q.lock().producer_waits.is_some() {
            std::thread::sleep(Duration::from_millis(1));
        }
        q.close_consumer();
        assert_eq!(producer.join().unwrap(), Err(3));
        assert_eq!(q.try_push_quiet(4), Err(4));
    }
}
