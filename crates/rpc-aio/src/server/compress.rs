//! Response compression chosen per RPC: by the handler (`ServicerContext::set_compression`,
//! before its first response) or the server's default, used only if the client accepts
//! it (`grpc-accept-encoding`). tonic encodes the messages plainly; this body re-frames
//! them, compressing each one unless the handler called `disable_next_message_compression`.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use rpc_core::{Compression, ContextControl};
use std::collections::VecDeque;
use std::io::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// The responses of one RPC to send uncompressed (`disable_next_message_compression`), by
/// their index. Marked when a response is produced (a blocking handler's worker runs ahead
/// of the encoder), read when it is framed.
#[derive(Debug, Default)]
pub(crate) struct PlainMarks {
    /// Set once the responses are to be compressed (before the body is first polled).
    compressing: AtomicBool,
    any: AtomicBool,
    marks: Mutex<VecDeque<u64>>,
}

impl PlainMarks {
    /// Whether the responses are compressed: only then does a mark matter.
    pub(crate) fn compressing(&self) -> bool {
        self.compressing.load(Ordering::Acquire)
    }

    /// Marks response number `index` (counted from 0) to go uncompressed.
    pub(crate) fn mark(&self, index: u64) {
        self.marks.lock().unwrap_or_else(|p| p.into_inner()).push_back(index);
        self.any.store(true, Ordering::Release);
    }

    /// Whether response number `index` was marked; asked in increasing order.
    fn is_plain(&self, index: u64) -> bool {
        if !self.any.load(Ordering::Acquire) {
            return false;
        }
        let mut marks = self.marks.lock().unwrap_or_else(|p| p.into_inner());
        while marks.front().is_some_and(|m| *m < index) {
            marks.pop_front();
        }
        marks.front() == Some(&index) && marks.pop_front().is_some()
    }
}

/// The response compression of one RPC, decided once its handler has produced the
/// response (or its stream).
pub(crate) struct ResponseCompression {
    control: ContextControl,
    marks: Arc<PlainMarks>,
    default: Compression,
    accepted: Option<http::HeaderValue>,
}

impl ResponseCompression {
    pub(crate) fn new(
        control: ContextControl,
        marks: Arc<PlainMarks>,
        default: Compression,
        request_headers: &http::HeaderMap,
    ) -> ResponseCompression {
        ResponseCompression {
            control,
            marks,
            default,
            accepted: request_headers.get("grpc-accept-encoding").cloned(),
        }
    }

    /// Compresses `response` as the handler (or the server's default) asked, if the client accepts it.
    pub(crate) fn apply(self, response: http::Response<tonic::body::Body>) -> http::Response<tonic::body::Body> {
        let chosen = self.control.compression().unwrap_or(self.default);
        match negotiate(chosen, self.accepted.as_ref()) {
            Some(c) => {
                self.marks.compressing.store(true, Ordering::Release);
                apply(response, c, self.marks)
            }
            None => response,
        }
    }
}

/// The compression to use for the responses, if the client accepts it.
fn negotiate(chosen: Compression, accepted: Option<&http::HeaderValue>) -> Option<Compression> {
    if chosen == Compression::NoCompression {
        return None;
    }
    let name = chosen.name();
    let accepted = accepted?.to_str().ok()?;
    accepted.split(',').any(|a| a.trim() == name).then_some(chosen)
}

/// Compresses one message.
pub(crate) fn compress(compression: Compression, message: &[u8]) -> std::io::Result<Vec<u8>> {
    match compression {
        Compression::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(message)?;
            e.finish()
        }
        Compression::Deflate => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(message)?;
            e.finish()
        }
        Compression::Zstd => zstd::bulk::compress(message, zstd::DEFAULT_COMPRESSION_LEVEL),
        Compression::NoCompression => Ok(message.to_vec()),
    }
}

