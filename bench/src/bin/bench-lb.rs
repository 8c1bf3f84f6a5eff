//! What load balancing costs (see `bench::lb`): unary calls through a plain channel, through
//! `round_robin` over the same backend, and through `round_robin` over several backend
//! processes. `cargo xtask bench-lb` builds it in release and runs it.

use bench::lb::{self, LbConfig};
use clap::Parser;
use std::process::ExitCode;
use std::time::Duration;

/// A plain channel against round_robin, unary 0 B, rpc-aio.
#[derive(Parser, Debug)]
#[command(name = "bench-lb", about)]
struct Args {
    /// Backend processes for the round_robin-over-several variant (at least 2).
    #[arg(long, default_value_t = 3)]
    backends: usize,
    /// Unary calls in flight.
    #[arg(long, default_value_t = 64)]
    in_flight: usize,
    /// Seconds per variant per round, at most.
    #[arg(long, default_value_t = 2.0)]
    duration: f64,
    /// Calls per variant per round, at most.
    #[arg(long, default_value_t = 2_000_000)]
    max_calls: u64,
    /// Rounds (the variants take turns in each).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !(args.duration.is_finite() && args.duration > 0.0) {
        eprintln!("--duration must be a positive number of seconds");
        return ExitCode::from(2);
    }
    let server_exe = match std::env::current_exe() {
        Ok(exe) => exe.with_file_name("bench-server"),
        Err(e) => {
            eprintln!("bench-lb: cannot find this executable: {e}");
            return ExitCode::FAILURE;
        }
    };
    let cfg = LbConfig {
        server_exe,
        backends: args.backends,
        in_flight: args.in_flight,
        duration: Duration::from_secs_f64(args.duration),
        max_calls: args.max_calls,
        rounds: args.rounds,
    };
    match lb::run(&cfg) {
        Ok(figures) => {
            print!("{}", lb::table(&cfg, &figures));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench-lb: {e}");
            ExitCode::FAILURE
        }
    }
}
