//! An async route guide client: `cargo run -p examples --bin route_guide_client_aio -- --target 127.0.0.1:50052`.

use examples::{args, clients};

#[tokio::main]
async fn main() -> Result<(), rpc_core::RpcError> {
    let channel = rpc_aio::insecure_channel(&args::target(50052), rpc_core::ChannelOptions::default())?;
    clients::route_guide_aio(channel).await
}
