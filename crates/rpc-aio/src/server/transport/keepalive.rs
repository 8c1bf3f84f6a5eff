//! Keepalive enforcement: hyper's HTTP/2 server answers every PING, so the server watches
//! the frames a client sends (after TLS, before hyper) and counts pings that come sooner
//! than `keepalive_min_time` after the previous one. Past [`MAX_PING_STRIKES`] such pings
//! the connection is told to go away, as gRPC servers do: GOAWAY with ENHANCE_YOUR_CALM and
//! the debug data `too_many_pings` (which gRPC clients read as "ping less"), then closed.
//! hyper cannot send that GOAWAY itself, so the watch writes it between two of hyper's
//! frames (it follows the server's frames too, to know where one ends). The same watch tells when the client's HTTP/2 handshake (its preface
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
const HEADERS: u8 = 0x1;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const ACK: u8 = 0x1;
const ENHANCE_YOUR_CALM: u32 = 0xb;
const TOO_MANY_PINGS: &[u8] = b"too_many_pings";

/// Follows a stream of HTTP/2 frames (after any preface) across reads or writes.
#[derive(Debug, Default)]
struct Frames {
    header: [u8; FRAME_HEADER_LEN],
    header_len: usize,
    payload_left: usize,
}

impl Frames {
    /// Consumes `bytes`, calling `on_header` with each complete frame header.
    fn feed(&mut self, mut bytes: &[u8], mut on_header: impl FnMut(&[u8; FRAME_HEADER_LEN])) {
        while !bytes.is_empty() {
            if self.payload_left > 0 {
                let skip = self.payload_left.min(bytes.len());
                self.payload_left -= skip;
                bytes = &bytes[skip..];
                continue;
            }
            let take = (FRAME_HEADER_LEN - self.header_len).min(bytes.len());
            self.header[self.header_len..self.header_len + take].copy_from_slice(&bytes[..take]);
            self.header_len += take;
            bytes = &bytes[take..];
            if self.header_len == FRAME_HEADER_LEN {
                self.header_len = 0;
                self.payload_left = usize::from(self.header[0]) << 16 | usize::from(self.header[1]) << 8 | usize::from(self.header[2]);
                on_header(&self.header);
            }
        }
    }

    /// Whether the bytes so far end on a frame boundary.
    fn at_boundary(&self) -> bool {
        self.header_len == 0 && self.payload_left == 0
    }

    /// How many bytes may follow before the next frame boundary is passed (what is known
    /// of it: the rest of a header first).
    fn until_boundary(&self) -> usize {
        if self.header_len > 0 {
            FRAME_HEADER_LEN - self.header_len
        } else if self.payload_left > 0 {
            self.payload_left
        } else {
            usize::MAX
        }
    }
}

/// The GOAWAY a client that pinged too often gets: ENHANCE_YOUR_CALM, `too_many_pings`,
/// naming the last stream the client opened as the last one processed.
fn too_many_pings_goaway(last_stream_id: u32) -> Vec<u8> {
    let len = 8 + TOO_MANY_PINGS.len();
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, GOAWAY, 0, 0, 0, 0, 0];
    f.extend_from_slice(&(last_stream_id & 0x7fff_ffff).to_be_bytes());
    f.extend_from_slice(&ENHANCE_YOUR_CALM.to_be_bytes());
    f.extend_from_slice(TOO_MANY_PINGS);
    f
}

/// Follows the client's HTTP/2 frames across reads and judges its pings.
#[derive(Debug)]
pub(crate) struct PingPolicy {
    min_interval: Duration,
    preface_left: usize,
    frames: Frames,
    last_ping: Option<Instant>,
    strikes: u32,
    /// Whether a whole frame header followed the preface (the client's SETTINGS).
    framed: bool,
    /// The highest stream the client has opened.
    last_stream_id: u32,
}

impl PingPolicy {
    pub(crate) fn new(min_interval: Duration) -> PingPolicy {
        PingPolicy {
            min_interval,
            preface_left: PREFACE_LEN,
            frames: Frames::default(),
            last_ping: None,
            strikes: 0,
            framed: false,
            last_stream_id: 0,
        }
    }

    /// Whether the client's preface and the header of its first frame have arrived.
    pub(crate) fn handshaken(&self) -> bool {
        self.framed
    }

