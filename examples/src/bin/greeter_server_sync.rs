//! A blocking greeter server: `cargo run -p examples --bin greeter_server_sync -- --port 50051`.

use examples::{args, greeter::BlockingGreeter, pb::helloworld::add_greeter_servicer_to_server};

fn main() -> Result<(), rpc_core::RpcError> {
    args::init_logging();
    let server = rpc_sync::server(rpc_core::ServerOptions::default())?;
    add_greeter_servicer_to_server(BlockingGreeter, &server);
    let port = server.add_insecure_port(&format!("127.0.0.1:{}", args::port(50051)))?;
    server.start()?;
    println!("listening on {port}");
    server.wait_for_termination(None)?;
    Ok(())
}
