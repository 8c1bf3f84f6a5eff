//! The greeter servicer, written once as a blocking servicer and once as an async one:
//! the two differ only by `async` and the trait name, which is the whole migration.

use crate::pb::helloworld::{AsyncGreeterServicer, GreeterServicer, HelloReply, HelloRequest};
use rpc_core::{RpcError, ServicerContext};

/// A greeter for the blocking face (also servable by the async server).
#[derive(Debug, Default)]
pub struct BlockingGreeter;

impl GreeterServicer for BlockingGreeter {
    fn say_hello(&self, request: HelloRequest, _context: &ServicerContext) -> Result<HelloReply, RpcError> {
        Ok(HelloReply {
            message: format!("Hello, {}! (from a blocking handler)", request.name),
        })
    }
}

/// A greeter for the async face (also servable by the blocking server).
#[derive(Debug, Default)]
pub struct AsyncGreeter;

impl AsyncGreeterServicer for AsyncGreeter {
    async fn say_hello(&self, request: HelloRequest, _context: &ServicerContext) -> Result<HelloReply, RpcError> {
        Ok(HelloReply {
            message: format!("Hello, {}! (from an async handler)", request.name),
        })
    }
}
