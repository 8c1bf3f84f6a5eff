//! A blocking route guide client: `cargo run -p examples --bin route_guide_client_sync -- --target 127.0.0.1:50052`.

use examples::{args, clients};

fn main() -> Result<(), rpc_core::RpcError> {
    let channel = rpc_sync::insecure_channel(&args::target(50052), rpc_core::ChannelOptions::default())?;
    clients::route_guide_sync(channel)
}
