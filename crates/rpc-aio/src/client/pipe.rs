//! Sending a streamed request body: a task per stream ([`spawn`]) takes the body's DATA
//! frames as the stream's send window opens and hands them to h2. A unary request needs
//! none: its one frame is sent from the call's future.
//!
//! The call stops the task when it ends (the [`Signal`] [`spawn`] returns); a stream still open is then reset
//! (CANCEL), also while its send window is full and the body is not being polled. A body
//! that fails (the call object went away, a request could not be encoded) resets the
//! stream with CANCEL, so the server sees a cancelled RPC rather than a complete one. A
//! reset from the server ends the task.

use super::signal::Signal;
use bytes::Bytes;
use http_body::Body;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Sends `body` on `send` from a task of its own on `runtime` (the channel's); raising the
/// signal stops it (its stream is reset if still open).
pub(crate) fn spawn<B>(runtime: &tokio::runtime::Handle, body: B, send: h2::SendStream<Bytes>) -> Arc<Signal>
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: std::fmt::Display,
{
    let stop = Arc::new(Signal::default());
    runtime.spawn(Pipe {
        body,
        send,
        waiting: None,
        stop: stop.clone(),
    });
    stop
}

struct Pipe<B> {
    body: B,
    send: h2::SendStream<Bytes>,
    /// A frame taken from the body that waits for send window, and whether it ends the
    /// stream.
    waiting: Option<(Bytes, bool)>,
    stop: Arc<Signal>,
}

impl<B> Future for Pipe<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if this.stop.watch(cx) {
            this.send.send_reset(h2::Reason::CANCEL);
            return Poll::Ready(());
        }
        loop {
            // Registered while the task waits for the body or for window: a reset from the
            // server wakes it.
            if this.send.poll_reset(cx).is_ready() {
                return Poll::Ready(());
            }
            if let Some((data, end)) = this.waiting.take() {
                while this.send.capacity() == 0 {
                    match this.send.poll_capacity(cx) {
                        Poll::Pending => {
                            this.waiting = Some((data, end));
                            return Poll::Pending;
                        }
                        Poll::Ready(Some(Ok(0))) => {}
                        Poll::Ready(Some(Ok(_))) => break,
                        Poll::Ready(Some(Err(_)) | None) => return Poll::Ready(()),
                    }
                }
                if this.send.send_data(data, end).is_err() || end {
                    return Poll::Ready(());
                }
                continue;
            }
            match Pin::new(&mut this.body).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(frame))) => {
                    let Ok(data) = frame.into_data() else { continue };
                    let end = this.body.is_end_stream();
                    if data.is_empty() {
                        if this.send.send_data(data, end).is_err() || end {
                            return Poll::Ready(());
                        }
                        continue;
                    }
                    // A claim on the window, not the whole frame: h2 raises it to what is
                    // buffered, and a stream that waits does not pin the connection's window.
                    this.send.reserve_capacity(1);
                    this.waiting = Some((data, end));
                }
                Poll::Ready(Some(Err(e))) => {
                    tracing::debug!("request stream failed: {e}");
                    this.send.send_reset(h2::Reason::CANCEL);
                    return Poll::Ready(());
                }
                Poll::Ready(None) => {
                    let _ = this.send.send_data(Bytes::new(), true);
                    return Poll::Ready(());
                }
            }
        }
    }
}
