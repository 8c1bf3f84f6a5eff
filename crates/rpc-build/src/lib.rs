//! Build-time code generation for rpc: `.proto` files in, prost messages plus one stub
//! and two servicer traits per service out, with no `protoc` anywhere (the protos are
//! parsed by [protox]).
//!
//! # Use
//!
//! ```toml
//! [dependencies]
//! rpc-core = "0.1"
//! rpc-sync = "0.1"   # or rpc-aio, or both
//!
//! [build-dependencies]
//! rpc-build = "0.1"
//! ```
//!
//! ```no_run
//! // build.rs
//! fn main() -> std::io::Result<()> {
//!     rpc_build::compile_protos(&["proto/helloworld.proto"], &["proto"])
//! }
//! ```
//!
//! ```ignore
//! // src/lib.rs: one module per proto package, nested by the package's dots.
//! pub mod pb {
//!     include!(concat!(env!("OUT_DIR"), "/_includes.rs"));
//! }
//! // or one package alone:
//! pub mod helloworld {
//!     include!(concat!(env!("OUT_DIR"), "/helloworld.rs"));
//! }
//! ```
//!
//! # What is generated
//!
//! Each package gets a file `<package>.rs` (prost's layout) with the messages and, for a
//! service `Greeter` with a method `SayHello` in package `helloworld`:
//!
//! | item | what |
//! |---|---|
//! | `GREETER_SERVICE_NAME` | `"helloworld.Greeter"` |
//! | `GREETER_SAY_HELLO` | the method's `MethodDescriptor` (`<SERVICE>_<METHOD>`, in SHOUTY_SNAKE_CASE) |
//! | `GREETER_SERVICE` | the `ServiceDescriptor`: the methods and `FILE_DESCRIPTOR_SET` |
//! | `GreeterStub<C>` | the client, generic over `codegen::Channel`: `say_hello`, `say_hello_with_call`, `say_hello_future` |
//! | `GreeterServicer` | the blocking servicer trait |
//! | `AsyncGreeterServicer` | the async servicer trait (implement with `async fn`) |
//! | `GreeterServicerKind<M>` | what `add_greeter_servicer_to_server` accepts: either trait, by the marker `M` |
//! | `add_greeter_servicer_to_server` | registers a servicer on either face's server |
//! | `FILE_DESCRIPTOR_SET` | the package's files and their imports, encoded (one per package with services) |
//!
//! Unary-request stub methods take `impl IntoRequest<Req>` (a message or a `Request` carrying
//! call options); request-streaming ones take `impl IntoStreamingRequest<Req>` (an iterator, a
//! stream, `WriteRequests`, or a `Request` of one). Only unary-response methods have the
//! `_with_call` and `_future` variants. Each stub method makes its method's multi-callable
//! with the channel's constructor for the kind (`codegen::Channel::unary_unary`, ...) and
//! calls it, so it returns what that multi-callable returns, named by a codegen alias:
//! `UnaryUnaryCall<C, Req, Resp>` (and `UnaryUnaryWithCall`, `UnaryUnaryFuture`),
//! `UnaryStreamCall`, `StreamUnaryCall` (and `StreamUnaryWithCall`, `StreamUnaryFuture`),
//! `StreamStreamCall`. Names that are Rust keywords become raw
//! identifiers; a method whose name would clash with the stub's own `new`, `channel` or
//! `into_channel` is called `call_<name>` on the stub.
//!
//! Generated code refers to nothing but the codegen path (`::rpc_core::codegen` by default,
//! see [`Builder::codegen_path`]) and `core`/`std`.
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![warn(unreachable_pub)]

mod builder;
mod descriptor_set;
mod generator;
mod names;

pub use builder::{Builder, DEFAULT_CODEGEN_PATH, DEFAULT_INCLUDE_FILE};
#[doc(no_inline)]
pub use prost_build;

use std::path::Path;

/// A [`Builder`] with the defaults: output to `$OUT_DIR`, codegen path
/// `::rpc_core::codegen`, include file `_includes.rs`.
pub fn configure() -> Builder {
    Builder::default()
}

/// Compiles `protos` (imports looked up in `includes`) into `$OUT_DIR`, with the defaults;
/// for a build script.
pub fn compile_protos(protos: &[impl AsRef<Path>], includes: &[impl AsRef<Path>]) -> std::io::Result<()> {
    configure().compile(protos, includes)
}
