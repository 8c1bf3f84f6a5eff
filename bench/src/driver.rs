//! The driver: plans the cells (scenario x payload x in flight x connections), runs every
//! pair on each cell in turn (A B C A B C ...; the order rotates every round), then the
//! open-calls and h2load scenarios, and hands the results to [`crate::report`].

use crate::grpc_go::{self, GoServer};
use crate::h2load::{H2Load, H2Server};
use crate::load::open::Held;
use crate::load::{self, Kind, LoadSpec};
use crate::procs::{Pinning, ServerProc};
use crate::stats::{Latency, Spread};
use crate::{Pair, Side, h2load};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Everything a run needs.
#[derive(Clone, Debug, Serialize)]
pub struct Config {
    /// Scenario families to run: `unary`, `server-stream`, `bidi`, `open-calls`, `h2load`.
    pub scenarios: Vec<String>,
    /// Pairs to compare (tonic->tonic is always added: it is the yardstick).
    pub pairs: Vec<Pair>,
    /// Payload sizes for unary calls.
    pub unary_payloads: Vec<usize>,
    /// Payload sizes for streaming calls.
    pub stream_payloads: Vec<usize>,
    /// Calls in flight for unary throughput (1 is the ping-pong latency cell).
    pub in_flight: Vec<usize>,
    /// Connection counts for unary throughput.
    pub conns: Vec<usize>,
    /// Streams in flight for the streaming scenarios.
    pub streams: usize,
    /// Open-call counts.
    pub open_calls: Vec<usize>,
    /// Rounds per cell.
    pub rounds: usize,
    /// Warm-up before each measurement.
    pub warmup: Duration,
    /// Length of each measurement.
    pub duration: Duration,
    /// Worker threads of the rpc-sync server.
    pub sync_workers: usize,
    /// Install h2load with apt-get when missing.
    pub install_h2load: bool,
    /// The h2load cells (connections x streams), each run against every server side.
    pub h2load_loads: Vec<H2Load>,
    /// Add the grpc-go server to the h2load scenario when Go and grpc-go's sources are there.
    pub grpc_go: bool,
    /// apt-get install Go and grpc-go's sources when missing (else the side is skipped).
    pub install_go: bool,
    /// Where the Go server is built (its binary and Go's build cache), under the target dir.
    pub go_build_dir: PathBuf,
    /// Pin clients and servers to different CPUs.
    pub pin: bool,
    /// Show a progress bar.
    pub progress: bool,
    /// Where the report goes.
    pub out_dir: PathBuf,
    /// The `bench-server` binary.
    pub server_exe: PathBuf,
    /// The command line, for the report.
    pub command: String,
    /// At most this many calls per measurement.
    pub max_calls: u64,
    /// Messages per streaming call (default: about 16 MiB worth, 64 to 10,000).
    pub stream_batch: Option<u32>,
    /// How long open-calls waits for every call's first message (default: 10 s, or 2 ms a call if longer).
    pub open_wait: Option<Duration>,
}

/// A measured cell of one pair over the rounds.
#[derive(Clone, Debug, Serialize)]
pub struct CellResult {
    /// `unary`, `ping-pong`, `server-stream` or `bidi`.
    pub scenario: String,
    /// The load.
    pub spec: LoadSpec,
    /// Who called whom.
    pub pair: Pair,
    /// Calls or messages per second, per round.
    pub rates: Vec<f64>,
    /// Median and range of the rate.
    pub rate: Spread,
    /// Latency per round (unary only).
    pub latencies: Vec<Latency>,
    /// Median and range of p50 / p99 (µs).
    pub p50: Spread,
    /// 99th percentile over rounds.
    pub p99: Spread,
    /// 90th percentile over rounds.
    pub p90: Spread,
    /// Slowest call over rounds.
    pub max: Spread,
    /// Calls that ended well, all rounds.
    pub ok: u64,
    /// Calls that failed, all rounds.
    pub failed: u64,
    /// The first error.
    pub first_error: Option<String>,
}

impl CellResult {
    /// A short name of the cell, e.g. `unary 64x1c 0B`.
    pub fn cell_name(&self) -> String {
        cell_name(&self.scenario, &self.spec)
    }
}

