//! A greeter over TLS, or mutual TLS with `--mtls`, with certificates made at run time:
//! `cargo run -p examples --bin tls_greeter -- --port 50056 [--mtls] [--certs DIR]`.
//!
//! It prints what it generated and where it wrote the PEM files, serves, calls itself once
//! through a TLS channel to show the handshake working (with `--mtls`, also once without a
//! client certificate, which the server refuses), and serves until Ctrl+C.

use examples::args;
use examples::pb::helloworld::{GreeterStub, HelloRequest, add_greeter_servicer_to_server};
use examples::tls::{CLIENT_NAME, IdentityGreeter, Pki, SERVER_NAME, channel_options};
use rpc_core::{Request, RpcError};
use std::path::PathBuf;
use std::time::Duration;

async fn greet(pki: &Pki, port: u16, client_certificate: bool) -> Result<String, RpcError> {
    let credentials = pki.channel_credentials(client_certificate)?;
    let channel = rpc_aio::secure_channel(&format!("127.0.0.1:{port}"), credentials, channel_options())?;
    let request = Request::new(HelloRequest { name: "TLS".into() }).timeout(Duration::from_secs(5));
    let reply = GreeterStub::new(channel.clone()).say_hello(request).await;
    channel.close(None).await;
    Ok(reply?.message)
}

#[tokio::main]
async fn main() -> Result<(), RpcError> {
    args::init_logging();
    let mutual = args::switch("--mtls");
    let dir = args::flag("--certs").map_or_else(
        || std::env::temp_dir().join(format!("rpc-tls-example-{}", std::process::id())),
        PathBuf::from,
    );

    let pki = Pki::generate()?;
    pki.write_to(&dir)
        .map_err(|e| RpcError::internal(format!("cannot write {}: {e}", dir.display())))?;
    println!("generated a CA, a server certificate for {SERVER_NAME} and 127.0.0.1, and a client certificate for {CLIENT_NAME}");
    println!(
        "certificates written to {} (ca.pem, server.pem/.key, client.pem/.key)",
        dir.display()
    );
    if mutual {
        println!("mutual TLS: the server requires a client certificate signed by ca.pem");
    } else {
        println!("TLS: the client checks the server's certificate against ca.pem; clients stay anonymous");
    }

    let server = rpc_aio::server(rpc_core::ServerOptions::default());
    add_greeter_servicer_to_server(IdentityGreeter, &server);
    let port = server.add_secure_port(&format!("127.0.0.1:{}", args::port(50056)), pki.server_credentials(mutual)?)?;
    server.start().await?;
    println!("listening on {port}");

    println!(
        "client with {}: {}",
        if mutual { "its certificate" } else { "ca.pem" },
        greet(&pki, port, mutual).await?
    );
    if mutual {
        match greet(&pki, port, false).await {
            Ok(reply) => return Err(RpcError::internal(format!("a client without a certificate was served: {reply}"))),
            Err(err) => println!("client without a certificate: refused ({})", err.code()),
        }
    }
    let d = dir.display();
    let client = if mutual {
        format!(" -cert {d}/client.pem -key {d}/client.key")
    } else {
        String::new()
    };
    println!(
        "try: grpcurl -cacert {d}/ca.pem{client} -import-path proto -proto helloworld.proto -d '{{\"name\":\"you\"}}' 127.0.0.1:{port} helloworld.Greeter/SayHello"
    );

    let _ = tokio::signal::ctrl_c().await;
    server.stop(Some(Duration::from_secs(1))).await;
    Ok(())
}
