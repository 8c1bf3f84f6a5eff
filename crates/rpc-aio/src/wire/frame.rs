//! gRPC message frames: a one-byte compressed flag, a four-byte big-endian length, and the
//! message. [`FrameEncoder`] writes them (compressing each message unless told not to, and
//! refusing messages over the send limit); [`FrameDecoder`] reads them from a body's
//! chunks, split anywhere (refusing a message over the receive limit as soon as its length
//! is known, before any of it is buffered), and says of each whether it came compressed.

use super::compression::{self, DecompressError};
use bytes::{Buf, Bytes, BytesMut};
use rpc_core::codec::Encoder;
use rpc_core::{Compression, RpcError};

/// The length of a frame's prefix.
pub(crate) const PREFIX_LEN: usize = 5;

/// The status for a message over the send limit.
pub(crate) fn send_too_large(len: usize, max: usize) -> RpcError {
    RpcError::resource_exhausted(format!("trying to send a message larger than the maximum ({len} vs. {max} bytes)"))
}

/// The status for a received message over the receive limit.
pub(crate) fn received_too_large(len: u64, max: usize) -> RpcError {
    RpcError::resource_exhausted(format!("received message larger than max ({len} vs. {max} bytes)"))
}

/// Writes messages as frames.
#[derive(Debug)]
pub(crate) struct FrameEncoder {
    /// The algorithm of the stream's messages (`grpc-encoding`), if any.
    compression: Option<Compression>,
    max_len: Option<usize>,
    /// The plain encoding of a message that is then compressed.
    scratch: BytesMut,
}

impl FrameEncoder {
    pub(crate) fn new(compression: Option<Compression>, max_len: Option<usize>) -> FrameEncoder {
        FrameEncoder {
            compression,
            max_len,
            scratch: BytesMut::new(),
        }
    }

    /// Whether the stream's messages are compressed (so the `grpc-encoding` header is due).
    pub(crate) fn compression(&self) -> Option<Compression> {
        self.compression
    }

    /// Appends `message` as one frame to `out`, compressed unless `plain` (or the stream is
    /// not compressed).
    #[inline]
    pub(crate) fn encode<T, E: Encoder<T> + ?Sized>(
        &mut self,
        codec: &E,
        message: T,
        plain: bool,
        out: &mut BytesMut,
    ) -> Result<(), RpcError> {
        let start = out.len();
        out.extend_from_slice(&[0; PREFIX_LEN]);
        let compression = self.compression.filter(|_| !plain);
        let len = match compression {
            None => {
                codec.encode(message, out).inspect_err(|_| out.truncate(start))?;
                let len = out.len() - start - PREFIX_LEN;
                self.check_len(len).inspect_err(|_| out.truncate(start))?;
                len
            }
            Some(c) => {
                self.scratch.clear();
                codec.encode(message, &mut self.scratch).inspect_err(|_| out.truncate(start))?;
                self.check_len(self.scratch.len()).inspect_err(|_| out.truncate(start))?;
                compression::compress(c, &self.scratch, out).map_err(|e| {
                    out.truncate(start);
                    RpcError::internal(format!("failed to compress a message: {e}"))
                })?;
                out.len() - start - PREFIX_LEN
            }
        };
        let Ok(len32) = u32::try_from(len) else {
            out.truncate(start);
            return Err(RpcError::resource_exhausted(format!(
                "a message of {len} bytes does not fit a gRPC frame"
            )));
        };
        out[start] = u8::from(compression.is_some());
        out[start + 1..start + PREFIX_LEN].copy_from_slice(&len32.to_be_bytes());
        Ok(())
    }

    #[inline]
    fn check_len(&self, len: usize) -> Result<(), RpcError> {
        match self.max_len {
            Some(max) if len > max => Err(send_too_large(len, max)),
            _ => Ok(()),
        }
    }
}

/// The message length a frame's prefix announces (`head` holds at least the prefix).
#[inline]
fn frame_len(head: &[u8]) -> u32 {
    u32::from_be_bytes([head[1], head[2], head[3], head[4]])
}

/// One received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Received {
    /// The message bytes, decompressed.
    pub(crate) data: Bytes,
    /// Whether it came compressed.
    pub(crate) compressed: bool,
}

