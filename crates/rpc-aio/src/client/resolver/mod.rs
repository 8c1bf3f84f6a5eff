//! Name resolution: what turns a channel's target into the addresses it connects to
//! (gRPC's naming.md). A [`ResolverBuilder`] is registered by URI scheme ([`register`], or
//! per channel with `ChannelBuilder::resolver`); for each channel it builds a [`Resolver`],
//! a stream of [`Resolution`]s: address lists (each address with attributes for the
//! load-balancing policy) and optionally a service config, or an error.
//!
//! Built in: `dns` (the default scheme; the system resolver, `getaddrinfo`, on a blocking
//! thread), `ipv4`, `ipv6`, `unix` and `unix-abstract` (fixed lists), and [`ManualResolver`]
//! for tests and for pushing addresses from code (a Consul or Kubernetes watcher).
//!
//! ```
//! use rpc_aio::resolver::{Address, ManualResolver, Resolution};
//!
//! let manual = ManualResolver::new("fleet");
//! manual.update(Resolution::new(vec![
//!     Address::tcp("127.0.0.1:50051".parse().unwrap()),
//!     Address::tcp("127.0.0.1:50052".parse().unwrap()).with_attribute("zone", "b"),
//! ]));
//! // Channel::builder("fleet:///backends").resolver(manual.clone()) ...
//! ```

pub(crate) mod address;
mod api;
mod dns;
mod fixed;
mod manual;
mod registry;
mod uri;

pub use address::Address;
pub use api::{Resolution, Resolver, ResolverBuilder, ResolverUpdate};
pub(crate) use fixed::unix_endpoint;
pub use manual::ManualResolver;
pub(crate) use registry::lookup;
pub use registry::{register, register_arc};
pub use uri::TargetUri;
