//! What load balancing costs: unary calls from one rpc-aio channel (the same load loop as
//! the main bench's aio client) to rpc-aio bench servers in processes of their own,
//! through a plain channel (`pick_first`, the default), through `round_robin` over the
//! same one backend, and through `round_robin` over several backends. `bench-lb` prints
//! the table; `cargo xtask bench-lb` runs it in release. The variants take turns round by
//! round, so drift on a shared machine hits them alike; every measurement is bounded in
//! calls and in time.

use crate::Side;
use crate::load::{self, Kind, LoadSpec};
use crate::procs::ServerProc;
use rpc_core::ChannelOptions;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

/// What to measure.
#[derive(Clone, Debug)]
pub struct LbConfig {
    /// The `bench-server` executable.
    pub server_exe: PathBuf,
    /// Backends for the round_robin-over-several variant (at least 2).
    pub backends: usize,
    /// Unary calls in flight.
    pub in_flight: usize,
    /// Time per variant per round, at most.
    pub duration: Duration,
    /// Calls per variant per round, at most.
    pub max_calls: u64,
    /// Rounds (the variants take turns in each).
    pub rounds: usize,
}

/// One variant's figures: its rate in each round.
#[derive(Clone, Debug)]
pub struct Figure {
    /// What was measured.
    pub variant: &'static str,
    /// Calls per second, per round.
    pub rates: Vec<f64>,
}

impl Figure {
    /// The median rate over the rounds.
    pub fn median(&self) -> f64 {
        let mut r = self.rates.clone();
        r.sort_by(f64::total_cmp);
        r.get(r.len() / 2).copied().unwrap_or(0.0)
    }
}

/// The variants, in the order they run in each round.
pub const VARIANTS: [&str; 3] = ["pick_first, 1 backend", "round_robin, 1 backend", "round_robin, N backends"];

/// Starts the backends, runs every variant `rounds` times, stops the backends.
///
/// # Errors
/// A backend that does not start, or a call that fails (the load is all or nothing).
pub fn run(cfg: &LbConfig) -> Result<Vec<Figure>, String> {
    let backends = (0..cfg.backends.max(2))
        .map(|_| ServerProc::start(&cfg.server_exe, Side::Aio, 1, None))
        .collect::<Result<Vec<_>, _>>()?;
    let hosts: Vec<String> = backends.iter().map(ServerProc::target).collect();
    let round_robin = ChannelOptions::default().lb_policy_name("round_robin".to_owned());
    let variants = [
        (hosts[0].clone(), ChannelOptions::default()),
        (format!("ipv4:{}", hosts[0]), round_robin.clone()),
        (format!("ipv4:{}", hosts.join(",")), round_robin),
    ];
    let spec = LoadSpec {
        kind: Kind::Unary,
        payload: 0,
        in_flight: cfg.in_flight.max(1),
        conns: 1,
        warmup: Duration::from_millis(300),
        duration: cfg.duration,
        max_calls: cfg.max_calls.max(1),
        batch: 1,
    };
    let mut figures: Vec<Figure> = VARIANTS
        .iter()
        .map(|v| Figure {
            variant: v,
            rates: Vec::new(),
        })
        .collect();
    for _ in 0..cfg.rounds.max(1) {
        for ((target, options), figure) in variants.iter().zip(&mut figures) {
            let outcome = load::aio::run_with(target, options.clone(), &spec);
            if outcome.failed > 0 {
                let first = outcome.first_error.unwrap_or_default();
                return Err(format!(
                    "{}: {} calls failed, the first with {first}",
                    figure.variant, outcome.failed
                ));
            }
            figure.rates.push(outcome.rate());
        }
    }
    Ok(figures)
}

/// The table: each variant's median rate and its ratio to the plain channel's.
pub fn table(cfg: &LbConfig, figures: &[Figure]) -> String {
    let base = figures.first().map(Figure::median).unwrap_or(0.0).max(1e-9);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "unary 0 B, {} in flight, one rpc-aio channel; rpc-aio servers, one process each ({} backends for N); {} rounds",
        cfg.in_flight,
        cfg.backends.max(2),
        cfg.rounds.max(1)
    );
    let _ = writeln!(out, "{:<26} {:>12} {:>10}  per round", "variant", "calls/s", "x plain");
    for f in figures {
        let rounds: Vec<String> = f.rates.iter().map(|r| format!("{:.1}k", r / 1000.0)).collect();
        let _ = writeln!(
            out,
            "{:<26} {:>11.1}k {:>10.2}  {}",
            f.variant,
            f.median() / 1000.0,
            f.median() / base,
            rounds.join(" ")
        );
    }
    out
}
