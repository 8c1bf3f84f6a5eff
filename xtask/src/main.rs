//! Developer tasks for the rpc workspace, run as `cargo xtask <task>`.
//!
//! Tasks land here as the project grows; `cargo xtask` with no task
//! lists what exists today.

use std::process::{Command, ExitCode};

const TASKS: &[(&str, &str)] = &[
    ("demo", "run the demo: servers and clients of both faces talking to each other"),
    (
        "interop",
        "gRPC interop runs: client faces x server faces x plaintext/TLS, and the Python peer",
    ),
    ("ci", "run .ci/run (fmt, clippy, tests)"),
    (
        "bench",
        "rpc vs raw tonic side by side, grpc-go beside them under h2load (`cargo xtask bench --help`; `--quick` takes about a minute)",
    ),
    (
        "bench-dynamic",
        "a dynamic call (rpc-dynamic's DynamicStub, DynamicMessage and JSON) against the generated stub, both faces (about 40 s)",
    ),
    (
        "bench-lb",
        "load balancing's cost: a plain channel against round_robin over one and over several server processes (about 30 s)",
    ),
];

/// `cargo xtask interop`: the interop crate's own tests run the binaries (servers on port 0,
/// bounded waits, servers killed at the end), so this task only runs those tests with their
/// per-run summaries shown, one run at a time; `cargo test --workspace` runs the same.
const INTEROP: &[&str] = &[
    "test",
    "-p",
    "interop",
    "--test",
    "interop_pairs",
    "--test",
    "interop_python",
    "--",
    "--nocapture",
    "--test-threads=1",
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("demo") => run("cargo", &["run", "-p", "examples", "--bin", "demo"]),
        Some("interop") => run("cargo", INTEROP),
        Some("ci") => run("bash", &[".ci/run"]),
        Some("bench") => bench("bench", &args[1..]),
        Some("bench-dynamic") => bench("bench-dynamic", &args[1..]),
        Some("bench-lb") => bench("bench-lb", &args[1..]),
        Some(other) => {
            eprintln!("unknown task {other:?}");
            usage();
            ExitCode::FAILURE
        }
        None => {
            usage();
            ExitCode::SUCCESS
        }
    }
}

fn usage() {
    eprintln!("usage: cargo xtask <task>\n\ntasks:");
    for (name, what) in TASKS {
        eprintln!("  {name:<13} {what}");
    }
}

/// Builds the bench crate in release and runs its binary `binary` (the driver, or
/// `bench-dynamic`) with `args` (passed through as they are). Honours CARGO_TARGET_DIR; the
/// driver's report goes to target/bench/ under the workspace.
fn bench(binary: &str, args: &[String]) -> ExitCode {
    // The driver runs the crate's other binaries (its servers and clients): build them all.
    let mut build = vec!["build", "--release", "-p", "bench"];
    // bench-lb runs bench-server too; bench-dynamic needs only itself.
    if binary == "bench-dynamic" {
        build.extend(["--bin", binary]);
    }
    let code = run("cargo", &build);
    if code != ExitCode::SUCCESS {
        return code;
    }
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let driver = root.join(target).join("release").join(binary);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&driver.to_string_lossy(), &args)
}

fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(program: &str, args: &[&str]) -> ExitCode {
    let root = workspace_root();
    match Command::new(program).args(args).current_dir(root).status() {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("could not run {program}: {e}");
            ExitCode::FAILURE
        }
    }
}
