//! Coalescing a server connection's writes across the RPCs answered in the same tick.
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
//! Only the server does this. Measured with 64 unary calls in flight between rpc-aio's
//! client and server (each on its own core), coalescing on one side made the run 10-15%
//! faster, and on both sides 15-30% slower than on neither: the two sides then pass the
//! calls back and forth in whole batches, each idle while the other works, instead of
//! overlapping.
//!
//! The IO tells the rounds apart by itself, and cannot hold anything twice: a held write
//! wakes the task, and the next write it is asked for (h2 retries in its next poll) goes
//! through, as do all writes after it until a read finds nothing more to read (which h2
//! does once per poll, before it writes); the first write after that starts a new round.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Where a connection is in its round of writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Round {
    /// The next write (while busy) is held.
    Open,
    /// A write was held and the task woken: the next one goes through.
    Held,
    /// Writes go through until a read finds nothing more.
    Through,
}

/// A connection's IO whose writes are held back once per round while `busy` says so.
pub(crate) struct Coalesced<IO, B> {
    io: IO,
    round: Round,
    busy: B,
}

impl<IO, B: Fn() -> bool> Coalesced<IO, B> {
    pub(crate) fn new(io: IO, busy: B) -> Coalesced<IO, B> {
        Coalesced {
            io,
            round: Round::Open,
            busy,
        }
    }

    /// Whether this write is to wait for the next poll (and the task is woken for it).
    fn hold(&mut self, cx: &mut Context<'_>) -> bool {
        match self.round {
            Round::Open if (self.busy)() => {
                self.round = Round::Held;
                cx.waker().wake_by_ref();
                true
            }
            Round::Open => false,
            Round::Held | Round::Through => {
                self.round = Round::Through;
                false
            }
        }
    }
}

impl<IO: AsyncRead + Unpin, B: Unpin> AsyncRead for Coalesced<IO, B> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if polled.is_pending() && self.round == Round::Through {
            self.round = Round::Open;
        }
        polled
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
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// Counts the wake-ups of the task.
    struct CountWakes(AtomicUsize);

    impl std::task::Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// An IO that reads nothing yet (always `Pending`) and keeps what is written.
    #[derive(Default)]
    struct Sink(Vec<u8>);

    impl AsyncRead for Sink {
        fn poll_read(self: Pin<&mut Self>, _: &mut Context<'_>, _: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
            Poll::Pending
        }
    }

    impl AsyncWrite for Sink {
        fn poll_write(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
            self.0.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    type Io = Coalesced<Sink, Box<dyn Fn() -> bool + Unpin>>;

    fn write(io: &mut Io, cx: &mut Context<'_>, bytes: &[u8]) -> Poll<usize> {
        Pin::new(io).poll_write(cx, bytes).map(|r| r.unwrap())
    }

    fn read_nothing(io: &mut Io, cx: &mut Context<'_>) {
        let mut space = [0u8; 8];
        assert!(Pin::new(io).poll_read(cx, &mut ReadBuf::new(&mut space)).is_pending());
    }

    #[test]
    fn while_busy_the_first_write_of_a_round_waits_for_the_next_poll_and_the_rest_go_through() {
        let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
        let waker = std::task::Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        let busy = Arc::new(AtomicBool::new(true));
        let flag = busy.clone();
        let mut io: Io = Coalesced::new(Sink::default(), Box::new(move || flag.load(Ordering::Relaxed)));

        // A poll: reads until nothing is left, then writes.
        read_nothing(&mut io, &mut cx);
        assert!(write(&mut io, &mut cx, b"a").is_pending(), "held back while busy");
        assert_eq!(wakes.0.load(Ordering::Relaxed), 1, "the task is woken to write it");
        assert!(io.io.0.is_empty());

        // The next poll: the read finds nothing, and the write goes through, as often as
        // it is asked for.
        read_nothing(&mut io, &mut cx);
        assert_eq!(write(&mut io, &mut cx, b"ab"), Poll::Ready(2));
        assert_eq!(write(&mut io, &mut cx, b"c"), Poll::Ready(1));
        assert_eq!(io.io.0, b"abc");

        // A new round holds again.
        read_nothing(&mut io, &mut cx);
        assert!(write(&mut io, &mut cx, b"d").is_pending());
        // Even without a read in between, the retry is never held twice.
        assert_eq!(write(&mut io, &mut cx, b"d"), Poll::Ready(1));
        assert_eq!(wakes.0.load(Ordering::Relaxed), 2);

        // One stream open: written at once.
        busy.store(false, Ordering::Relaxed);
        read_nothing(&mut io, &mut cx);
        assert_eq!(write(&mut io, &mut cx, b"e"), Poll::Ready(1));
        assert_eq!(wakes.0.load(Ordering::Relaxed), 2);
        assert_eq!(io.io.0, b"abcde");
    }
}
