//! [`DynamicCodec`]: the message codec of a method known only at run time, for
//! `DynamicMessage`s or their proto3 JSON text, on clients and servers of both faces.

use crate::json::{JsonOptions, message_from_json, message_to_json};
use crate::symbol::Method;
use prost::Message;
use prost_reflect::{DynamicMessage, MessageDescriptor, ReflectMessage};
use rpc_core::RpcError;
use rpc_core::codec::{Bytes, BytesMut, Decoder, Encoder};

/// The codec of one method's messages, by their descriptors: what this side sends is
/// encoded from a [`DynamicMessage`] of the `sends` type (or from its proto3 JSON, a
/// `String`), what it receives is decoded as the `receives` type (into a
/// `DynamicMessage`, or printed as JSON with the codec's [`JsonOptions`]).
///
/// A client sends the method's input and receives its output ([`for_client`](Self::for_client));
/// a server handler the other way round ([`for_server`](Self::for_server)). Give it to a
/// face's `*_with_codec` multi-callables or to `RpcMethodHandler::with_codec`; the
/// dynamic stubs and [`DynamicService`](crate::DynamicService) do.
///
/// Failures: a message of another type than `sends`, or JSON that does not parse as it,
/// fails the call (or RPC) with INTERNAL and says which; bytes that do not decode as
/// `receives` fail it with INTERNAL, as undecodable messages do for generated code.
///
/// ```
/// # fn main() -> Result<(), rpc_dynamic::Error> {
/// use rpc_core::codec::{Decoder, Encoder};
/// let pool = rpc_dynamic::load_protos(&["route_guide.proto"], &[concat!(env!("CARGO_MANIFEST_DIR"), "/../../proto")])?;
/// let method = rpc_dynamic::find_method(&pool, "routeguide.RouteGuide/GetFeature")?;
/// let codec = rpc_dynamic::DynamicCodec::for_client(&method);
///
/// let mut wire = rpc_core::codec::BytesMut::new();
/// codec.encode(r#"{"latitude": 1, "longitude": 2}"#.to_owned(), &mut wire).unwrap();
/// assert_eq!(&wire[..], &[0x08, 0x01, 0x10, 0x02]);
/// // The response type, a Feature, holds its location in field 2.
/// use prost_reflect::ReflectMessage;
/// let feature: prost_reflect::DynamicMessage = codec.decode(rpc_core::codec::Bytes::from_static(&[0x12, 0x02, 0x08, 0x05])).unwrap();
/// assert_eq!(feature.descriptor().full_name(), "routeguide.Feature");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct DynamicCodec {
    sends: MessageDescriptor,
    receives: MessageDescriptor,
    json: JsonOptions,
}

impl DynamicCodec {
    /// A codec that encodes `sends` messages and decodes `receives` messages; JSON with
    /// [`JsonOptions::new`].
    pub fn new(sends: MessageDescriptor, receives: MessageDescriptor) -> DynamicCodec {
        DynamicCodec {
            sends,
            receives,
            json: JsonOptions::new(),
        }
    }

    /// The codec of a client calling `method`: requests out, responses in.
    pub fn for_client(method: &Method) -> DynamicCodec {
        DynamicCodec::new(method.input(), method.output())
    }

    /// The codec of a server handling `method`: responses out, requests in.
    pub fn for_server(method: &Method) -> DynamicCodec {
        DynamicCodec::new(method.output(), method.input())
    }

    /// Parses and prints JSON messages with `options` (names, defaults, indentation).
    pub fn with_json_options(mut self, options: JsonOptions) -> DynamicCodec {
        self.json = options;
        self
    }

    /// The type of the messages this side sends.
    pub fn sends(&self) -> &MessageDescriptor {
        &self.sends
    }

    /// The type of the messages this side receives.
    pub fn receives(&self) -> &MessageDescriptor {
        &self.receives
    }
}

impl Encoder<DynamicMessage> for DynamicCodec {
    fn encode(&self, message: DynamicMessage, buf: &mut BytesMut) -> Result<(), RpcError> {
        // By name: a message of the same type from another pool has the same encoding.
        if message.descriptor().full_name() != self.sends.full_name() {
            return Err(RpcError::internal(format!(
                "a {} message was given where the method sends {}",
                message.descriptor().full_name(),
                self.sends.full_name()
            )));
        }
        buf.reserve(message.encoded_len());
        message
            .encode(buf)
            .map_err(|e| RpcError::internal(format!("failed to encode a {}: {e}", self.sends.full_name())))
    }
}

impl Decoder<DynamicMessage> for DynamicCodec {
    fn decode(&self, bytes: Bytes) -> Result<DynamicMessage, RpcError> {
        DynamicMessage::decode(self.receives.clone(), bytes)
            .map_err(|e| RpcError::internal(format!("failed to decode a {}: {e}", self.receives.full_name())))
    }
}

impl Encoder<String> for DynamicCodec {
    fn encode(&self, json: String, buf: &mut BytesMut) -> Result<(), RpcError> {
        let message = message_from_json(&self.sends, &json, &self.json).map_err(|e| RpcError::internal(e.to_string()))?;
        Encoder::<DynamicMessage>::encode(self, message, buf)
    }
}

impl Decoder<String> for DynamicCodec {
    fn decode(&self, bytes: Bytes) -> Result<String, RpcError> {
        let message: DynamicMessage = self.decode(bytes)?;
        message_to_json(&message, &self.json).map_err(|e| RpcError::internal(e.to_string()))
    }
}
