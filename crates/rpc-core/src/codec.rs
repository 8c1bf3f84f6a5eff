//! Message codecs: how a message becomes the bytes of one gRPC message frame and back.
//!
//! A client call encodes its requests and decodes its responses; a server handler decodes
//! requests and encodes responses. Both faces take the codec as a value, so it may carry
//! state (a dynamic message's descriptor, say). Three come with the library:
//!
//! - [`ProstCodec`], the default: any `prost::Message`, as generated code uses;
//! - [`BytesCodec`]: the message is its encoded payload, passed through untouched
//!   (proxies, gateways, and gRPC Python's bytes-in, bytes-out multi-callables);
//! - [`FnCodec`], made by [`from_fns`]: a serializer and a deserializer given as closures,
//!   the equivalent of gRPC Python's `request_serializer` / `response_deserializer`.
//!
//! Framing, compression and size limits are the engine's; a codec only sees one message's
//! bytes.
//!
//! ```
//! use bytes::Bytes;
//! use rpc_core::codec::{self, Decoder, Encoder};
//!
//! // Upper-case text on the way out, lower-case on the way in.
//! let text = codec::from_fns(
//!     |s: String| Ok(Bytes::from(s.to_uppercase())),
//!     |b: Bytes| Ok(String::from_utf8_lossy(&b).to_lowercase()),
//! );
//! let mut buf = bytes::BytesMut::new();
//! text.encode("Hi".to_owned(), &mut buf).unwrap();
//! assert_eq!(&buf[..], b"HI");
//! assert_eq!(Decoder::<String>::decode(&text, buf.freeze()).unwrap(), "hi");
//! ```

use crate::error::RpcError;
use bytes::BufMut;
/// The byte buffers codecs work with (from the `bytes` crate).
pub use bytes::{Bytes, BytesMut};
use std::fmt;

/// Turns a message into the bytes of one gRPC message (without the 5-byte frame prefix).
pub trait Encoder<T>: Send + Sync + 'static {
    /// Appends the encoding of `message` to `buf`.
    ///
    /// # Errors
    /// What the codec refuses to encode; the call or RPC fails with that status
    /// (INTERNAL is the usual code).
    fn encode(&self, message: T, buf: &mut BytesMut) -> Result<(), RpcError>;
}

/// Turns the bytes of one gRPC message (decompressed, without the frame prefix) into a message.
pub trait Decoder<T>: Send + Sync + 'static {
    /// Decodes one message.
    ///
    /// # Errors
    /// Bytes that are not a valid message: the engine fails the call (client) or the RPC
    /// (server) with INTERNAL, as gRPC does for undecodable messages.
    fn decode(&self, bytes: Bytes) -> Result<T, RpcError>;
}

/// The default codec: protobuf through `prost`, for every generated message type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProstCodec;

impl<T: prost::Message + 'static> Encoder<T> for ProstCodec {
    fn encode(&self, message: T, buf: &mut BytesMut) -> Result<(), RpcError> {
        buf.reserve(message.encoded_len());
        message
            .encode(buf)
            .map_err(|e| RpcError::internal(format!("failed to encode a message: {e}")))
    }
}

impl<T: prost::Message + Default + 'static> Decoder<T> for ProstCodec {
    fn decode(&self, bytes: Bytes) -> Result<T, RpcError> {
        T::decode(bytes).map_err(|e| RpcError::internal(format!("failed to decode a message: {e}")))
    }
}

/// The identity codec: a message is its encoded payload ([`Bytes`]), sent and received as
/// it is. For proxies and for code that does its own serialization.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BytesCodec;

impl Encoder<Bytes> for BytesCodec {
    fn encode(&self, message: Bytes, buf: &mut BytesMut) -> Result<(), RpcError> {
        buf.put(message);
        Ok(())
    }
}

impl Decoder<Bytes> for BytesCodec {
    fn decode(&self, bytes: Bytes) -> Result<Bytes, RpcError> {
        Ok(bytes)
    }
}

/// A codec of two closures (see [`from_fns`]).
#[derive(Clone)]
pub struct FnCodec<S, D> {
    serialize: S,
    deserialize: D,
}

impl<S, D> fmt::Debug for FnCodec<S, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnCodec(..)")
    }
}

/// A codec from a serializer (for the messages this side sends) and a deserializer (for
/// the messages it receives): on a client, requests and responses; in a server handler,
/// responses and requests. gRPC Python's `request_serializer` / `response_deserializer`.
pub fn from_fns<S, D>(serialize: S, deserialize: D) -> FnCodec<S, D> {
    FnCodec { serialize, deserialize }
}

impl<T, S, D> Encoder<T> for FnCodec<S, D>
where
    S: Fn(T) -> Result<Bytes, RpcError> + Send + Sync + 'static,
    D: Send + Sync + 'static,
{
    fn encode(&self, message: T, buf: &mut BytesMut) -> Result<(), RpcError> {
        buf.put((self.serialize)(message)?);
        Ok(())
    }
}

impl<T, S, D> Decoder<T> for FnCodec<S, D>
where
    S: Send + Sync + 'static,
    D: Fn(Bytes) -> Result<T, RpcError> + Send + Sync + 'static,
{
    fn decode(&self, bytes: Bytes) -> Result<T, RpcError> {
        (self.deserialize)(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StatusCode;

    #[derive(Clone, PartialEq, prost::Message)]
    struct Note {
        #[prost(string, tag = "1")]
        text: String,
    }

    #[test]
    fn prost_round_trips_and_refuses_garbage_with_internal() {
        let mut buf = BytesMut::new();
        ProstCodec.encode(Note { text: "hi".into() }, &mut buf).unwrap();
        let back: Note = ProstCodec.decode(buf.freeze()).unwrap();
        assert_eq!(back.text, "hi");
        let err = Decoder::<Note>::decode(&ProstCodec, Bytes::from_static(&[0x0a, 0x05, b'x'])).unwrap_err();
        assert_eq!(err.code(), StatusCode::Internal);
    }

    #[test]
    fn bytes_pass_through_untouched() {
        let mut buf = BytesMut::from(&b"pre"[..]);
        BytesCodec.encode(Bytes::from_static(b"\x00\xffpayload"), &mut buf).unwrap();
        assert_eq!(&buf[..], b"pre\x00\xffpayload");
        assert_eq!(BytesCodec.decode(Bytes::from_static(b"abc")).unwrap(), Bytes::from_static(b"abc"));
    }

    #[test]
    fn closure_errors_keep_their_code() {
        let c = from_fns(
            |_: u8| Err(RpcError::invalid_argument("no")),
            |_: Bytes| -> Result<u8, RpcError> { Err(RpcError::data_loss("gone")) },
        );
        let mut buf = BytesMut::new();
        assert_eq!(c.encode(1u8, &mut buf).unwrap_err().code(), StatusCode::InvalidArgument);
        assert_eq!(Decoder::<u8>::decode(&c, Bytes::new()).unwrap_err().code(), StatusCode::DataLoss);
    }
}