/// The short name of a cell.
pub fn cell_name(scenario: &str, spec: &LoadSpec) -> String {
    let size = match spec.payload {
        0 => "0B".to_string(),
        n if n % 1024 == 0 => format!("{}KiB", n / 1024),
        n => format!("{n}B"),
    };
    match spec.kind {
        Kind::Unary if scenario == "ping-pong" => format!("ping-pong {size}"),
        Kind::Unary => format!("unary {}x{}c {size}", spec.in_flight, spec.conns),
        _ => format!("{scenario} {}s {size}", spec.in_flight),
    }
}

/// Open calls held against one server.
#[derive(Clone, Debug, Serialize)]
pub struct OpenResult {
    /// The server side.
    pub server: Side,
    /// How the calls went.
    pub held: Held,
    /// Server RSS (KiB) and threads with connections open and no call.
    pub idle_rss_kib: u64,
    /// Threads then.
    pub idle_threads: u64,
    /// Server RSS (KiB) with the calls open.
    pub open_rss_kib: u64,
    /// Threads then.
    pub open_threads: u64,
    /// (open - idle) / calls open, in KiB.
    pub kib_per_call: f64,
}

/// h2load against one server, over rounds.
#[derive(Clone, Debug, Serialize)]
pub struct H2Cell {
    /// The server side (`tonic`, `aio`, `sync` or `grpc-go`).
    pub server: H2Server,
    /// Connections.
    pub conns: usize,
    /// Streams per connection.
    pub streams: usize,
    /// Requests per second per round.
    pub rates: Vec<f64>,
    /// Median and range.
    pub rate: Spread,
    /// Failed requests, all rounds.
    pub failed: u64,
}

/// Everything a run measured.
#[derive(Clone, Debug, Serialize)]
pub struct Results {
    /// The configuration.
    pub config: Config,
    /// CPUs and model.
    pub machine: (usize, String),
    /// What pinning did.
    pub pinning: String,
    /// The cells.
    pub cells: Vec<CellResult>,
    /// The open-calls scenario.
    pub open: Vec<(usize, Vec<OpenResult>)>,
    /// h2load per server, or why it did not run.
    pub h2load: Result<Vec<H2Cell>, String>,
    /// What the h2load scenario should say besides its figures: the grpc-go side's versions
    /// and GOMAXPROCS, or why it was skipped.
    pub h2load_notes: Vec<String>,
    /// Seconds the run took.
    pub elapsed_s: f64,
}

impl H2Cell {
    /// The cell's shape.
    pub fn load(&self) -> H2Load {
        H2Load {
            conns: self.conns,
            streams: self.streams,
        }
    }
}

impl Results {
    /// Whether every call of every scenario succeeded (every open call held, too).
    pub fn all_ok(&self) -> bool {
        self.cells.iter().all(|c| c.failed == 0 && c.ok > 0)
            && self
                .open
                .iter()
                .flat_map(|(_, row)| row)
                .all(|o| o.held.failed == 0 && o.held.pending == 0)
    }
}

/// The cells the configuration asks for, in order.
pub fn plan(cfg: &Config) -> Vec<(String, LoadSpec)> {
    let has = |s: &str| cfg.scenarios.iter().any(|x| x == s);
    let spec = |kind, payload, in_flight, conns| LoadSpec {
        kind,
        payload,
        in_flight,
        conns,
        warmup: cfg.warmup,
        duration: cfg.duration,
        max_calls: cfg.max_calls,
        batch: cfg.stream_batch.unwrap_or(LoadSpec::default_batch(payload)),
    };
    let mut cells = Vec::new();
    if has("unary") {
        for &p in &cfg.unary_payloads {
            for &c in &cfg.conns {
                for &f in &cfg.in_flight {
                    if f < c {
                        continue;
                    }
                    let name = if f == 1 && c == 1 { "ping-pong" } else { "unary" };
                    cells.push((name.to_string(), spec(Kind::Unary, p, f, c)));
                }
            }
        }
    }
    for (name, kind) in [("server-stream", Kind::ServerStream), ("bidi", Kind::Bidi)] {
        if has(name) {
            for &p in &cfg.stream_payloads {
                cells.push((name.to_string(), spec(kind, p, cfg.streams, 1)));
            }
        }
    }
    cells
}

