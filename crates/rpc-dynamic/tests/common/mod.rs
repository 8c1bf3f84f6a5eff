//! What the dynamic call and service tests share: the route guide's schema from its
//! `.proto`, and moving messages between generated and dynamic types by their bytes.
#![allow(dead_code)]

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage};
use std::time::Duration;

/// The bound of every wait in these tests.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// The route guide's schema, loaded from `proto/route_guide.proto`.
pub fn route_guide_pool() -> DescriptorPool {
    rpc_dynamic::load_protos(&["route_guide.proto"], &[concat!(env!("CARGO_MANIFEST_DIR"), "/../../proto")]).unwrap()
}

/// `message` as a dynamic message of type `name` in `pool`.
pub fn to_dynamic<M: Message>(pool: &DescriptorPool, name: &str, message: &M) -> DynamicMessage {
    DynamicMessage::decode(pool.get_message_by_name(name).unwrap(), message.encode_to_vec().as_slice()).unwrap()
}

/// A dynamic message as the generated type (its bytes must decode).
pub fn from_dynamic<M: Message + Default>(message: &DynamicMessage) -> M {
    M::decode(message.encode_to_vec().as_slice()).unwrap()
}
