//! The benchmark driver (`cargo xtask bench` runs it): raw tonic, rpc-aio and rpc-sync side
//! by side, and grpc-go beside them under h2load; writes report.txt, report.json and
//! chart.svg under `--out` (target/bench).

use bench::driver::{self, Config};
use bench::h2load::H2Load;
use bench::{Pair, Side};
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// rpc vs raw tonic, side by side. Without options: the full run (long); `--quick`: about a minute.
#[derive(Parser, Debug)]
#[command(name = "bench", about)]
struct Args {
    /// A subset that takes about a minute (unary 0 B at 1 and 64 in flight, streaming 1 KiB,
    /// 1,000 open calls, h2load; 5 pairs, 2 rounds of 1 s). Other options still apply on top.
    #[arg(long)]
    quick: bool,
    /// Scenarios, comma-separated: unary (includes ping-pong), server-stream, bidi, open-calls, h2load, or all.
    #[arg(long, value_delimiter = ',')]
    scenario: Vec<String>,
    /// Pairs client->server, comma-separated (tonic->tonic is always added), `matched`, or `all`.
    #[arg(long, value_delimiter = ',')]
    pairs: Vec<String>,
    /// Seconds per measurement.
    #[arg(long)]
    duration: Option<f64>,
    /// Seconds of warm-up before each measurement.
    #[arg(long)]
    warmup: Option<f64>,
    /// Rounds (each pair measured this many times per cell, in turn).
    #[arg(long)]
    rounds: Option<usize>,
    /// Payload sizes in bytes, comma-separated (unary and streaming).
    #[arg(long, value_delimiter = ',')]
    payload: Vec<usize>,
    /// Unary calls in flight, comma-separated.
    #[arg(long, value_delimiter = ',')]
    in_flight: Vec<usize>,
    /// Connections for unary throughput, comma-separated.
    #[arg(long, value_delimiter = ',')]
    conns: Vec<usize>,
    /// Streams in flight in the streaming scenarios.
    #[arg(long)]
    streams: Option<usize>,
    /// Open-call counts, comma-separated.
    #[arg(long, value_delimiter = ',')]
    open_calls: Vec<usize>,
    /// Worker threads of the rpc-sync server.
    #[arg(long, default_value_t = bench::servers::DEFAULT_SYNC_WORKERS)]
    sync_workers: usize,
    /// At most this many calls per measurement.
    #[arg(long, default_value_t = 50_000_000)]
    max_calls: u64,
    /// Where the report goes.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
    /// Do not pin clients and servers to CPUs.
    #[arg(long)]
    no_pin: bool,
    /// Do not apt-get install h2load when it is missing.
    #[arg(long)]
    no_install: bool,
    /// h2load cells as CONNSxSTREAMS, comma-separated (default 1x64,1x100), each against every server.
    #[arg(long, value_delimiter = ',')]
    h2load: Vec<String>,
    /// apt-get install golang-go and golang-google-grpc-dev when missing, so grpc-go joins the
    /// h2load scenario (without it, grpc-go runs only if they are already installed).
    #[arg(long, conflicts_with = "no_grpc_go")]
    install_go: bool,
    /// Leave grpc-go out of the h2load scenario even when Go is installed.
    #[arg(long)]
    no_grpc_go: bool,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
}

fn pairs(spec: &[String], quick: bool) -> Result<Vec<Pair>, String> {
    let all: Vec<Pair> = Side::ALL
        .iter()
        .flat_map(|&c| Side::ALL.iter().map(move |&s| Pair { client: c, server: s }))
        .collect();
    let default: Vec<Pair> = ["tonic->tonic", "aio->aio", "sync->sync", "sync->aio", "aio->sync"]
        .iter()
        .filter_map(|s| Pair::parse(s))
        .collect();
    match spec {
        [] if quick => Ok(default),
        [] => Ok(all),
        [one] if one == "all" => Ok(all),
        [one] if one == "matched" => Ok(Side::ALL.iter().map(|&s| Pair { client: s, server: s }).collect()),
        [one] if one == "default" => Ok(default),
        list => list
            .iter()
            .map(|s| Pair::parse(s).ok_or_else(|| format!("bad pair {s:?} (want client->server)")))
            .collect(),
    }
}

fn config(a: &Args) -> Result<Config, String> {
    let q = a.quick;
    let or = |v: &Vec<usize>, quick: &[usize], full: &[usize]| {
        if v.is_empty() {
            if q { quick.to_vec() } else { full.to_vec() }
        } else {
            v.clone()
        }
    };
    let all_scenarios = ["unary", "server-stream", "bidi", "open-calls", "h2load"];
    let scenarios: Vec<String> = if a.scenario.is_empty() || a.scenario.iter().any(|s| s == "all") {
        all_scenarios.iter().map(|s| s.to_string()).collect()
    } else {
        for s in &a.scenario {
            if !all_scenarios.contains(&s.as_str()) {
                return Err(format!("unknown scenario {s:?}; one of {all_scenarios:?}"));
            }
        }
        a.scenario.clone()
    };
    let h2load_loads = if a.h2load.is_empty() {
        H2Load::DEFAULT.to_vec()
    } else {
        a.h2load
            .iter()
            .map(|s| H2Load::parse(s).ok_or_else(|| format!("bad h2load cell {s:?} (want CONNSxSTREAMS, e.g. 1x100)")))
            .collect::<Result<_, _>>()?
    };
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // target/release/bench -> target/release/grpc-go: under the target dir, beside the driver.
    let go_build_dir = exe.parent().map(|d| d.join("grpc-go")).ok_or("the driver has no directory")?;
    Ok(Config {
        scenarios,
        pairs: pairs(&a.pairs, q)?,
        unary_payloads: or(&a.payload, &[0], &[0, 1024, 65536]),
        stream_payloads: or(&a.payload, &[1024], &[0, 1024, 65536]),
        in_flight: or(&a.in_flight, &[1, 64], &[1, 16, 64, 256]),
        conns: or(&a.conns, &[1], &[1, 4]),
        streams: a.streams.unwrap_or(1),
        open_calls: or(&a.open_calls, &[1000], &[1000, 10_000]),
        rounds: a.rounds.unwrap_or(if q { 2 } else { 3 }).max(1),
        warmup: Duration::from_secs_f64(a.warmup.unwrap_or(if q { 0.2 } else { 0.5 })),
        duration: Duration::from_secs_f64(a.duration.unwrap_or(if q { 1.0 } else { 2.0 })),
        sync_workers: a.sync_workers,
        install_h2load: !a.no_install,
        h2load_loads,
        grpc_go: !a.no_grpc_go,
        install_go: a.install_go,
        go_build_dir,
        pin: !a.no_pin,
        progress: !a.no_progress,
        out_dir: a.out.clone(),
        server_exe: exe.with_file_name("bench-server"),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        max_calls: a.max_calls,
        stream_batch: None,
        open_wait: None,
    })
}

fn main() -> ExitCode {
    let args = Args::parse();
    let cfg = match config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::from(2);
        }
    };
    let pinning = bench::procs::pin_driver(cfg.pin);
    eprintln!("bench: {}", pinning.note);
    let results = match driver::run(&cfg, &pinning) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", bench::report::table(&results));
    match bench::report::write(&results, &cfg.out_dir) {
        Ok(files) => {
            for f in files {
                println!("wrote {}", f.display());
            }
        }
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::FAILURE;
        }
    }
    if !results.all_ok() {
        eprintln!("bench: some calls failed (see the fails column)");
    }
    ExitCode::SUCCESS
}
