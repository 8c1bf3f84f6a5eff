//! The client side of gRPC server reflection: listing a server's services and fetching
//! the descriptors of its symbols, on the async face ([`ReflectionClient`]) and the
//! blocking face ([`blocking::ReflectionClient`]).

pub(crate) mod blocking;
mod client;
mod files;
mod session;

pub use client::ReflectionClient;
use std::fmt;

/// The version of the reflection protocol a server speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReflectionVersion {
    /// `grpc.reflection.v1.ServerReflection`.
    V1,
    /// `grpc.reflection.v1alpha.ServerReflection`, the older name of the same protocol.
    V1Alpha,
}

impl ReflectionVersion {
    /// The full name of the service.
    pub fn service_name(self) -> &'static str {
        match self {
            ReflectionVersion::V1 => rpc_reflection::SERVER_REFLECTION_SERVICE_NAME,
            ReflectionVersion::V1Alpha => rpc_reflection::SERVER_REFLECTION_V1ALPHA_SERVICE_NAME,
        }
    }
}

impl fmt::Display for ReflectionVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.service_name())
    }
}
