//! An async greeter client: `cargo run -p examples --bin greeter_client_aio -- --target 127.0.0.1:50051`.

use examples::{args, clients};

#[tokio::main]
async fn main() -> Result<(), rpc_core::RpcError> {
    let channel = rpc_aio::insecure_channel(&args::target(50051), rpc_core::ChannelOptions::default())?;
    let name = args::flag("--name").unwrap_or_else(|| "world".to_owned());
    println!("{}", clients::greet_aio(channel, &name).await?);
    Ok(())
}
