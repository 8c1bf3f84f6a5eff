//! Developer tasks for the rpc workspace, run as `cargo xtask <task>`.
//!
//! Tasks land here as the project grows (interop runs, benchmarks); `cargo xtask`
//! with no task lists what exists today.

use std::process::{Command, ExitCode};

const TASKS: &[(&str, &str)] = &[
    ("demo", "run the demo: servers and clients of both faces talking to each other"),
    ("ci", "run .ci/run (fmt, clippy, tests)"),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("demo") => run("cargo", &["run", "-p", "examples", "--bin", "demo"]),
        Some("ci") => run("bash", &[".ci/run"]),
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
        eprintln!("  {name:<8} {what}");
    }
}

fn run(program: &str, args: &[&str]) -> ExitCode {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    match Command::new(program).args(args).current_dir(root).status() {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("could not run {program}: {e}");
            ExitCode::FAILURE
        }
    }
}