/// Runs everything; `servers` are started here (one process per server side).
pub fn run(cfg: &Config, pinning: &Pinning) -> Result<Results, String> {
    let started = std::time::Instant::now();
    let mut pairs = cfg.pairs.clone();
    if !pairs.contains(&Pair::BASELINE) {
        pairs.insert(0, Pair::BASELINE);
    }
    let cells = plan(cfg);
    let has = |s: &str| cfg.scenarios.iter().any(|x| x == s);
    let server_sides: Vec<Side> = {
        let mut s: Vec<Side> = pairs.iter().map(|p| p.server).collect();
        s.sort();
        s.dedup();
        s
    };
    let h2_prep = has("h2load").then(|| prepare_h2load(cfg));
    let open_steps = if has("open-calls") {
        cfg.open_calls.len() * server_sides.len()
    } else {
        0
    };
    let h2_steps = match &h2_prep {
        Some(H2Prep { h2load: Ok(_), go, .. }) => cfg.rounds * cfg.h2load_loads.len() * (server_sides.len() + go.is_some() as usize),
        _ => 0,
    };
    let total = (cells.len() * cfg.rounds * pairs.len() + open_steps + h2_steps) as u64;
    let bar = if cfg.progress {
        ProgressBar::new(total)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} eta {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );

    let mut results = Vec::new();
    if !cells.is_empty() {
        let mut servers = BTreeMap::new();
        for &side in &server_sides {
            servers.insert(
                side,
                ServerProc::start(&cfg.server_exe, side, cfg.sync_workers, pinning.server_cpu)?,
            );
        }
        for (scenario, spec) in &cells {
            let mut per_pair: BTreeMap<Pair, Vec<load::Outcome>> = BTreeMap::new();
            for round in 0..cfg.rounds {
                for i in 0..pairs.len() {
                    let pair = pairs[(i + round) % pairs.len()];
                    bar.set_message(format!("{} {} round {}", cell_name(scenario, spec), pair, round + 1));
                    let target = servers[&pair.server].target();
                    per_pair.entry(pair).or_default().push(load::run(pair.client, &target, spec));
                    bar.inc(1);
                }
            }
            for pair in &pairs {
                results.push(summarize(scenario, spec, *pair, per_pair.remove(pair).unwrap_or_default()));
            }
        }
    }

    let mut open = Vec::new();
    if has("open-calls") {
        crate::procs::raise_nofile(65_536);
        for &n in &cfg.open_calls {
            let mut row = Vec::new();
            for &side in &server_sides {
                bar.set_message(format!("open-calls {n} against {side}"));
                row.push(open_calls(cfg, pinning, side, n)?);
                bar.inc(1);
            }
            open.push((n, row));
        }
    }

    let (h2, h2load_notes) = match h2_prep {
        Some(prep) => {
            let mut notes = prep.notes;
            let h2 = match prep.h2load {
                Ok(exe) => run_h2load(cfg, pinning, &exe, &server_sides, prep.go.as_ref(), &mut notes, &bar),
                Err(e) => Err(e),
            };
            (h2, notes)
        }
        None => (Err("not asked for".into()), Vec::new()),
    };
    bar.finish_and_clear();
    Ok(Results {
        config: cfg.clone(),
        machine: crate::procs::machine(),
        pinning: pinning.note.clone(),
        cells: results,
        open,
        h2load: h2,
        h2load_notes,
        elapsed_s: started.elapsed().as_secs_f64(),
    })
}

fn summarize(scenario: &str, spec: &LoadSpec, pair: Pair, outcomes: Vec<load::Outcome>) -> CellResult {
    let rates: Vec<f64> = outcomes.iter().map(|o| o.rate()).collect();
    let latencies: Vec<Latency> = if spec.kind == Kind::Unary {
        outcomes.iter().map(|o| Latency::from_ns(o.latencies_ns.clone())).collect()
    } else {
        Vec::new()
    };
    let of = |f: fn(&Latency) -> f64| Spread::of(&latencies.iter().map(f).collect::<Vec<_>>());
    CellResult {
        scenario: scenario.to_string(),
        spec: *spec,
        pair,
        rate: Spread::of(&rates),
        rates,
        p50: of(|l| l.p50_us),
        p90: of(|l| l.p90_us),
        p99: of(|l| l.p99_us),
        max: of(|l| l.max_us),
        latencies,
        ok: outcomes.iter().map(|o| o.ok).sum(),
        failed: outcomes.iter().map(|o| o.failed).sum(),
        first_error: outcomes.iter().find_map(|o| o.first_error.clone()),
    }
}

