//! Counting the message bytes of a stream for an observer (gRFC A66's "compressed message
//! size": the message bytes as on the wire, without the five-byte frame prefixes): a
//! parser that follows the frames through chunks split anywhere ([`PayloadCount`]), and a
//! body that counts what it yields ([`Counted`]). Used only for observed calls.

use super::frame::PREFIX_LEN;
use bytes::Bytes;
use http_body::{Body, Frame};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

/// Follows the frames of one direction of a stream and adds their message bytes to a
/// shared total.
#[derive(Debug)]
pub(crate) struct PayloadCount {
    total: Arc<AtomicU64>,
    /// Prefix bytes of the next frame still to read (`PREFIX_LEN` between frames).
    prefix_left: usize,
    /// The length being read from the prefix.
    len: u64,
    /// Message bytes of the current frame still to come.
    body_left: u64,
}

impl PayloadCount {
    pub(crate) fn new(total: Arc<AtomicU64>) -> PayloadCount {
        PayloadCount {
            total,
            prefix_left: PREFIX_LEN,
            len: 0,
            body_left: 0,
        }
    }

    /// Reads a chunk of the stream.
    pub(crate) fn feed(&mut self, mut data: &[u8]) {
        let mut counted = 0u64;
        while !data.is_empty() {
            if self.body_left > 0 {
                let n = self.body_left.min(data.len() as u64);
                counted += n;
                self.body_left -= n;
                data = &data[n as usize..];
                continue;
            }
            // The first prefix byte is the compressed flag, the next four the length.
            if self.prefix_left < PREFIX_LEN {
                self.len = (self.len << 8) | u64::from(data[0]);
            }
            data = &data[1..];
            self.prefix_left -= 1;
            if self.prefix_left == 0 {
                self.body_left = self.len;
                self.len = 0;
                self.prefix_left = PREFIX_LEN;
            }
        }
        if counted > 0 {
            self.total.fetch_add(counted, Ordering::Relaxed);
        }
    }
}

/// Two totals: message bytes sent and received.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    pub(crate) sent: Arc<AtomicU64>,
    pub(crate) received: Arc<AtomicU64>,
}

impl Totals {
    /// (sent, received) so far.
    pub(crate) fn get(&self) -> (u64, u64) {
        (self.sent.load(Ordering::Relaxed), self.received.load(Ordering::Relaxed))
    }
}

pin_project_lite::pin_project! {
    /// A body whose DATA frames are counted as they go out.
    pub(crate) struct Counted<B> {
        #[pin]
        inner: B,
        count: PayloadCount,
    }
}

impl<B> Counted<B> {
    pub(crate) fn new(inner: B, total: Arc<AtomicU64>) -> Counted<B> {
        Counted {
            inner,
            count: PayloadCount::new(total),
        }
    }
}

impl<B: Body<Data = Bytes>> Body for Counted<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            this.count.feed(data);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(len: usize) -> Vec<u8> {
        let mut f = vec![1u8];
        f.extend_from_slice(&(len as u32).to_be_bytes());
        f.extend(std::iter::repeat_n(7u8, len));
        f
    }

    #[test]
    fn counts_message_bytes_without_prefixes_however_the_chunks_split() {
        let mut stream = frame(3);
        stream.extend(frame(0));
        stream.extend(frame(300));
        for split in [1, 2, 4, 5, 6, 64, 1000] {
            let total = Arc::new(AtomicU64::new(0));
            let mut count = PayloadCount::new(total.clone());
            for chunk in stream.chunks(split) {
                count.feed(chunk);
            }
            assert_eq!(total.load(Ordering::Relaxed), 303, "chunks of {split}");
        }
    }
}
