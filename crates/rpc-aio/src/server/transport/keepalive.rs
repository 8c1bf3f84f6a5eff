//! Keepalive enforcement: hyper's HTTP/2 server answers every PING, so the server watches
//! the frames a client sends (after TLS, before hyper) and counts pings that come sooner
//! than `keepalive_min_time` after the previous one. Past [`MAX_PING_STRIKES`] such pings
//! the connection is told to go away (GOAWAY, then closed), as gRPC servers do with
//! `too_many_pings`. The same watch tells when the client's HTTP/2 handshake (its preface
//! and first frame) has arrived, which bounds how long a silent connection is kept.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// Pings too soon that are forgiven (gRPC's default); the next one ends the connection.
pub(crate) const MAX_PING_STRIKES: u32 = 2;

/// The client connection preface that starts every HTTP/2 connection.
const PREFACE_LEN: usize = 24;
const FRAME_HEADER_LEN: usize = 9;
const PING: u8 = 0x6;
const ACK: u8 = 0x1;

/// Follows the client's HTTP/2 frames across reads and judges its pings.
#[derive(Debug)]
pub(crate) struct PingPolicy {
    min_interval: Duration,
    preface_left: usize,
    header: [u8; FRAME_HEADER_LEN],
    header_len: usize,
    payload_left: usize,
    last_ping: Option<Instant>,
    strikes: u32,
    /// Whether a whole frame header followed the preface (the client's SETTINGS).
    framed: bool,
}

impl PingPolicy {
    pub(crate) fn new(min_interval: Duration) -> PingPolicy {
        PingPolicy {
            min_interval,
            preface_left: PREFACE_LEN,
            header: [0; FRAME_HEADER_LEN],
            header_len: 0,
            payload_left: 0,
            last_ping: None,
            strikes: 0,
            framed: false,
        }
    }

    /// Whether the client's preface and the header of its first frame have arrived.
    pub(crate) fn handshaken(&self) -> bool {
        self.framed
    }

    /// Reads the next bytes from the client; returns true once the client has pinged too often.
    pub(crate) fn feed(&mut self, mut bytes: &[u8], now: Instant) -> bool {
        let mut too_many = false;
        while !bytes.is_empty() {
            if self.preface_left > 0 {
                let skip = self.preface_left.min(bytes.len());
                self.preface_left -= skip;
                bytes = &bytes[skip..];
            } else if self.payload_left > 0 {
                let skip = self.payload_left.min(bytes.len());
                self.payload_left -= skip;
                bytes = &bytes[skip..];
            } else {
                let take = (FRAME_HEADER_LEN - self.header_len).min(bytes.len());
                self.header[self.header_len..self.header_len + take].copy_from_slice(&bytes[..take]);
                self.header_len += take;
                bytes = &bytes[take..];
                if self.header_len == FRAME_HEADER_LEN {
                    self.header_len = 0;
                    self.framed = true;
                    self.payload_left = usize::from(self.header[0]) << 16 | usize::from(self.header[1]) << 8 | usize::from(self.header[2]);
                    if self.header[3] == PING && self.header[4] & ACK == 0 {
                        too_many |= self.ping(now);
                    }
                }
            }
        }
        too_many
    }

    fn ping(&mut self, now: Instant) -> bool {
        let too_soon = self
            .last_ping
            .is_some_and(|last| now.saturating_duration_since(last) < self.min_interval);
        self.last_ping = Some(now);
        if too_soon {
            self.strikes += 1;
        } else {
            self.strikes = 0;
        }
        self.strikes > MAX_PING_STRIKES
    }
}

/// The connection's IO with the client's pings watched; `too_many_pings` is notified once
/// the client has pinged too often, `handshaken` once its HTTP/2 handshake has arrived.
pub(crate) struct WatchedIo<IO> {
    inner: IO,
    policy: PingPolicy,
    tripped: bool,
    announced: bool,
    pub(crate) too_many_pings: Arc<Notify>,
    pub(crate) handshaken: Arc<Notify>,
}

impl<IO> WatchedIo<IO> {
    pub(crate) fn new(inner: IO, min_interval: Duration) -> WatchedIo<IO> {
        WatchedIo {
            inner,
            policy: PingPolicy::new(min_interval),
            tripped: false,
            announced: false,
            too_many_pings: Arc::new(Notify::new()),
            handshaken: Arc::new(Notify::new()),
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for WatchedIo<IO> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if polled.is_ready() && !this.tripped && this.policy.feed(&buf.filled()[before..], Instant::now()) {
            this.tripped = true;
            this.too_many_pings.notify_one();
        }
        if !this.announced && this.policy.handshaken() {
            this.announced = true;
            this.handshaken.notify_one();
        }
        polled
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for WatchedIo<IO> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, flags: u8, payload: usize) -> Vec<u8> {
        let mut f = vec![(payload >> 16) as u8, (payload >> 8) as u8, payload as u8, kind, flags, 0, 0, 0, 0];
        f.extend(std::iter::repeat_n(0u8, payload));
        f
    }

    #[test]
    fn pings_too_soon_trip_after_the_strikes_and_acks_and_other_frames_do_not_count() {
        let t0 = Instant::now();
        let mut wire = vec![b'P'; PREFACE_LEN];
        wire.extend(frame(0x4, 0, 12)); // SETTINGS
        wire.extend(frame(PING, ACK, 8)); // an ACK of the server's ping
        let mut p = PingPolicy::new(Duration::from_secs(300));
        assert!(!p.feed(&wire[..PREFACE_LEN + 8], t0));
        assert!(!p.handshaken(), "the first frame header is one byte short");
        assert!(!p.feed(&wire[PREFACE_LEN + 8..], t0));
        assert!(p.handshaken());
        // Well spaced pings are fine, split at any byte.
        for i in 0..4u64 {
            let ping = frame(PING, 0, 8);
            let (a, b) = ping.split_at(3);
            let at = t0 + Duration::from_secs(400 * i);
            assert!(!p.feed(a, at) && !p.feed(b, at), "ping {i}");
        }
        // Then pings a second apart: the first is on time, the next two are forgiven
        // strikes, the one after trips.
        let start = t0 + Duration::from_secs(2000);
        let verdicts: Vec<bool> = (1..=4u64)
            .map(|i| p.feed(&frame(PING, 0, 8), start + Duration::from_secs(i)))
            .collect();
        assert_eq!(verdicts, [false, false, false, true]);
    }
}
