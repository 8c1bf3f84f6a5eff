//! Metrics (gRFC A66) exported to Prometheus, and the `tracing` spans of calls and RPCs:
//! `cargo run -p examples --bin observability -- --port 0 --metrics-port 9464`.
//!
//! It serves the greeter with a `rpc_otel::Telemetry` observer, makes a few calls to it
//! over an observed channel (one of them to a method the server does not have), logs each
//! span as it closes, and serves the metrics in the Prometheus text format on
//! `http://127.0.0.1:<metrics-port>/metrics` until Ctrl-C. `--once` prints the metrics
//! to stdout and exits instead.

use examples::args;
use examples::greeter::AsyncGreeter;
use examples::pb::helloworld::{GreeterStub, HelloReply, HelloRequest, add_greeter_servicer_to_server};
use opentelemetry_sdk::metrics::SdkMeterProvider;
use prometheus::{Encoder, TextEncoder};
use rpc_core::{ChannelOptions, RpcError, ServerOptions};
use rpc_otel::Telemetry;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing_subscriber::fmt::format::FmtSpan;

#[tokio::main]
async fn main() -> Result<(), RpcError> {
    // Each span is logged when it closes, with its fields (the RPC attributes).
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("rpc_aio=info"))
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(std::io::stderr)
        .init();

    // The SDK's meter provider, read by the Prometheus exporter into a registry.
    let registry = prometheus::Registry::new();
    let exporter = opentelemetry_prometheus::exporter()
        .with_registry(registry.clone())
        .build()
        .map_err(|e| RpcError::internal(format!("the Prometheus exporter: {e}")))?;
    let provider = SdkMeterProvider::builder().with_reader(exporter).build();
    let telemetry = Telemetry::new().with_meter_provider(&provider);

    let server = rpc_aio::server(ServerOptions::default().observer(telemetry.observer()));
    add_greeter_servicer_to_server(AsyncGreeter, &server);
    let port = server.add_insecure_port(&format!("127.0.0.1:{}", args::port(50051)))?;
    server.start().await?;
    println!("listening on {port}");

    let channel = rpc_aio::insecure_channel(
        &format!("127.0.0.1:{port}"),
        ChannelOptions::default().observer(telemetry.observer()),
    )?;
    let stub = GreeterStub::new(channel.clone());
    for name in ["ada", "grace", "edsger"] {
        stub.say_hello(HelloRequest { name: name.to_owned() }).await?;
    }
    // A method the server does not have: UNIMPLEMENTED, recorded as "other" on the server.
    let missing = channel
        .unary_unary::<HelloRequest, HelloReply>("/helloworld.Greeter/SayGoodbye")
        .call(HelloRequest::default())
        .await;
    println!("SayGoodbye: {}", missing.map_or_else(|e| e.code().name(), |_| "OK"));

    if args::switch("--once") {
        // The server records an RPC's end as its status goes out: give the last one a moment.
        tokio::time::sleep(Duration::from_millis(100)).await;
        print!("{}", metrics_text(&registry)?);
    } else {
        serve_metrics(&registry, args::flag("--metrics-port").and_then(|p| p.parse().ok()).unwrap_or(9464)).await?;
    }
    server.stop(Some(Duration::from_secs(1))).await;
    Ok(())
}

/// The registry's metrics in the Prometheus text format.
fn metrics_text(registry: &prometheus::Registry) -> Result<String, RpcError> {
    let mut out = Vec::new();
    TextEncoder::new()
        .encode(&registry.gather(), &mut out)
        .map_err(|e| RpcError::internal(format!("encoding the metrics: {e}")))?;
    String::from_utf8(out).map_err(|e| RpcError::internal(format!("the metrics are not text: {e}")))
}

/// Answers every HTTP request on `127.0.0.1:port` with the metrics, until Ctrl-C.
async fn serve_metrics(registry: &prometheus::Registry, port: u16) -> Result<(), RpcError> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| RpcError::unavailable(format!("the metrics port: {e}")))?;
    let local = listener.local_addr().map_err(|e| RpcError::internal(e.to_string()))?;
    println!("metrics on http://{local}/metrics");
    loop {
        let (mut socket, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => { tracing::warn!("accepting a metrics connection: {e}"); continue; }
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        // One request per connection: its head is read (up to 8 KiB) and not looked at.
        let mut head = [0u8; 8192];
        let _ = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut head)).await;
        let body = metrics_text(registry)?;
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = socket.write_all(response.as_bytes()).await;
    }
}
