//! The gRPC server reflection service for both faces of rpc, so that grpcurl, grpc_cli and
//! other reflection clients can list a server's services and describe them, like gRPC
//! Python's `grpc_reflection.v1alpha.reflection`.
//!
//! Both versions of the protocol are served, `grpc.reflection.v1.ServerReflection` and the
//! older `grpc.reflection.v1alpha.ServerReflection` (which grpcurl and many tools still
//! use). The descriptors come from the services registered on the server: generated code
//! embeds the `FileDescriptorSet` of each service's proto files and their imports.
//!
//! [`ReflectionServicer`] is an async servicer, so it runs on an rpc-aio server and,
//! unchanged, on an rpc-sync server. Register it after the services it should describe:
//!
//! ```no_run
//! # #[tokio::main]
//! # async fn main() -> Result<(), rpc_core::RpcError> {
//! let server = rpc_aio::server(rpc_core::ServerOptions::default());
//! // add_greeter_servicer_to_server(MyGreeter, &server);
//! rpc_reflection::enable_server_reflection(&server);
//! server.add_insecure_port("127.0.0.1:50051")?;
//! server.start().await?;
//! // $ grpcurl -plaintext 127.0.0.1:50051 list
//! # Ok(()) }
//! ```
//!
//! The same on a blocking server, with an explicit servicer:
//!
//! ```no_run
//! # fn main() -> Result<(), rpc_core::RpcError> {
//! use rpc_reflection::{ReflectionServicer, add_reflection_servicer_to_server};
//! let server = rpc_sync::server(rpc_core::ServerOptions::default())?;
//! // add_greeter_servicer_to_server(MyGreeter, &server);
//! add_reflection_servicer_to_server(ReflectionServicer::from_server(&server), &server);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![warn(unreachable_pub)]
#![doc(test(attr(deny(warnings))))]

mod index;
mod servicer;

/// The generated code of both protocol versions: messages, stubs, servicer traits.
#[allow(missing_docs, missing_debug_implementations, unreachable_pub)]
pub mod pb {
    /// `grpc.reflection.v1`.
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/grpc.reflection.v1.rs"));
    }
    /// `grpc.reflection.v1alpha`, the same messages under the older package name.
    pub mod v1alpha {
        include!(concat!(env!("OUT_DIR"), "/grpc.reflection.v1alpha.rs"));
    }
}

pub use pb::v1::{SERVER_REFLECTION_SERVICE_NAME, ServerReflectionRequest, ServerReflectionResponse, ServerReflectionStub};
pub use servicer::{ReflectionServicer, ServiceRegistry};

/// The full name of the v1alpha service, `grpc.reflection.v1alpha.ServerReflection`.
pub const SERVER_REFLECTION_V1ALPHA_SERVICE_NAME: &str = pb::v1alpha::SERVER_REFLECTION_SERVICE_NAME;

/// Registers `servicer` on `server` as both `grpc.reflection.v1.ServerReflection` and
/// `grpc.reflection.v1alpha.ServerReflection`. Works with either face's server.
pub fn add_reflection_servicer_to_server(servicer: ReflectionServicer, server: &impl rpc_core::codegen::Server) {
    pb::v1::add_server_reflection_servicer_to_server::<rpc_core::codegen::Async>(servicer.clone(), server);
    pb::v1alpha::add_server_reflection_servicer_to_server::<rpc_core::codegen::Async>(servicer, server);
}

/// Serves reflection on `server` for the services registered on it so far (and for
/// itself), like gRPC Python's `reflection.enable_server_reflection`: call it after
/// registering the other services. Returns the servicer registered.
pub fn enable_server_reflection(server: &impl ServiceRegistry) -> ReflectionServicer {
    let servicer = ReflectionServicer::from_server(server);
    add_reflection_servicer_to_server(servicer.clone(), server);
    servicer
}
