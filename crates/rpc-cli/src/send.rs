//! Sending one call whose messages are known only at run time.
//!
//! **This module is what the codec redesign replaces.** Multi-callables are generic over
//! prost messages today, so a dynamic call goes through two prost message types: the
//! requests are `DynamicMessage`s (which implement `prost::Message` and encode
//! themselves), and each response arrives as [`EncodedMessage`], a message type that
//! keeps its encoded bytes unchanged, which the caller decodes with the method's output
//! descriptor. No engine internals are used: only `Channel::{unary_unary, unary_stream,
//! stream_unary, stream_stream}` and the call objects. When multi-callables take a codec,
//! [`send`] becomes a call with a dynamic-message codec and `EncodedMessage` goes away.

use prost::Message;
use prost::bytes::{Buf, BufMut};
use prost::encoding::{DecodeContext, WireType, decode_key, decode_varint, encode_key, encode_varint, skip_field};
use prost_reflect::DynamicMessage;
use rpc_core::{Metadata, Request, RpcError};
use rpc_dynamic::{Method, MethodKind};
use std::time::Instant;

/// A message kept as its encoded bytes: decoding copies them, encoding writes them back.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct EncodedMessage(pub(crate) Vec<u8>);

/// Groups nested deeper than this are refused, as prost refuses messages nested deeper.
const MAX_GROUP_DEPTH: usize = 100;

impl Message for EncodedMessage {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.0);
    }

    /// Keeps one field (used when this message is merged field by field, e.g. as a
    /// length-delimited part of another): its key and value are written back as read.
    fn merge_field(&mut self, tag: u32, wire_type: WireType, buf: &mut impl Buf, ctx: DecodeContext) -> Result<(), prost::DecodeError> {
        copy_field(tag, wire_type, buf, &mut self.0, ctx)
    }

    /// The whole input, verbatim: the bytes are checked when the caller decodes them with
    /// the output descriptor.
    fn merge(&mut self, mut buf: impl Buf) -> Result<(), prost::DecodeError> {
        while buf.has_remaining() {
            let chunk = buf.chunk();
            let n = chunk.len();
            self.0.extend_from_slice(chunk);
            buf.advance(n);
        }
        Ok(())
    }

    fn encoded_len(&self) -> usize {
        self.0.len()
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}

/// Writes the key and value of one field from `buf` to `out` (groups iteratively, with a
/// depth bound). Malformed input is refused with prost's own errors.
fn copy_field(tag: u32, wire_type: WireType, buf: &mut impl Buf, out: &mut Vec<u8>, ctx: DecodeContext) -> Result<(), prost::DecodeError> {
    // Open groups, innermost last: their tags must close in reverse order.
    let mut open: Vec<u32> = Vec::new();
    let (mut tag, mut wire_type) = (tag, wire_type);
    loop {
        match wire_type {
            WireType::Varint => {
                encode_key(tag, wire_type, out);
                encode_varint(decode_varint(buf)?, out);
            }
            WireType::SixtyFourBit | WireType::ThirtyTwoBit => {
                let width = if wire_type == WireType::SixtyFourBit { 8 } else { 4 };
                if buf.remaining() < width {
                    // prost's error for a truncated field.
                    return skip_field(wire_type, tag, buf, ctx);
                }
                encode_key(tag, wire_type, out);
                let mut value = [0u8; 8];
                buf.copy_to_slice(&mut value[..width]);
                out.extend_from_slice(&value[..width]);
            }
            WireType::LengthDelimited => {
                let mut value = Vec::new();
                prost::encoding::bytes::merge(wire_type, &mut value, buf, ctx.clone())?;
                encode_key(tag, wire_type, out);
                encode_varint(value.len() as u64, out);
                out.extend_from_slice(&value);
            }
            WireType::StartGroup => {
                if open.len() >= MAX_GROUP_DEPTH {
                    // prost's recursion limit error.
                    return skip_field(wire_type, tag, buf, ctx);
                }
                encode_key(tag, wire_type, out);
                open.push(tag);
            }
            WireType::EndGroup => {
                if open.last() != Some(&tag) {
                    // prost's error for an unexpected end-group tag.
                    return skip_field(wire_type, tag, buf, ctx);
                }
                open.pop();
                encode_key(tag, wire_type, out);
            }
        }
        if open.is_empty() {
            return Ok(());
        }
        (tag, wire_type) = decode_key(buf)?;
    }
}

/// What came back, besides the responses handed to the caller one by one.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The response headers, when they arrived.
    pub(crate) headers: Option<Metadata>,
    /// The trailers.
    pub(crate) trailers: Metadata,
    /// OK, or the status the call failed with.
    pub(crate) status: Result<(), RpcError>,
    /// How many responses were received.
    pub(crate) received: usize,
}

