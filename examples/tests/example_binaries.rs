//! The companion examples run as child processes, each briefly: `mixed_server` (both
//! faces), `health_reflection_server`, `tls_greeter` (TLS and mutual TLS) and
//! `interceptors`, each called by a client here.
#![cfg(unix)]

use examples::pb::helloworld::{GreeterStub, HelloRequest};
use examples::pb::routeguide::RouteGuideStub;
use examples::tls::channel_options;
use rpc_core::{ChannelCredentials, ChannelOptions, Request, StatusCode};
use rpc_health::{HealthCheckRequest, HealthStub, ServingStatus};
use rpc_reflection::pb::v1::server_reflection_request::MessageRequest;
use rpc_reflection::pb::v1::server_reflection_response::MessageResponse;
use rpc_reflection::{ServerReflectionRequest, ServerReflectionStub};
use rpc_testkit::process::Child;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A running example, killed when the test ends, passed or failed.
struct Example {
    child: Child,
    port: u16,
}

impl Example {
    /// Starts `binary` with `args` and waits for its `listening on PORT` line.
    fn start(binary: &str, args: &[&str]) -> Example {
        let mut child = Child::spawn(Command::new(binary).args(args).stderr(Stdio::null())).with_limit(Duration::from_secs(60));
        let port = child.wait_line("listening on ").split_whitespace().next().unwrap().parse().unwrap();
        Example { child, port }
    }

    /// What follows `prefix` in the next line of output that has it (earlier lines are skipped).
    fn wait_for(&mut self, prefix: &str) -> String {
        self.child.wait_line(prefix)
    }