/// Reads frames from the chunks of a body.
#[derive(Debug)]
pub(crate) struct FrameDecoder {
    /// What has not been read yet: whole chunks are kept as they came (a frame inside one
    /// is sliced out without copying); a frame split across chunks is gathered in `buf`.
    chunk: Bytes,
    buf: BytesMut,
    limit: usize,
    encoding: Option<Compression>,
    /// The prefix of the frame being gathered: (compressed, length).
    pending: Option<(bool, usize)>,
    failed: bool,
}

impl FrameDecoder {
    /// A decoder refusing messages over `limit` bytes, for a stream whose `grpc-encoding`
    /// is `encoding`.
    pub(crate) fn new(limit: usize, encoding: Option<Compression>) -> FrameDecoder {
        FrameDecoder {
            chunk: Bytes::new(),
            buf: BytesMut::new(),
            limit,
            encoding,
            pending: None,
            failed: false,
        }
    }

    /// Adds the next chunk of the body.
    pub(crate) fn push(&mut self, chunk: Bytes) {
        if self.chunk.is_empty() {
            self.chunk = chunk;
        } else {
            // Two chunks outstanding (the decoder was not read to the end): join them.
            let mut joined = BytesMut::with_capacity(self.chunk.len() + chunk.len());
            joined.extend_from_slice(&self.chunk);
            joined.extend_from_slice(&chunk);
            self.chunk = joined.freeze();
        }
    }

    /// Whether part of a frame is buffered (at the end of the body, that is an error).
    pub(crate) fn has_partial(&self) -> bool {
        self.pending.is_some() || !self.chunk.is_empty() || !self.buf.is_empty()
    }

    /// The next whole message, `Ok(None)` when more bytes are needed. After an error the
    /// decoder stays failed.
    #[inline]
    pub(crate) fn next(&mut self) -> Result<Option<Received>, RpcError> {
        // The common case, in line: an uncompressed frame within the limit, whole in the
        // current chunk, nothing gathered.
        if self.chunk.len() >= PREFIX_LEN && self.pending.is_none() && self.buf.is_empty() && !self.failed {
            let head = &self.chunk[..PREFIX_LEN];
            let len = frame_len(head) as usize;
            if head[0] == 0 && len <= self.limit && self.chunk.len() - PREFIX_LEN >= len {
                self.chunk.advance(PREFIX_LEN);
                let data = if len == 0 { Bytes::new() } else { self.chunk.split_to(len) };
                return Ok(Some(Received { data, compressed: false }));
            }
        }
        self.next_slow()
    }

    #[inline(never)]
    fn next_slow(&mut self) -> Result<Option<Received>, RpcError> {
        if self.failed {
            return Ok(None);
        }
        let r = self.next_inner();
        if r.is_err() {
            self.failed = true;
        }
        r
    }

    fn next_inner(&mut self) -> Result<Option<Received>, RpcError> {
        if self.buf.is_empty() && self.pending.is_none() {
            // Nothing gathered: read the current chunk in place.
            if self.chunk.len() < PREFIX_LEN {
                self.buf.extend_from_slice(&std::mem::take(&mut self.chunk));
                return Ok(None);
            }
            let (compressed, len) = self.prefix(&self.chunk[..PREFIX_LEN])?;
            self.chunk.advance(PREFIX_LEN);
            if self.chunk.len() >= len {
                let data = self.chunk.split_to(len);
                return self.finish(compressed, data).map(Some);
            }
            // A frame split across chunks: gather it.
            self.pending = Some((compressed, len));
            self.buf.reserve(len);
            self.buf.extend_from_slice(&std::mem::take(&mut self.chunk));
            return Ok(None);
        }
        // Gathering: take from the chunk only what completes the prefix, then the frame, so
        // the frames after it are read in place again.
        if self.pending.is_none() {
            let take = (PREFIX_LEN - self.buf.len()).min(self.chunk.len());
            self.buf.extend_from_slice(&self.chunk[..take]);
            self.chunk.advance(take);
            if self.buf.len() < PREFIX_LEN {
                return Ok(None);
            }
            let prefix = self.prefix(&self.buf[..PREFIX_LEN])?;
            self.buf.clear();
            self.buf.reserve(prefix.1);
            self.pending = Some(prefix);
        }
        let Some((compressed, len)) = self.pending else { return Ok(None) };
        let take = (len - self.buf.len()).min(self.chunk.len());
        self.buf.extend_from_slice(&self.chunk[..take]);
        self.chunk.advance(take);
        if self.buf.len() < len {
            return Ok(None);
        }
        self.pending = None;
        let data = self.buf.split().freeze();
        self.finish(compressed, data).map(Some)
    }

