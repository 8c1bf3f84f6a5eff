//! The two faces talk to each other: a blocking client against the async server and an
//! async client against the blocking server, with servicers of the other kind registered.

use examples::greeter::{AsyncGreeter, BlockingGreeter};
use examples::pb::helloworld::{GreeterStub, HelloRequest, add_greeter_servicer_to_server};
use rpc_core::{ChannelOptions, ServerOptions};

#[test]
fn blocking_client_calls_async_server_serving_a_blocking_servicer() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = rpc_aio::server(ServerOptions::default());
    add_greeter_servicer_to_server(BlockingGreeter, &server);
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    runtime.block_on(server.start()).unwrap();
    let channel = rpc_sync::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();
    let reply = GreeterStub::new(channel).say_hello(HelloRequest { name: "sync".into() }).unwrap();
    assert_eq!(reply.message, "Hello, sync! (from a blocking handler)");
    runtime.block_on(server.stop(None));
}

#[test]
fn async_client_calls_blocking_server_serving_an_async_servicer() {
    let server = rpc_sync::server(ServerOptions::default()).unwrap();
    add_greeter_servicer_to_server(AsyncGreeter, &server);
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let reply = runtime
        .block_on(async {
            let channel = rpc_aio::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default())?;
            GreeterStub::new(channel).say_hello(HelloRequest { name: "aio".into() }).await
        })
        .unwrap();
    assert_eq!(reply.message, "Hello, aio! (from an async handler)");
    server.stop(None).wait(None);
}