    fn target(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

fn hello(name: &str) -> Request<HelloRequest> {
    Request::new(HelloRequest { name: name.to_owned() }).timeout(Duration::from_secs(10))
}

#[test]
fn mixed_server_serves_blocking_and_async_handlers_in_both_faces() {
    for args in [&["--port", "0"][..], &["--port", "0", "--sync"]] {
        let example = Example::start(env!("CARGO_BIN_EXE_mixed_server"), args);
        let channel = rpc_sync::insecure_channel(&example.target(), ChannelOptions::default()).unwrap();
        let reply = GreeterStub::new(channel.clone()).say_hello(hello("mixed")).unwrap();
        assert!(
            reply.message.contains("from a blocking handler on thread"),
            "{args:?}: {}",
            reply.message
        );
        let known = examples::route_guide::features().into_iter().find(|f| !f.name.is_empty()).unwrap();
        let point = known.location.unwrap();
        let feature = RouteGuideStub::new(channel)
            .get_feature(Request::new(point).timeout(Duration::from_secs(10)))
            .unwrap();
        assert_eq!(feature.name, known.name, "{args:?}: the async route guide answered");
    }
}

#[tokio::test]
async fn health_reflection_server_reports_serving_and_lists_its_services() {
    let example = Example::start(env!("CARGO_BIN_EXE_health_reflection_server"), &["--port", "0"]);
    let channel = rpc_aio::insecure_channel(&example.target(), ChannelOptions::default()).unwrap();
    let check = HealthCheckRequest {
        service: "helloworld.Greeter".into(),
    };
    let status = HealthStub::new(channel.clone())
        .check(Request::new(check).timeout(Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(status.status(), ServingStatus::Serving);

    let list = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    // The stub owns the channel: keep it while the call runs (dropping the last handle
    // on a channel closes it, cancelling its calls).
    let reflection = ServerReflectionStub::new(channel);
    let mut answers = reflection.server_reflection_info(Request::new([list]).timeout(Duration::from_secs(10)));
    let Some(MessageResponse::ListServicesResponse(services)) = answers.read().await.unwrap().unwrap().message_response else {
        panic!("expected a service list")
    };
    let names: Vec<_> = services.service.into_iter().map(|s| s.name).collect();
    assert!(names.contains(&"helloworld.Greeter".to_owned()), "{names:?}");
    assert!(names.contains(&"grpc.health.v1.Health".to_owned()), "{names:?}");
    assert!(names.contains(&"grpc.channelz.v1.Channelz".to_owned()), "{names:?}");
}

#[tokio::test]
async fn tls_greeter_serves_tls_and_requires_client_certificates_with_mtls() {
    for mutual in [false, true] {
        let certs = std::env::temp_dir().join(format!("rpc-tls-example-test-{}-{mutual}", std::process::id()));
        let certs_arg = certs.to_str().unwrap();
        let mut args = vec!["--port", "0", "--certs", certs_arg];
        if mutual {
            args.push("--mtls");
        }
        let mut example = Example::start(env!("CARGO_BIN_EXE_tls_greeter"), &args);
        // Its own call worked (and, with mTLS, the anonymous one was refused) before it printed this.
        let own = example.wait_for("try: grpcurl");
        assert!(own.contains("ca.pem"), "{own}");

        let read = |name: &str| std::fs::read(certs.join(name)).unwrap();
        let (ca, key, cert) = (read("ca.pem"), read("client.key"), read("client.pem"));
        let call = |credentials: ChannelCredentials| {
            let channel = rpc_aio::secure_channel(&example.target(), credentials, channel_options()).unwrap();
            async move { GreeterStub::new(channel).say_hello(hello("test")).await }
        };
        let with_cert = call(ChannelCredentials::ssl(Some(&ca), Some(&key), Some(&cert)).unwrap())
            .await
            .unwrap();
        let anonymous = call(ChannelCredentials::ssl(Some(&ca), None, None).unwrap()).await;
        if mutual {
            assert!(
                with_cert.message.contains("client identity: client.example"),
                "{}",
                with_cert.message
            );
            assert_eq!(
                anonymous.unwrap_err().code(),
                StatusCode::Unavailable,
                "mTLS refuses a client without a certificate"
            );
        } else {
            assert!(anonymous.unwrap().message.contains("no client certificate"));
        }
        // A client that does not trust the example CA is refused.
        let untrusted =
            call(ChannelCredentials::ssl(Some(examples::tls::Pki::generate().unwrap().ca_cert.as_bytes()), None, None).unwrap()).await;
        assert_eq!(untrusted.unwrap_err().code(), StatusCode::Unavailable);
        let _ = std::fs::remove_dir_all(&certs);
    }
}

#[test]
fn interceptors_example_refuses_without_token_and_logs_both_calls() {
    let mut example = Example::start(env!("CARGO_BIN_EXE_interceptors"), &["--port", "0", "--token", "t0ken"]);
    let refused = example.wait_for("without a token:");
    assert!(refused.contains("UNAUTHENTICATED"), "{refused}");
    let served = example.wait_for("with the token:");
    assert!(served.contains("Hello, interceptors!"), "{served}");
    assert!(
        example.child.wait_exit().is_some_and(|s| s.success()),
        "it exits cleanly after the two calls"
    );
}

#[tokio::test]
async fn logging_interceptor_logs_the_call_and_its_status() {
    let (server, port) = examples::interceptors::start_server(0, "abc").await.unwrap();
    let log = examples::interceptors::LoggingInterceptor::new();
    let (refused, reply) = examples::interceptors::run(&format!("127.0.0.1:{port}"), "abc", &log)
        .await
        .unwrap();
    assert_eq!(refused.code(), StatusCode::Unauthenticated);
    assert!(reply.starts_with("Hello, interceptors!"));
    let lines = log.lines();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(lines[0].starts_with("-> /helloworld.Greeter/SayHello"), "{lines:?}");
    assert!(lines[1].contains("UNAUTHENTICATED"), "{lines:?}");
    assert!(lines[3].contains("a response"), "{lines:?}");
    assert!(
        examples::interceptors::run(&format!("127.0.0.1:{port}"), "wrong", &log)
            .await
            .is_err()
    );
    server.stop(None).await;
}

#[test]
fn observability_prints_a66_metrics_in_the_prometheus_format() {
    let mut example = Example::start(env!("CARGO_BIN_EXE_observability"), &["--port", "0", "--once"]);
    assert_eq!(example.wait_for("SayGoodbye: "), "UNIMPLEMENTED");
    // The three SayHello calls, on both sides; the unknown method as "other" on the server.
    let started = example.wait_for("grpc_client_attempt_started_total{grpc_method=\"helloworld.Greeter/SayHello\"");
    assert!(started.ends_with("} 3"), "{started}");
    let server = example.wait_for("grpc_server_call_started_total{grpc_method=\"helloworld.Greeter/SayHello\"");
    assert!(server.ends_with("} 3"), "{server}");
    let other = example.wait_for("grpc_server_call_started_total{grpc_method=\"other\"");
    assert!(other.ends_with("} 1"), "{other}");
    assert_eq!(example.child.wait_exit().map(|s| s.success()), Some(true));
}