    fn prefix(&self, prefix: &[u8]) -> Result<(bool, usize), RpcError> {
        let compressed = match prefix[0] {
            0 => false,
            1 => true,
            flag => return Err(RpcError::internal(format!("invalid gRPC frame: compressed flag {flag}"))),
        };
        let len = frame_len(prefix);
        if u64::from(len) > self.limit as u64 {
            return Err(received_too_large(u64::from(len), self.limit));
        }
        if compressed && self.encoding.is_none() {
            return Err(RpcError::internal(
                "a message is marked compressed but the stream names no compression (grpc-encoding)",
            ));
        }
        Ok((compressed, len as usize))
    }

    fn finish(&self, compressed: bool, data: Bytes) -> Result<Received, RpcError> {
        let Some(encoding) = self.encoding.filter(|_| compressed) else {
            return Ok(Received { data, compressed: false });
        };
        match compression::decompress(encoding, &data, self.limit) {
            Ok(data) => Ok(Received { data, compressed: true }),
            Err(DecompressError::TooLarge) => Err(RpcError::resource_exhausted(format!(
                "received message larger than max (more than {} bytes once decompressed)",
                self.limit
            ))),
            Err(DecompressError::Corrupt(e)) => Err(RpcError::internal(format!("failed to decompress a {encoding} message: {e}"))),
        }
    }
}

/// Feeds `chunks` to a decoder with `limit`, for the fuzz target: `Err(len)` for the first
/// frame whose announced length is over the limit.
pub(crate) fn scan(chunks: impl IntoIterator<Item = Bytes>, limit: usize) -> Result<(), u64> {
    let mut decoder = FrameDecoder::new(limit, Some(Compression::NoCompression));
    for chunk in chunks {
        decoder.push(chunk);
        loop {
            match decoder.next() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => {
                    // Find the length that failed: the decoder refuses only for that (a
                    // flag other than 0/1 is not a length verdict, so it ends the scan).
                    return decoder.refused_len().map_or(Ok(()), Err);
                }
            }
        }
    }
    Ok(())
}

