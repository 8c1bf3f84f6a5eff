//! Coalescing a connection's writes across the RPCs that answer in the same tick.
//!
//! hyper runs each stream's handler in a task of its own, and each answer wakes the
//! connection task, which tokio runs next (its LIFO slot): the connection would write each
//! response with a system call of its own while the answers of the other RPCs read in the
//! same batch are still to run. So while more than one stream is open, the first write of
//! a round is held back once: the connection task yields (it wakes itself, which tokio
//! treats as a yield to the back of its queue), the other handlers run and queue their
//! frames in h2's buffer, and the next poll writes them all in one go. A connection with
//! one stream open (a ping-pong) writes at once.
//!
//! A round is one poll of the connection task ([`Rounds`] marks them): a write is held in
//! the poll that first tries one, and everything goes through in the next poll, which may
//! write many times (large messages); the poll after that starts a new round.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// No write held back in this round: the first one (while busy) is.
const OPEN: u8 = 0;
/// A write was held back in this poll; the task has woken itself.
const HELD: u8 = 1;
/// The poll after a held write: everything goes through.
const THROUGH: u8 = 2;

/// The round state one connection's IO and its task share.
#[derive(Debug, Default)]
pub(crate) struct Round(AtomicU8);

impl Round {
    /// Called at the start of each poll of the connection task.
    fn next_poll(&self) {
        let next = match self.0.load(Ordering::Relaxed) {
            HELD => THROUGH,
            _ => OPEN,
        };
        self.0.store(next, Ordering::Relaxed);
    }
}

/// Marks each poll of the connection future `F` as a new round for its IO.
pub(crate) struct Rounds<F> {
    inner: Pin<Box<F>>,
    round: Arc<Round>,
}

impl<F> Rounds<F> {
    pub(crate) fn new(inner: F, round: Arc<Round>) -> Rounds<F> {
        Rounds {
            inner: Box::pin(inner),
            round,
        }
    }

    /// The connection future (for calls such as a graceful shutdown).
    pub(crate) fn inner(&mut self) -> Pin<&mut F> {
        self.inner.as_mut()
    }
}

impl<F: Future> Future for Rounds<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.round.next_poll();
        self.inner.as_mut().poll(cx)
    }
}

/// A connection's IO whose writes are held back once per round while `busy` says so.
pub(crate) struct Coalesced<IO, B> {
    io: IO,
    round: Arc<Round>,
    busy: B,
}

impl<IO, B: Fn() -> bool> Coalesced<IO, B> {
    pub(crate) fn new(io: IO, round: Arc<Round>, busy: B) -> Coalesced<IO, B> {
        Coalesced { io, round, busy }
    }

    /// Whether this write is to wait for the next poll (and the task is woken for it).
    fn hold(&self, cx: &mut Context<'_>) -> bool {
        match self.round.0.load(Ordering::Relaxed) {
            OPEN if (self.busy)() => {
                self.round.0.store(HELD, Ordering::Relaxed);
                cx.waker().wake_by_ref();
                true
            }
            HELD => true,
            _ => false,
        }
    }
}

impl<IO: AsyncRead + Unpin, B: Unpin> AsyncRead for Coalesced<IO, B> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin, B: Fn() -> bool + Unpin> AsyncWrite for Coalesced<IO, B> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.hold(cx) {
            return Poll::Pending;
        }
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        if self.hold(cx) {
            return Poll::Pending;
        }
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize};

    /// Counts the wake-ups of the task.
    struct CountWakes(AtomicUsize);

    impl std::task::Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn write(io: &mut Coalesced<Vec<u8>, impl Fn() -> bool + Unpin>, cx: &mut Context<'_>, bytes: &[u8]) -> Poll<usize> {
        Pin::new(io).poll_write(cx, bytes).map(|r| r.unwrap())
    }

    #[test]
    fn while_busy_the_first_write_of_a_round_waits_for_the_next_poll_and_the_rest_go_through() {
        let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
        let waker = std::task::Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        let busy = Arc::new(AtomicBool::new(true));
        let round = Arc::new(Round::default());
        let flag = busy.clone();
        let mut io = Coalesced::new(Vec::new(), round.clone(), move || flag.load(Ordering::Relaxed));

        round.next_poll();
        assert!(write(&mut io, &mut cx, b"a").is_pending(), "held back while busy");
        assert_eq!(wakes.0.load(Ordering::Relaxed), 1, "the task is woken to write it");
        assert!(write(&mut io, &mut cx, b"a").is_pending(), "still held in the same poll");
        assert_eq!(wakes.0.load(Ordering::Relaxed), 1, "woken once");
        assert!(io.io.is_empty());

        round.next_poll();
        assert_eq!(write(&mut io, &mut cx, b"ab"), Poll::Ready(2), "the next poll writes");
        assert_eq!(write(&mut io, &mut cx, b"c"), Poll::Ready(1), "as often as it needs to");
        assert_eq!(io.io, b"abc");

        round.next_poll();
        assert!(write(&mut io, &mut cx, b"d").is_pending(), "a new round holds again");

        busy.store(false, Ordering::Relaxed);
        round.next_poll();
        round.next_poll();
        assert_eq!(write(&mut io, &mut cx, b"d"), Poll::Ready(1), "one stream open: written at once");
        assert_eq!(wakes.0.load(Ordering::Relaxed), 2);
        assert_eq!(io.io, b"abcd");
    }
}
