//! The demo: a blocking server and an async server in one process, each called by the
//! other face's client, with servicers of both kinds mixed on both servers.
//!
//! `cargo run -p examples --bin demo`

use examples::greeter::{AsyncGreeter, BlockingGreeter};
use examples::pb::helloworld::add_greeter_servicer_to_server;
use examples::pb::routeguide::add_route_guide_servicer_to_server;
use examples::route_guide::{AsyncRouteGuide, BlockingRouteGuide};
use examples::{args, clients};
use rpc_core::{ChannelOptions, RpcError, ServerOptions};
use std::time::Duration;

fn main() -> Result<(), RpcError> {
    args::init_logging();

    // A blocking server (rpc-sync): the blocking route guide, and the async greeter (an
    // async servicer runs on a blocking server unchanged).
    let sync_server = rpc_sync::server(ServerOptions::default())?;
    add_greeter_servicer_to_server(AsyncGreeter, &sync_server);
    add_route_guide_servicer_to_server(BlockingRouteGuide::new(), &sync_server);
    let sync_port = sync_server.add_insecure_port("127.0.0.1:0")?;
    sync_server.start()?;
    println!("rpc-sync server listening on 127.0.0.1:{sync_port}");

    // An async server (rpc-aio) on the application's own runtime: the async route guide,
    // and the blocking greeter (run on the server's bounded worker pool).
    let runtime = tokio::runtime::Runtime::new().map_err(|e| RpcError::internal(format!("could not start a runtime: {e}")))?;
    let aio_server = rpc_aio::server(ServerOptions::default());
    add_greeter_servicer_to_server(BlockingGreeter, &aio_server);
    add_route_guide_servicer_to_server(AsyncRouteGuide::new(), &aio_server);
    let aio_port = aio_server.add_insecure_port("127.0.0.1:0")?;
    runtime.block_on(aio_server.start())?;
    println!("rpc-aio server listening on 127.0.0.1:{aio_port}");

    println!("\nasync client -> blocking server");
    runtime.block_on(async {
        let channel = rpc_aio::insecure_channel(&format!("127.0.0.1:{sync_port}"), ChannelOptions::default())?;
        println!("  {}", clients::greet_aio(channel.clone(), "async client").await?);
        clients::route_guide_aio(channel).await
    })?;

    println!("\nblocking client -> async server");
    let channel = rpc_sync::insecure_channel(&format!("127.0.0.1:{aio_port}"), ChannelOptions::default())?;
    println!("  {}", clients::greet_sync(channel.clone(), "blocking client")?);
    clients::route_guide_sync(channel)?;

    let grace = Some(Duration::from_secs(1));
    sync_server.stop(grace).wait(None);
    runtime.block_on(aio_server.stop(grace));
    println!("\nboth servers stopped cleanly");
    Ok(())
}
