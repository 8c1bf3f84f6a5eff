//! Dynamic stubs: calling `"package.Service/Method"` on a channel with messages whose
//! types come from a descriptor pool, on the async face ([`DynamicStub`]) and the blocking
//! face ([`blocking::DynamicStub`]). Each method gives the face's own multi-callable with
//! a [`DynamicCodec`], so a dynamic call is made, awaited, cancelled and inspected exactly
//! as a generated stub's call (the same call objects, metadata, deadlines and errors).

use crate::codec::DynamicCodec;
use crate::error::Error;
use crate::json::JsonOptions;
use crate::symbol::{Method, MethodKind, find_method};
use prost_reflect::DescriptorPool;

/// The method `name` of `pool`, checked to be of `kind`, with its path and client codec.
fn resolve(pool: &DescriptorPool, json: &JsonOptions, name: &str, kind: MethodKind) -> Result<(String, DynamicCodec), Error> {
    let method = find_method(pool, name)?;
    if method.kind() != kind {
        return Err(Error::wrong_kind(format!(
            "method {:?} is a {} method, not {kind}",
            method.full_name(),
            method.kind()
        )));
    }
    Ok((method.path(), DynamicCodec::for_client(&method).with_json_options(*json)))
}

/// One face's stub: the struct, its lookups and its four multi-callable makers.
macro_rules! dynamic_stub {
    ($face:ident, $doc:literal) => {
        #[doc = $doc]
        ///
        /// Each multi-callable maker takes `package.Service/Method` (or
        /// `package.Service.Method`) and the message representations: `DynamicMessage`
        /// or `String` (proto3 JSON, parsed and printed with the stub's [`JsonOptions`]),
        /// chosen separately for requests and responses. A bidi call is driven with the
        /// call object's `write` / `done_writing` / `read` (send, half-close, receive;
        /// `read` gives `Ok(None)` at the end of the stream).
        ///
        /// # Errors (of the makers)
        /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for a method the pool lacks,
        /// [`ErrorKind::InvalidName`](crate::ErrorKind::InvalidName) for a malformed name,
        /// [`ErrorKind::WrongKind`](crate::ErrorKind::WrongKind) when the method is of
        /// another kind than the maker's.
        #[derive(Clone, Debug)]
        pub struct DynamicStub {
            channel: $face::Channel,
            pool: DescriptorPool,
            json: JsonOptions,
        }

        impl DynamicStub {
            /// A stub calling the methods of `pool` on `channel`.
            pub fn new(channel: $face::Channel, pool: DescriptorPool) -> DynamicStub {
                DynamicStub {
                    channel,
                    pool,
                    json: JsonOptions::new(),
                }
            }

            /// Parses and prints JSON messages with `options`.
            pub fn with_json_options(mut self, options: JsonOptions) -> DynamicStub {
                self.json = options;
                self
            }

            /// The channel the calls are made on.
            pub fn channel(&self) -> &$face::Channel {
                &self.channel
            }

            /// The descriptors the methods and messages come from.
            pub fn pool(&self) -> &DescriptorPool {
                &self.pool
            }

            /// The method `name` (`package.Service/Method` or `package.Service.Method`).
            ///
            /// # Errors
            /// As [`find_method`].
            pub fn method(&self, name: &str) -> Result<Method, Error> {
                find_method(&self.pool, name)
            }

            /// The multi-callable of the unary method `name`.
            ///
            /// # Errors
            /// See the type's documentation.
            pub fn unary_unary<Req, Resp>(&self, name: &str) -> Result<$face::UnaryUnaryMultiCallable<Req, Resp, DynamicCodec>, Error> {
                let (path, codec) = resolve(&self.pool, &self.json, name, MethodKind::Unary)?;
                Ok(self.channel.unary_unary_with_codec(&path, codec))
            }

            /// The multi-callable of the server-streaming method `name`.
            ///
            /// # Errors
            /// See the type's documentation.
            pub fn unary_stream<Req, Resp>(&self, name: &str) -> Result<$face::UnaryStreamMultiCallable<Req, Resp, DynamicCodec>, Error> {
                let (path, codec) = resolve(&self.pool, &self.json, name, MethodKind::ServerStreaming)?;
                Ok(self.channel.unary_stream_with_codec(&path, codec))
            }

            /// The multi-callable of the client-streaming method `name`.
            ///
            /// # Errors
            /// See the type's documentation.
            pub fn stream_unary<Req, Resp>(&self, name: &str) -> Result<$face::StreamUnaryMultiCallable<Req, Resp, DynamicCodec>, Error> {
                let (path, codec) = resolve(&self.pool, &self.json, name, MethodKind::ClientStreaming)?;
                Ok(self.channel.stream_unary_with_codec(&path, codec))
            }

            /// The multi-callable of the bidi-streaming method `name`.
            ///
            /// # Errors
            /// See the type's documentation.
            pub fn stream_stream<Req, Resp>(&self, name: &str) -> Result<$face::StreamStreamMultiCallable<Req, Resp, DynamicCodec>, Error> {
                let (path, codec) = resolve(&self.pool, &self.json, name, MethodKind::BidiStreaming)?;
                Ok(self.channel.stream_stream_with_codec(&path, codec))
            }
        }
    };
}

dynamic_stub!(
    rpc_aio,
    "Calls methods by name on an `rpc_aio::Channel`, with messages described by a pool \
     (from `.proto` files, a descriptor set, or the server's reflection: \
     [`from_reflection`](Self::from_reflection))."
);

impl DynamicStub {
    /// A stub for every service the server at the other end of `channel` lists through
    /// reflection (v1, else v1alpha), with the files they need. Dropping the future
    /// cancels the reflection calls in flight.
    ///
    /// # Errors
    /// As [`ReflectionClient::pool_for_all_services`](crate::ReflectionClient::pool_for_all_services).
    pub async fn from_reflection(channel: rpc_aio::Channel) -> Result<DynamicStub, Error> {
        let pool = crate::ReflectionClient::new(channel.clone()).pool_for_all_services().await?;
        Ok(DynamicStub::new(channel, pool))
    }
}

/// The blocking dynamic stub.
pub(crate) mod blocking {
    use super::*;

    dynamic_stub!(
        rpc_sync,
        "Calls methods by name on an `rpc_sync::Channel` (blocking calls), with messages \
         described by a pool (from `.proto` files, a descriptor set, or the server's \
         reflection: [`from_reflection`](Self::from_reflection))."
    );

    impl DynamicStub {
        /// A stub for every service the server at the other end of `channel` lists
        /// through reflection (v1, else v1alpha), with the files they need.
        ///
        /// # Errors
        /// As [`blocking::ReflectionClient::pool_for_all_services`](crate::blocking::ReflectionClient::pool_for_all_services).
        pub fn from_reflection(channel: rpc_sync::Channel) -> Result<DynamicStub, Error> {
            let pool = crate::blocking::ReflectionClient::new(&channel)?.pool_for_all_services()?;
            Ok(DynamicStub::new(channel, pool))
        }
    }
}
