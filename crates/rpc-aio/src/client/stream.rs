//! Opening the HTTP/2 streams of calls on one connection ([`Sender`]), through h2's client
//! directly: the call's own future sends the request headers and, for a unary request, its
//! one DATA frame, and then reads the response in place. No task, channel or oneshot of
//! a connection layer stands between a call and its stream.

use super::signal::Signal;
use crate::unpark::Batch;
use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::Context;

/// Opens streams on one connection; clones share it.
#[derive(Clone)]
pub(crate) struct Sender {
    h2: h2::client::SendRequest<Bytes>,
    state: Arc<ConnState>,
}

/// A stream just opened: its response to come, its send half, and the count of calls on
/// the connection it holds a place in (for keepalive) until dropped.
pub(crate) struct Opened {
    pub(crate) response: h2::client::ResponseFuture,
    pub(crate) send: h2::SendStream<Bytes>,
    pub(crate) guard: StreamGuard,
}

impl Sender {
    pub(crate) fn new(h2: h2::client::SendRequest<Bytes>, state: Arc<ConnState>) -> Sender {
        Sender { h2, state }
    }

    /// Whether the connection has ended: no stream can be opened on it.
    pub(crate) fn is_closed(&self) -> bool {
        self.state.is_ended()
    }

    /// Opens a stream and sends `request`'s headers, with `last`, the request's one DATA
    /// frame, if it has no more (else the body follows on `send`). Waits only while the
    /// server's limit of concurrent streams is reached. The connection's task is woken
    /// once for both frames, so they go out together.
    ///
    /// # Errors
    /// h2's error when the connection cannot take a new stream (it ended, failed, or the
    /// server sent GOAWAY): then nothing of the request left, and it may go elsewhere.
    pub(crate) async fn open(&mut self, request: http::Request<()>, last: Option<&Bytes>) -> Result<Opened, h2::Error> {
        std::future::poll_fn(|cx| self.h2.poll_ready(cx)).await?;
        let _one_wake = Batch::start();
        let (response, mut send) = self.h2.send_request(request, false)?;
        if let Some(frame) = last {
            send_last(&mut send, frame.clone());
        }
        Ok(Opened {
            response,
            send,
            guard: StreamGuard::new(self.state.clone()),
        })
    }
}

/// Sends a request's last (for a unary request, its only) DATA frame and ends the stream.
/// h2 queues it beyond the send window and writes it as the window opens. A stream the
/// server has closed already (a trailers-only answer to the headers alone, such as
/// UNIMPLEMENTED, can beat the frame) refuses it: that is no error, the response says
/// what happened.
fn send_last(send: &mut h2::SendStream<Bytes>, frame: Bytes) {
    if let Err(e) = send.send_data(frame, true) {
        tracing::debug!("the request frame was not sent: {e}");
    }
}

/// Holds a call's place in its connection's count of calls (see [`ConnState::streams`]).
pub(crate) struct StreamGuard(Arc<ConnState>);

impl StreamGuard {
    fn new(state: Arc<ConnState>) -> StreamGuard {
        state.stream_opened();
        StreamGuard(state)
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.stream_ended();
    }
}

/// What a connection's task, its socket and its senders share: the kill switch, whether
/// it takes new calls, whether its subchannel let go of it, how many calls have a stream
/// on it and how many reads it has seen (for keepalive).
#[derive(Debug, Default)]
pub(crate) struct ConnState {
    /// Watched by the socket's reader.
    killed: Signal,
    /// Watched by the connection's task.
    released: Signal,
    ended: AtomicBool,
    streams: AtomicUsize,
    reads: AtomicU64,
}

impl ConnState {
    /// Cuts the socket: reads and writes fail from then on, so the HTTP/2 connection
    /// fails and every stream on it with it.
    pub(crate) fn kill(&self) {
        self.killed.raise();
    }

    pub(crate) fn is_killed(&self) -> bool {
        self.killed.is_raised()
    }

    /// [`is_killed`](Self::is_killed), and the reader of `cx` woken by a kill.
    pub(crate) fn watch_killed(&self, cx: &Context<'_>) -> bool {
        self.killed.watch(cx)
    }

    /// Whether the connection takes no new streams (it ended, or the server said GOAWAY).
    pub(crate) fn is_ended(&self) -> bool {
        self.ended.load(Ordering::Acquire)
    }

    pub(crate) fn set_ended(&self) {
        self.ended.store(true, Ordering::Release);
    }

    /// The subchannel let go of the connection: it closes once its calls are done.
    pub(crate) fn release(&self) {
        self.released.raise();
    }

    /// Whether the subchannel let go; the connection's task (`cx`) is woken when it does.
    pub(crate) fn watch_released(&self, cx: &Context<'_>) -> bool {
        self.released.watch(cx)
    }

    /// The socket read some bytes.
    pub(crate) fn note_read(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
    }

    /// A call opened a stream; [`stream_ended`](Self::stream_ended) when it is done.
    pub(crate) fn stream_opened(&self) {
        self.streams.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stream_ended(&self) {
        self.streams.fetch_sub(1, Ordering::Relaxed);
    }

    /// How many calls have a stream open.
    pub(crate) fn streams(&self) -> usize {
        self.streams.load(Ordering::Relaxed)
    }

    /// How many reads from the socket returned bytes so far.
    pub(crate) fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }
}
