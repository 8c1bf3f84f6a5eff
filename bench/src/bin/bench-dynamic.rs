//! A dynamic call's cost against the generated stub (see `bench::dynamic`): prints a table
//! of calls per second and latencies, generated vs `DynamicMessage` vs JSON, both faces.
//! `cargo xtask bench-dynamic` builds it in release and runs it.

use bench::dynamic::{self, DynamicConfig};
use clap::Parser;
use std::process::ExitCode;
use std::time::Duration;

/// Generated stub vs dynamic stub, unary, both faces.
#[derive(Parser, Debug)]
#[command(name = "bench-dynamic", about)]
struct Args {
    /// Calls per variant per round, at most.
    #[arg(long, default_value_t = 20_000)]
    calls: usize,
    /// Seconds per variant per round, at most.
    #[arg(long, default_value_t = 2.0)]
    duration: f64,
    /// Rounds (the variants take turns in each).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// The request body's size in bytes.
    #[arg(long, default_value_t = 16)]
    payload: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !(args.duration.is_finite() && args.duration > 0.0) {
        eprintln!("--duration must be a positive number of seconds");
        return ExitCode::from(2);
    }
    let cfg = DynamicConfig {
        calls: args.calls.max(1),
        duration: Duration::from_secs_f64(args.duration),
        rounds: args.rounds.max(1),
        payload: args.payload,
    };
    match dynamic::run(&cfg) {
        Ok(figures) => {
            print!("{}", dynamic::table(&cfg, &figures));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench-dynamic: {e}");
            ExitCode::FAILURE
        }
    }
}
