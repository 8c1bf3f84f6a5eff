//! A greeter for the graceful-shutdown examples: the name `slow:<ms>` makes the handler work
//! for that long (ending early, CANCELLED, if the RPC is cancelled), and a greeter built
//! with `stuck = true` never returns (to show that stop and finalizers do not need workers).

use crate::pb::helloworld::{AsyncGreeterServicer, GreeterServicer, HelloReply, HelloRequest};
use rpc_core::{RpcError, ServicerContext};
use std::time::Duration;

fn work(name: &str) -> Duration {
    Duration::from_millis(name.strip_prefix("slow:").and_then(|ms| ms.parse().ok()).unwrap_or(0))
}

fn reply(name: &str) -> HelloReply {
    HelloReply {
        message: format!("Hello, {name}!"),
    }
}

/// The blocking slow greeter.
#[derive(Debug, Default)]
pub struct BlockingSlowGreeter {
    /// Whether handlers get stuck forever, ignoring cancellation.
    pub stuck: bool,
}

impl GreeterServicer for BlockingSlowGreeter {
    fn say_hello(&self, request: HelloRequest, context: &ServicerContext) -> Result<HelloReply, RpcError> {
        if self.stuck {
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        if context.wait_cancelled(work(&request.name)) {
            return Err(RpcError::cancelled("cancelled while working"));
        }
        Ok(reply(&request.name))
    }
}

/// The async slow greeter.
#[derive(Debug, Default)]
pub struct AsyncSlowGreeter;

impl AsyncGreeterServicer for AsyncSlowGreeter {
    async fn say_hello(&self, request: HelloRequest, context: &ServicerContext) -> Result<HelloReply, RpcError> {
        tokio::select! {
            _ = context.on_cancel() => Err(RpcError::cancelled("cancelled while working")),
            _ = tokio::time::sleep(work(&request.name)) => Ok(reply(&request.name)),
        }
    }
}
