//! A bounded channel of responses that blocking code fills and the engine drains without a
//! thread of its own: the sender blocks (on its own thread) while the channel is full, the
//! receiver is polled as an async stream, or iterated (blocking) by code that holds it.

use crate::error::RpcError;
use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

struct State<T> {
    queue: VecDeque<Result<T, RpcError>>,
    senders: usize,
    receiver_gone: bool,
    waker: Option<Waker>,
    /// Threads blocked on `room` / `item`: a condvar notify is a system call even when
    /// nobody waits, so each side notifies only a waiting one.
    room_waiters: usize,
    item_waiters: usize,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Signalled when there is room (or the receiver went away).
    room: Condvar,
    /// Signalled when there is an item (or every sender went away), for blocking readers.
    item: Condvar,
    capacity: usize,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Nothing panics under this lock, so a poisoned one is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Why a response was not sent: the RPC has ended (the client went away, the deadline
/// passed, or the server stopped it). The response is handed back.
#[derive(Debug, Clone)]
pub struct SendError<T>(pub Result<T, RpcError>);

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the RPC has ended; the response was not sent")
    }
}

impl<T: fmt::Debug> std::error::Error for SendError<T> {}

/// The sending side of a channel-backed response iterator (see
/// `ResponseIterator::channel`). Cheap to clone; any thread may send. The responses end when
/// the last sender is dropped; sending an `Err` ends the RPC with that status.
pub struct ResponseSender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> fmt::Debug for ResponseSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseSender").field("closed", &self.is_closed()).finish()
    }
}

impl<T> Clone for ResponseSender<T> {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        ResponseSender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for ResponseSender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut st = self.shared.lock();
            st.senders -= 1;
            if st.senders > 0 {
                return;
            }
            st.waker.take()
        };
        self.shared.item.notify_all();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> ResponseSender<T> {
    /// Sends one response (or, with `Err`, the status to end the RPC with), blocking this
    /// thread while the channel is full (the client reads slower than you produce).
    ///
    /// # Errors
    /// [`SendError`] (the item handed back) once the RPC has ended.
    pub fn send(&self, item: Result<T, RpcError>) -> Result<(), SendError<T>> {
        let mut st = self.shared.lock();
        while st.queue.len() >= self.shared.capacity && !st.receiver_gone {
            st.room_waiters += 1;
            st = self.shared.room.wait(st).unwrap_or_else(|p| p.into_inner());
            st.room_waiters -= 1;
        }
        self.push(st, item)
    }

    /// Like [`send`](Self::send), giving up after `timeout`.
    ///
    /// # Errors
    /// [`SendError`] once the RPC has ended, or when the channel stayed full for `timeout`.
    pub fn send_timeout(&self, item: Result<T, RpcError>, timeout: Duration) -> Result<(), SendError<T>> {
        let mut st = self.shared.lock();
        st.room_waiters += 1;
        let (mut st, _) = self
            .shared
            .room
            .wait_timeout_while(st, timeout, |st| st.queue.len() >= self.shared.capacity && !st.receiver_gone)
            .unwrap_or_else(|p| p.into_inner());
        st.room_waiters -= 1;
        if st.queue.len() >= self.shared.capacity {
            return Err(SendError(item));
        }
        self.push(st, item)
    }

    /// Sends a response if there is room now.
    ///
    /// # Errors
    /// [`SendError`] once the RPC has ended or when the channel is full.
    pub fn try_send(&self, item: Result<T, RpcError>) -> Result<(), SendError<T>> {
        let st = self.shared.lock();
        if st.queue.len() >= self.shared.capacity {
            return Err(SendError(item));
        }
        self.push(st, item)
    }

    fn push(&self, mut st: MutexGuard<'_, State<T>>, item: Result<T, RpcError>) -> Result<(), SendError<T>> {
        if st.receiver_gone {
            return Err(SendError(item));
        }
        st.queue.push_back(item);
        let waker = st.waker.take();
        let blocked_reader = st.item_waiters > 0;
        drop(st);
        if blocked_reader {
            self.shared.item.notify_one();
        }
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Whether the RPC has ended (nothing sent from now on is read).
    pub fn is_closed(&self) -> bool {
        self.shared.lock().receiver_gone
    }
}

/// The receiving side, inside a `ResponseIterator`.
pub(crate) struct ResponseReceiver<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Drop for ResponseReceiver<T> {
    fn drop(&mut self) {
        self.shared.lock().receiver_gone = true;
        self.shared.room.notify_all();
    }
}

impl<T> ResponseReceiver<T> {
    /// The next response, without blocking: `Ready(None)` once every sender is gone and the
    /// queue is empty.
    pub(crate) fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Option<Result<T, RpcError>>> {
        let mut st = self.shared.lock();
        if let Some(item) = st.queue.pop_front() {
            let blocked_sender = st.room_waiters > 0;
            drop(st);
            if blocked_sender {
                self.shared.room.notify_one();
            }
            return Poll::Ready(Some(item));
        }
        if st.senders == 0 {
            return Poll::Ready(None);
        }
        st.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// The next response, blocking this thread until one comes or every sender is gone.
    pub(crate) fn recv(&self) -> Option<Result<T, RpcError>> {
        let mut st = self.shared.lock();
        loop {
            if let Some(item) = st.queue.pop_front() {
                let blocked_sender = st.room_waiters > 0;
                drop(st);
                if blocked_sender {
                    self.shared.room.notify_one();
                }
                return Some(item);
            }
            if st.senders == 0 {
                return None;
            }
            st.item_waiters += 1;
            st = self.shared.item.wait(st).unwrap_or_else(|p| p.into_inner());
            st.item_waiters -= 1;
        }
    }
}

/// A new channel holding at most `capacity` responses (at least one).
pub(crate) fn channel<T>(capacity: usize) -> (ResponseSender<T>, ResponseReceiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            senders: 1,
            receiver_gone: false,
            waker: None,
            room_waiters: 0,
            item_waiters: 0,
        }),
        room: Condvar::new(),
        item: Condvar::new(),
        capacity: capacity.max(1),
    });
    (ResponseSender { shared: shared.clone() }, ResponseReceiver { shared })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_arrive_in_order_and_the_end_follows_the_last_sender() {
        let (tx, rx) = channel::<u32>(2);
        let tx2 = tx.clone();
        let producer = std::thread::spawn(move || {
            for i in 0..10 {
                tx.send(Ok(i)).unwrap();
            }
        });
        let mut got = Vec::new();
        for _ in 0..10 {
            got.push(rx.recv().unwrap().unwrap());
        }
        producer.join().unwrap();
        assert_eq!(got, (0..10).collect::<Vec<_>>());
        assert!(tx2.try_send(Ok(99)).is_ok());
        drop(tx2);
        assert_eq!(rx.recv().unwrap().unwrap(), 99);
        assert!(rx.recv().is_none());
    }

    #[test]
    fn a_full_channel_blocks_until_read_and_a_gone_receiver_hands_the_item_back() {
        let (tx, rx) = channel::<u32>(1);
        tx.send(Ok(1)).unwrap();
        assert!(matches!(tx.try_send(Ok(2)), Err(SendError(Ok(2)))));
        assert!(matches!(tx.send_timeout(Ok(2), Duration::from_millis(10)), Err(SendError(Ok(2)))));
        drop(rx);
        assert!(tx.is_closed());
        assert!(matches!(tx.send(Ok(3)), Err(SendError(Ok(3)))));
    }
}