fn open_calls(cfg: &Config, pinning: &Pinning, side: Side, n: usize) -> Result<OpenResult, String> {
    let server = ServerProc::start(&cfg.server_exe, side, cfg.sync_workers, pinning.server_cpu)?;
    let wait = cfg
        .open_wait
        .unwrap_or(Duration::from_secs(10).max(Duration::from_millis(n as u64 * 2)));
    let status = || server.status().unwrap_or((0, 0));
    let (held, (idle_rss, idle_threads), (open_rss, open_threads)) = load::open::hold_open(&server.target(), n, wait, status, status);
    let kib_per_call = if held.open > 0 {
        open_rss.saturating_sub(idle_rss) as f64 / held.open as f64
    } else {
        0.0
    };
    Ok(OpenResult {
        server: side,
        held,
        idle_rss_kib: idle_rss,
        idle_threads,
        open_rss_kib: open_rss,
        open_threads,
        kib_per_call,
    })
}

/// What the h2load scenario found before it runs: h2load itself, and the grpc-go server
/// if it is to join.
struct H2Prep {
    h2load: Result<PathBuf, String>,
    go: Option<GoServer>,
    notes: Vec<String>,
}

/// Finds (or installs) h2load, then finds and builds the grpc-go server if asked; a
/// grpc-go side that cannot be had is skipped with a note (printed at once too).
fn prepare_h2load(cfg: &Config) -> H2Prep {
    let h2load = h2load::ensure(cfg.install_h2load);
    let mut notes = Vec::new();
    let go = match (&h2load, cfg.grpc_go) {
        (Err(_), _) => None,
        (Ok(_), false) => {
            notes.push("grpc-go: not asked for (--no-grpc-go)".to_string());
            None
        }
        (Ok(_), true) => match grpc_go::prepare(cfg.install_go, &cfg.go_build_dir) {
            Ok(go) => {
                notes.push(format!(
                    "grpc-go: built with {} in GOPATH mode from {}",
                    go.toolchain,
                    grpc_go::DEBIAN_GOPATH
                ));
                Some(go)
            }
            Err(why) => {
                eprintln!("bench: grpc-go side {why}");
                notes.push(format!("grpc-go: {why}"));
                None
            }
        },
    };
    H2Prep { h2load, go, notes }
}

/// h2load against every server side (and grpc-go when built), each cell of
/// `cfg.h2load_loads` in turn, the servers rotating every round; 0-byte payload.
fn run_h2load(
    cfg: &Config,
    pinning: &Pinning,
    exe: &std::path::Path,
    sides: &[Side],
    go: Option<&GoServer>,
    notes: &mut Vec<String>,
    bar: &ProgressBar,
) -> Result<Vec<H2Cell>, String> {
    std::fs::create_dir_all(&cfg.out_dir).map_err(|e| e.to_string())?;
    let body = cfg.out_dir.join("h2load-request-0B.bin");
    std::fs::write(&body, crate::raw::framed_request(0)).map_err(|e| e.to_string())?;
    let mut servers = BTreeMap::new();
    for &side in sides {
        servers.insert(
            H2Server::Own(side),
            ServerProc::start(&cfg.server_exe, side, cfg.sync_workers, pinning.server_cpu)?,
        );
    }
    if let Some(go) = go {
        match go.start(pinning.server_cpu) {
            Ok(server) => {
                notes.push(format!("grpc-go server: {}", server.says));
                servers.insert(H2Server::GrpcGo, server);
            }
            Err(e) => {
                eprintln!("bench: grpc-go side skipped: {e}");
                notes.push(format!("grpc-go: skipped: {e}"));
                bar.inc((cfg.rounds * cfg.h2load_loads.len()) as u64);
            }
        }
    }
    let order: Vec<H2Server> = servers.keys().copied().collect();
    let mut cells = Vec::new();
    for &load in &cfg.h2load_loads {
        let mut rates: BTreeMap<H2Server, (Vec<f64>, u64)> = BTreeMap::new();
        for round in 0..cfg.rounds {
            for i in 0..order.len() {
                let server = order[(i + round) % order.len()];
                bar.set_message(format!(
                    "h2load {}x{} against {server} round {}",
                    load.conns,
                    load.streams,
                    round + 1
                ));
                let r = h2load::run(
                    exe,
                    &servers[&server].target(),
                    &body,
                    load.conns,
                    load.streams,
                    cfg.warmup,
                    cfg.duration,
                )?;
                let e = rates.entry(server).or_default();
                e.0.push(r.req_per_s);
                e.1 += r.failed;
                bar.inc(1);
            }
        }
        cells.extend(rates.into_iter().map(|(server, (rates, failed))| H2Cell {
            server,
            conns: load.conns,
            streams: load.streams,
            rate: Spread::of(&rates),
            rates,
            failed,
        }));
    }
    Ok(cells)
}
