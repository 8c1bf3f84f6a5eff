//! A blocking greeter client: `cargo run -p examples --bin greeter_client_sync -- --target 127.0.0.1:50051`.

use examples::{args, clients};

fn main() -> Result<(), rpc_core::RpcError> {
    let channel = rpc_sync::insecure_channel(&args::target(50051), rpc_core::ChannelOptions::default())?;
    let name = args::flag("--name").unwrap_or_else(|| "world".to_owned());
    println!("{}", clients::greet_sync(channel, &name)?);
    Ok(())
}