/// Sends `requests` to `method` on `channel` and hands each response's bytes to
/// `on_response` as it arrives (server and bidi streaming print as they go). A unary or
/// server-streaming method takes exactly one request (the caller checks).
///
/// This is the one place that sends dynamic messages: see the module documentation.
pub(crate) async fn send(
    channel: &rpc_aio::Channel,
    method: &Method,
    mut requests: Vec<DynamicMessage>,
    metadata: Metadata,
    deadline: Option<Instant>,
    mut on_response: impl AsyncFnMut(Vec<u8>),
) -> Outcome {
    let path = method.path();
    let options = |request| with_options(request, &metadata, deadline);
    let stream_options = |request| with_options(request, &metadata, deadline);
    let mut received = 0;
    match method.kind() {
        MethodKind::Unary | MethodKind::ServerStreaming if requests.len() != 1 => Outcome {
            headers: None,
            trailers: Metadata::new(),
            status: Err(RpcError::internal("a unary request side takes exactly one request")),
            received,
        },
        MethodKind::Unary => {
            let request = options(Request::new(requests.remove(0)));
            let mut call = channel.unary_unary::<DynamicMessage, EncodedMessage>(&path).call(request);
            let status = match (&mut call).await {
                Ok(response) => {
                    received += 1;
                    on_response(response.0).await;
                    Ok(())
                }
                Err(e) => Err(e),
            };
            finish(call.initial_metadata().await.ok(), call.trailing_metadata().await, status, received)
        }
        MethodKind::ServerStreaming => {
            let request = options(Request::new(requests.remove(0)));
            let mut call = channel.unary_stream::<DynamicMessage, EncodedMessage>(&path).call(request);
            let status = read_all(&mut received, &mut on_response, async || call.read().await).await;
            finish(call.initial_metadata().await.ok(), call.trailing_metadata().await, status, received)
        }
        MethodKind::ClientStreaming => {
            let request = stream_options(Request::new(requests));
            let mut call = channel.stream_unary::<DynamicMessage, EncodedMessage>(&path).call(request);
            let status = match (&mut call).await {
                Ok(response) => {
                    received += 1;
                    on_response(response.0).await;
                    Ok(())
                }
                Err(e) => Err(e),
            };
            finish(call.initial_metadata().await.ok(), call.trailing_metadata().await, status, received)
        }
        MethodKind::BidiStreaming => {
            let request = stream_options(Request::new(requests));
            let mut call = channel.stream_stream::<DynamicMessage, EncodedMessage>(&path).call(request);
            let status = read_all(&mut received, &mut on_response, async || call.read().await).await;
            finish(call.initial_metadata().await.ok(), call.trailing_metadata().await, status, received)
        }
    }
}

fn with_options<T>(request: Request<T>, metadata: &Metadata, deadline: Option<Instant>) -> Request<T> {
    let request = request.metadata(metadata.clone());
    match deadline {
        Some(deadline) => request.deadline(deadline),
        None => request,
    }
}

/// Reads responses until the end of the stream or an error.
async fn read_all(
    received: &mut usize,
    on_response: &mut impl AsyncFnMut(Vec<u8>),
    mut read: impl AsyncFnMut() -> Result<Option<EncodedMessage>, RpcError>,
) -> Result<(), RpcError> {
    // Bounded by the server: the stream ends, fails, or the deadline passes.
    loop {
        match read().await? {
            Some(response) => {
                *received += 1;
                on_response(response.0).await;
            }
            None => return Ok(()),
        }
    }
}

fn finish(headers: Option<Metadata>, trailers: Metadata, status: Result<(), RpcError>, received: usize) -> Outcome {
    // A failed call's status carries the metadata too, when the call objects had none.
    let (headers, trailers) = match &status {
        Err(e) => (
            headers.or_else(|| (!e.initial_metadata().is_empty()).then(|| e.initial_metadata().clone())),
            if trailers.is_empty() {
                e.trailing_metadata().clone()
            } else {
                trailers
            },
        ),
        Ok(()) => (headers, trailers),
    };
    Outcome {
        headers,
        trailers,
        status,
        received,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_keeps_the_bytes_as_they_are() {
        let bytes = vec![0x0a, 0x03, b'a', b'b', b'c', 0x10, 0x96, 0x01, 0x1d, 1, 2, 3, 4];
        let message = EncodedMessage::decode(bytes.as_slice()).unwrap();
        assert_eq!(message.0, bytes);
        assert_eq!(message.encode_to_vec(), bytes);
        assert_eq!(message.encoded_len(), bytes.len());
    }

    #[test]
    fn field_by_field_merging_copies_every_wire_type() {
        // varint, fixed64, fixed32, length-delimited, and a group holding a varint.
        let bytes: Vec<u8> = vec![
            0x08, 0x96, 0x01, 0x11, 1, 2, 3, 4, 5, 6, 7, 8, 0x1d, 9, 9, 9, 9, 0x22, 0x02, b'h', b'i', 0x2b, 0x08, 0x01, 0x2c,
        ];
        let mut message = EncodedMessage::default();
        let mut buf = bytes.as_slice();
        while buf.has_remaining() {
            let (tag, wire_type) = decode_key(&mut buf).unwrap();
            message.merge_field(tag, wire_type, &mut buf, DecodeContext::default()).unwrap();
        }
        assert_eq!(message.0, bytes);
    }

    #[test]
    fn malformed_fields_are_refused_not_panicked_on() {
        for bad in [
            &[0x22, 0x05, b'h'][..],       // length past the end
            &[0x11, 1, 2][..],             // truncated fixed64
            &[0x2b, 0x34][..],             // group closed by another tag
            &[0x2c][..],                   // end group without a start
            &[0x08, 0xff, 0xff, 0xff][..], // unterminated varint
        ] {
            let mut message = EncodedMessage::default();
            let mut buf = bad;
            let (tag, wire_type) = decode_key(&mut buf).unwrap();
            assert!(
                message.merge_field(tag, wire_type, &mut buf, DecodeContext::default()).is_err(),
                "{bad:?}"
            );
        }
        let deep: Vec<u8> = std::iter::repeat_n(0x0b, 200).collect();
        let mut buf = deep.as_slice();
        let (tag, wire_type) = decode_key(&mut buf).unwrap();
        assert!(
            EncodedMessage::default()
                .merge_field(tag, wire_type, &mut buf, DecodeContext::default())
                .is_err()
        );
    }
}