impl FrameDecoder {
    /// The announced length of the frame at the head of what is buffered, if it is over the
    /// limit (after an error, for [`scan`]).
    fn refused_len(&self) -> Option<u64> {
        let head: &[u8] = if self.buf.len() >= PREFIX_LEN { &self.buf } else { &self.chunk };
        if head.len() < PREFIX_LEN {
            return None;
        }
        let len = u64::from(frame_len(head));
        (len > self.limit as u64).then_some(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rpc_core::StatusCode;
    use rpc_core::codec::BytesCodec;

    fn frame(flag: u8, body: &[u8]) -> Vec<u8> {
        let mut f = vec![flag];
        f.extend_from_slice(&(body.len() as u32).to_be_bytes());
        f.extend_from_slice(body);
        f
    }

    fn drain(d: &mut FrameDecoder) -> Vec<Received> {
        let mut out = Vec::new();
        while let Some(m) = d.next().unwrap() {
            out.push(m);
        }
        out
    }

    #[test]
    fn follows_frames_across_any_split() {
        let mut wire = frame(0, b"abc");
        wire.extend(frame(0, b""));
        wire.extend(frame(0, b"0123456789"));
        for split in 0..wire.len() {
            let (a, b) = wire.split_at(split);
            let mut d = FrameDecoder::new(10, None);
            d.push(Bytes::copy_from_slice(a));
            let mut got = drain(&mut d);
            d.push(Bytes::copy_from_slice(b));
            got.extend(drain(&mut d));
            let texts: Vec<&[u8]> = got.iter().map(|m| &m.data[..]).collect();
            assert_eq!(texts, [&b"abc"[..], b"", b"0123456789"], "split at {split}");
            assert!(!d.has_partial());
        }
        let mut d = FrameDecoder::new(10, None);
        let mut got = Vec::new();
        for b in &wire {
            d.push(Bytes::copy_from_slice(&[*b]));
            got.extend(drain(&mut d));
        }
        assert_eq!(got.len(), 3, "one byte at a time");
        // Three chunks, split at any two points; read after each chunk, or only at the end.
        for i in 0..=wire.len() {
            for j in i..=wire.len() {
                for read_between in [true, false] {
                    let mut d = FrameDecoder::new(10, None);
                    let mut got = Vec::new();
                    for part in [&wire[..i], &wire[i..j], &wire[j..]] {
                        d.push(Bytes::copy_from_slice(part));
                        if read_between {
                            got.extend(drain(&mut d));
                        }
                    }
                    got.extend(drain(&mut d));
                    let texts: Vec<&[u8]> = got.iter().map(|m| &m.data[..]).collect();
                    assert_eq!(
                        texts,
                        [&b"abc"[..], b"", b"0123456789"],
                        "splits at {i} and {j}, read between: {read_between}"
                    );
                    assert!(!d.has_partial());
                }
            }
        }
    }

    #[test]
    fn refuses_an_oversized_frame_before_buffering_it() {
        let mut d = FrameDecoder::new(9, None);
        d.push(Bytes::from(frame(0, b"0123456789")[..5].to_vec()));
        let e = d.next().unwrap_err();
        assert_eq!(e.code(), StatusCode::ResourceExhausted);
        assert_eq!(e.details(), "received message larger than max (10 vs. 9 bytes)");
        assert_eq!(d.next().unwrap(), None, "stays failed");
        assert_eq!(
            scan([Bytes::from_static(&[0, 0xff, 0xff, 0xff, 0xff])], 4 << 20),
            Err(u64::from(u32::MAX))
        );
        assert_eq!(scan([Bytes::from(frame(0, b"ok"))], 2), Ok(()));
    }

    #[test]
    fn compressed_messages_are_decompressed_and_marked() {
        let mut enc = FrameEncoder::new(Some(Compression::Gzip), None);
        let mut wire = BytesMut::new();
        enc.encode(&BytesCodec, Bytes::from_static(b"one one one"), false, &mut wire)
            .unwrap();
        enc.encode(&BytesCodec, Bytes::from_static(b"two"), true, &mut wire).unwrap();
        assert_eq!(wire[0], 1);
        let mut d = FrameDecoder::new(1 << 20, Some(Compression::Gzip));
        d.push(wire.freeze());
        let got = drain(&mut d);
        assert_eq!(
            got[0],
            Received {
                data: Bytes::from_static(b"one one one"),
                compressed: true
            }
        );
        assert_eq!(
            got[1],
            Received {
                data: Bytes::from_static(b"two"),
                compressed: false
            }
        );
    }

    #[test]
    fn a_compressed_flag_without_an_encoding_or_a_bad_flag_is_internal() {
        let mut d = FrameDecoder::new(100, None);
        d.push(Bytes::from(frame(1, b"x")));
        assert_eq!(d.next().unwrap_err().code(), StatusCode::Internal);
        let mut d = FrameDecoder::new(100, None);
        d.push(Bytes::from(frame(7, b"x")));
        assert_eq!(d.next().unwrap_err().code(), StatusCode::Internal);
        let mut d = FrameDecoder::new(100, Some(Compression::Gzip));
        d.push(Bytes::from(frame(1, b"not gzip")));
        assert_eq!(d.next().unwrap_err().code(), StatusCode::Internal);
    }

    #[test]
    fn the_send_limit_is_checked_on_the_plain_size_and_leaves_nothing_behind() {
        let mut enc = FrameEncoder::new(Some(Compression::Gzip), Some(4));
        let mut out = BytesMut::from(&b"kept"[..]);
        let e = enc.encode(&BytesCodec, Bytes::from_static(b"12345"), false, &mut out).unwrap_err();
        assert_eq!(e.details(), "trying to send a message larger than the maximum (5 vs. 4 bytes)");
        assert_eq!(&out[..], b"kept");
        enc.encode(&BytesCodec, Bytes::from_static(b"1234"), true, &mut out).unwrap();
        assert_eq!(&out[4..], &frame(0, b"1234")[..]);
    }
}
