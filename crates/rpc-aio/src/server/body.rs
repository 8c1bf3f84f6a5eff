//! The request body of an RPC as the server reads it: hyper's body with the gRPC
//! length prefixes watched on the fly, so a message over the receive limit fails with
//! RESOURCE_EXHAUSTED naming both sizes before any of it is buffered.

use bytes::{Buf, Bytes};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Follows the gRPC framing (a flag byte and a four-byte big-endian length before each
/// message) across arbitrary chunk boundaries.
#[derive(Debug, Default, Clone)]
pub(crate) struct FrameScanner {
    header: [u8; 5],
    header_len: usize,
    remaining: u64,
}

impl FrameScanner {
    /// Feeds the next chunk; returns the length of the first message whose prefix
    /// announces more than `limit` bytes.
    pub(crate) fn feed(&mut self, mut chunk: &[u8], limit: usize) -> Result<(), u64> {
        while !chunk.is_empty() {
            if self.remaining > 0 {
                let skip = chunk.len().min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
                chunk = &chunk[skip..];
                self.remaining -= skip as u64;
                continue;
            }
            let take = (5 - self.header_len).min(chunk.len());
            self.header[self.header_len..self.header_len + take].copy_from_slice(&chunk[..take]);
            self.header_len += take;
            chunk = &chunk[take..];
            if self.header_len == 5 {
                self.header_len = 0;
                let len = u64::from(u32::from_be_bytes([self.header[1], self.header[2], self.header[3], self.header[4]]));
                if len > limit as u64 {
                    return Err(len);
                }
                self.remaining = len;
            }
        }
        Ok(())
    }
}

/// hyper's request body, failing with RESOURCE_EXHAUSTED on an oversized message.
pub(crate) struct LimitedBody {
    inner: Incoming,
    limit: usize,
    scanner: FrameScanner,
    failed: bool,
}

impl LimitedBody {
    pub(crate) fn new(inner: Incoming, limit: usize) -> LimitedBody {
        LimitedBody {
            inner,
            limit,
            scanner: FrameScanner::default(),
            failed: false,
        }
    }
}

/// The status for a received message over the limit.
pub(crate) fn too_large(len: u64, limit: usize) -> tonic::Status {
    tonic::Status::resource_exhausted(format!("received message larger than max ({len} vs. {limit} bytes)"))
}

impl Body for LimitedBody {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, tonic::Status>>> {
        if self.failed {
            return Poll::Ready(None);
        }
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref()
                    && let Err(len) = this.scanner.feed(data.chunk(), this.limit)
                {
                    this.failed = true;
                    return Poll::Ready(Some(Err(too_large(len, this.limit))));
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.failed = true;
                Poll::Ready(Some(Err(tonic::Status::from_error(Box::new(e)))))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.failed || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::FrameScanner;

    fn frame(len: u32) -> Vec<u8> {
        let mut f = vec![0];
        f.extend_from_slice(&len.to_be_bytes());
        f.extend(std::iter::repeat_n(7u8, len as usize));
        f
    }

    #[test]
    fn follows_frames_across_any_split_and_flags_the_oversized_one() {
        let mut wire = frame(3);
        wire.extend(frame(0));
        wire.extend(frame(10));
        for split in 0..wire.len() {
            let mut s = FrameScanner::default();
            let (a, b) = wire.split_at(split);
            assert_eq!(s.feed(a, 10).and_then(|_| s.feed(b, 10)), Ok(()), "split at {split}");
            let mut s = FrameScanner::default();
            assert_eq!(s.feed(a, 9).and_then(|_| s.feed(b, 9)), Err(10), "split at {split}");
        }
        let mut s = FrameScanner::default();
        assert_eq!(s.feed(&[0, 0xff, 0xff, 0xff, 0xff], 4 << 20), Err(u64::from(u32::MAX)));
    }
}
