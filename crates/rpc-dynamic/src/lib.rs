//! Protobuf schemas at run time for the rpc gRPC library: descriptors from `.proto` files
//! or from a server's reflection service, methods and symbols looked up by name, messages
//! in proto3 JSON, and symbols shown as proto source, as the `rpc` command-line tool (and
//! grpcurl) needs them.
//!
//! Everything here is built on [prost-reflect]: a [`DescriptorPool`] holds the schema,
//! a [`DynamicMessage`] is a message of a type known only at run time.
//!
//! - **Loading**: [`load_protos`] parses `.proto` files with protox (no `protoc`);
//!   [`decode_file_descriptor_set`] takes a compiled descriptor set.
//! - **Reflection**: [`ReflectionClient`] (async) and [`blocking::ReflectionClient`] list a
//!   server's services and fetch the files that define symbols, with their imports, into
//!   a pool; v1 first, v1alpha when the server has only that.
//! - **Lookup**: [`find_method`] takes `package.Service/Method` or `package.Service.Method`
//!   and gives the [`Method`] with its [`MethodKind`] and message types; [`find_symbol`]
//!   finds any element (service, method, message, field, oneof, enum, enum value,
//!   extension) as a [`Symbol`].
//! - **JSON**: [`message_from_json`], [`messages_from_json`] and [`message_to_json`] with
//!   [`JsonOptions`] (grpcurl's defaults), the well-known types in their canonical forms.
//! - **Source**: [`describe`] and [`proto_source`] print a symbol as grpcurl's `describe`
//!   does.
//!
//! ```
//! # fn main() -> Result<(), rpc_dynamic::Error> {
//! use rpc_dynamic::{JsonOptions, find_method, load_protos, message_from_json, message_to_json};
//! # let dir = std::env::temp_dir().join("rpc-dynamic-doc-lib");
//! # std::fs::create_dir_all(&dir).unwrap();
//! # std::fs::write(dir.join("greet.proto"), "syntax = \"proto3\"; package greet;\
//! #   message Hello { string user_name = 1; int64 count = 2; }\
//! #   service Greeter { rpc Say(Hello) returns (Hello); }").unwrap();
//! let pool = load_protos(&["greet.proto"], &[&dir])?;
//! let method = find_method(&pool, "greet.Greeter/Say")?;
//! let request = message_from_json(&method.input(), r#"{"user_name": "ada", "count": 3}"#, &JsonOptions::new())?;
//! assert_eq!(
//!     message_to_json(&request, &JsonOptions::new().compact(true))?,
//!     r#"{"userName":"ada","count":"3"}"#
//! );
//! # Ok(()) }
//! ```
//!
//! - **Calls**: [`DynamicStub`] (async) and [`blocking::DynamicStub`] call
//!   `package.Service/Method` with `DynamicMessage`s or JSON text, all four kinds, through
//!   the faces' own multi-callables and a [`DynamicCodec`].
//! - **Serving**: [`DynamicService`] serves a service of a pool with closures over
//!   dynamic messages ([`unary_unary`] ..., [`blocking::unary_unary`] ...) on either
//!   server, described by reflection like a generated one.
//!
//! [prost-reflect]: https://docs.rs/prost-reflect
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![warn(unreachable_pub)]
#![doc(test(attr(deny(warnings))))]

mod codec;
mod describe;
mod error;
mod json;
mod load;
mod reflection;
mod service;
mod stub;
mod symbol;

/// The blocking face: the reflection client, the dynamic stub, and blocking behaviours
/// for [`DynamicService`].
pub mod blocking {
    pub use crate::reflection::blocking::ReflectionClient;
    pub use crate::service::blocking::{stream_stream, stream_unary, unary_stream, unary_unary};
    pub use crate::stub::blocking::DynamicStub;
}

pub use codec::DynamicCodec;
pub use describe::{describe, proto_source};
pub use error::{Error, ErrorKind};
pub use json::{JsonMessages, JsonOptions, message_from_json, message_to_json, messages_from_json, unresolved_any_types};
pub use load::{decode_file_descriptor_set, load_protos};
pub use reflection::{ReflectionClient, ReflectionVersion};
pub use service::{DynamicService, HandlerRegistry, stream_stream, stream_unary, unary_stream, unary_unary};
pub use stub::DynamicStub;
pub use symbol::{Method, MethodKind, Symbol, find_method, find_symbol, split_method_name};

/// The examples of `docs/dynamic.md`, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/dynamic.md")]
pub struct DynamicGuide;

#[doc(no_inline)]
pub use prost_reflect::{
    self, DescriptorPool, DynamicMessage, EnumDescriptor, FieldDescriptor, MessageDescriptor, MethodDescriptor, ServiceDescriptor,
};