    /// Reads the next bytes from the client; returns true once the client has pinged too often.
    pub(crate) fn feed(&mut self, mut bytes: &[u8], now: Instant) -> bool {
        let skip = self.preface_left.min(bytes.len());
        self.preface_left -= skip;
        bytes = &bytes[skip..];
        let mut too_many = false;
        let mut frames = std::mem::take(&mut self.frames);
        frames.feed(bytes, |header| {
            self.framed = true;
            let stream = u32::from_be_bytes([header[5], header[6], header[7], header[8]]) & 0x7fff_ffff;
            if header[3] == HEADERS {
                self.last_stream_id = self.last_stream_id.max(stream);
            }
            if header[3] == PING && header[4] & ACK == 0 {
                too_many |= self.ping(now);
            }
        });
        self.frames = frames;
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
/// the client has pinged too often (its GOAWAY is then written at the next frame boundary
/// of what the server sends), `handshaken` once its HTTP/2 handshake has arrived.
pub(crate) struct WatchedIo<IO> {
    inner: IO,
    policy: PingPolicy,
    tripped: bool,
    announced: bool,
    /// The server's frames, to write the GOAWAY between two of them.
    sent: Frames,
    /// The GOAWAY still to write, and how much of it is written.
    goaway: Option<(Vec<u8>, usize)>,
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
            sent: Frames::default(),
            goaway: None,
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
            // hyper writes next (at least the ack of that ping): the GOAWAY goes first.
            this.goaway = Some((too_many_pings_goaway(this.policy.last_stream_id), 0));
            this.too_many_pings.notify_one();
        }
        if !this.announced && this.policy.handshaken() {
            this.announced = true;
            this.handshaken.notify_one();
        }
        polled
    }
}

impl<IO: AsyncWrite + Unpin> WatchedIo<IO> {
    /// Writes the pending GOAWAY if the server's frames are at a boundary.
    fn poll_goaway(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.sent.at_boundary() {
            return Poll::Ready(Ok(()));
        }
        while let Some((frame, written)) = self.goaway.as_mut() {
            match std::task::ready!(Pin::new(&mut self.inner).poll_write(cx, &frame[*written..])) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(n) => *written += n,
                Err(e) => return Poll::Ready(Err(e)),
            }
            if *written == frame.len() {
                self.goaway = None;
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for WatchedIo<IO> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        std::task::ready!(this.poll_goaway(cx))?;
        // With a GOAWAY waiting, stop at the end of the current frame so it can go next.
        let buf = if this.goaway.is_some() {
            &buf[..buf.len().min(this.sent.until_boundary())]
        } else {
            buf
        };
        let n = std::task::ready!(Pin::new(&mut this.inner).poll_write(cx, buf))?;
        this.sent.feed(&buf[..n], |_| {});
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        std::task::ready!(this.poll_goaway(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        if self.goaway.is_some() {
            // One slice at a time until the GOAWAY is out (see `poll_write`).
            let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| &b[..]);
            return self.poll_write(cx, first);
        }
        let this = &mut *self;
        let n = std::task::ready!(Pin::new(&mut this.inner).poll_write_vectored(cx, bufs))?;
        let mut left = n;
        for b in bufs {
            if left == 0 {
                break;
            }
            let take = left.min(b.len());
            this.sent.feed(&b[..take], |_| {});
            left -= take;
        }
        Poll::Ready(Ok(n))
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

    #[test]
    fn the_goaway_names_the_last_stream_the_client_opened() {
        let mut wire = vec![b'P'; PREFACE_LEN];
        wire.extend(frame(0x4, 0, 6));
        let mut headers = frame(HEADERS, 0x4, 3);
        headers[8] = 7; // stream 7
        wire.extend(headers);
        let mut p = PingPolicy::new(Duration::from_secs(1));
        p.feed(&wire, Instant::now());
        assert_eq!(p.last_stream_id, 7);
        let goaway = too_many_pings_goaway(p.last_stream_id);
        assert_eq!(&goaway[..9], &[0, 0, 22, GOAWAY, 0, 0, 0, 0, 0]);
        assert_eq!(&goaway[9..13], &7u32.to_be_bytes());
        assert_eq!(&goaway[13..17], &ENHANCE_YOUR_CALM.to_be_bytes());
        assert_eq!(&goaway[17..], TOO_MANY_PINGS);
    }

    #[test]
    fn the_server_frames_are_followed_to_their_boundaries() {
        let mut sent = Frames::default();
        assert!(sent.at_boundary());
        let data = frame(0x0, 0, 5);
        sent.feed(&data[..4], |_| {});
        assert_eq!(sent.until_boundary(), 5, "the rest of the header");
        sent.feed(&data[4..9], |_| {});
        assert_eq!(sent.until_boundary(), 5, "the payload");
        sent.feed(&data[9..], |_| {});
        assert!(sent.at_boundary());
    }
}