/// Wraps `response` so its messages are compressed with `compression`, and names the
/// encoding in its headers. A trailers-only response (an error) is left as it is.
fn apply(
    response: http::Response<tonic::body::Body>,
    compression: Compression,
    marks: Arc<PlainMarks>,
) -> http::Response<tonic::body::Body> {
    if response.headers().contains_key("grpc-status") {
        return response;
    }
    let name = compression.name();
    let (mut parts, body) = response.into_parts();
    parts.headers.insert("grpc-encoding", http::HeaderValue::from_static(name));
    let body = Recompress {
        inner: body,
        compression,
        marks,
        next: 0,
        pending: BytesMut::new(),
    };
    http::Response::from_parts(parts, tonic::body::Body::new(body))
}

struct Recompress {
    inner: tonic::body::Body,
    compression: Compression,
    marks: Arc<PlainMarks>,
    /// The index of the next response to frame.
    next: u64,
    pending: BytesMut,
}

impl Recompress {
    /// Re-frames every complete message in `pending`.
    fn reframe(&mut self) -> Result<Bytes, tonic::Status> {
        let mut out = BytesMut::new();
        while self.pending.len() >= 5 {
            let len = u32::from_be_bytes([self.pending[1], self.pending[2], self.pending[3], self.pending[4]]) as usize;
            if self.pending.len() < 5 + len {
                break;
            }
            let flag = self.pending[0];
            self.pending.advance(5);
            let message = self.pending.split_to(len);
            let plain = self.marks.is_plain(self.next) || flag != 0;
            self.next += 1;
            if plain {
                out.put_u8(flag);
                out.put_u32(len as u32);
                out.put_slice(&message);
                continue;
            }
            let packed =
                compress(self.compression, &message).map_err(|e| tonic::Status::internal(format!("error compressing a response: {e}")))?;
            let packed_len =
                u32::try_from(packed.len()).map_err(|_| tonic::Status::resource_exhausted("compressed response over 4 GiB"))?;
            out.put_u8(1);
            out.put_u32(packed_len);
            out.put_slice(&packed);
        }
        Ok(out.freeze())
    }
}

impl Body for Recompress {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, tonic::Status>>> {
        loop {
            let this = &mut *self;
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(mut data) => {
                        this.pending.put(&mut data);
                        let out = this.reframe()?;
                        if !out.is_empty() {
                            return Poll::Ready(Some(Ok(Frame::data(out))));
                        }
                    }
                    Err(trailers) => return Poll::Ready(Some(Ok(trailers))),
                },
                other => return other,
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn negotiates_only_what_the_client_accepts() {
        assert_eq!(negotiate(Compression::Gzip, None), None);
        let h = http::HeaderValue::from_static("identity, deflate,gzip");
        assert_eq!(negotiate(Compression::Gzip, Some(&h)), Some(Compression::Gzip));
        assert_eq!(negotiate(Compression::Zstd, Some(&h)), None);
        assert_eq!(negotiate(Compression::NoCompression, Some(&h)), None);
    }

    #[test]
    fn marks_are_read_in_order_once() {
        let marks = PlainMarks::default();
        assert!(!marks.is_plain(0));
        marks.mark(1);
        marks.mark(3);
        assert!(!marks.is_plain(0));
        assert!(marks.is_plain(1));
        assert!(!marks.is_plain(2));
        assert!(marks.is_plain(3));
        assert!(!marks.is_plain(4));
    }

    #[test]
    fn every_encoding_round_trips() {
        let message = b"hello hello hello hello hello".repeat(20);
        let packed = compress(Compression::Gzip, &message).unwrap();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&packed[..]).read_to_end(&mut back).unwrap();
        assert_eq!(back, message);
        let packed = compress(Compression::Deflate, &message).unwrap();
        let mut back = Vec::new();
        flate2::read::ZlibDecoder::new(&packed[..]).read_to_end(&mut back).unwrap();
        assert_eq!(back, message);
        let packed = compress(Compression::Zstd, &message).unwrap();
        assert_eq!(zstd::bulk::decompress(&packed, 1 << 20).unwrap(), message);
    }
}
