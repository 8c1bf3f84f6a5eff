//! The report: a terminal table, a JSON file and an SVG chart under the output directory,
//! each facade pair as a ratio to raw tonic, checked against the targets of PERF.md.

use crate::driver::{CellResult, H2Cell, Results};
use crate::h2load::{H2Load, H2Server};
use crate::load::Kind;
use crate::{Pair, Side};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

mod chart;

/// A pair's figure relative to tonic->tonic on the same cell.
#[derive(Clone, Debug, Serialize)]
pub struct Ratio {
    /// The cell.
    pub cell: String,
    /// The pair.
    pub pair: Pair,
    /// Rate / tonic's rate.
    pub rate: f64,
    /// p50 / tonic's p50 (unary).
    pub p50: Option<f64>,
    /// p99 / tonic's p99 (unary).
    pub p99: Option<f64>,
    /// The PERF.md checks that apply, with their outcome.
    pub checks: Vec<Check>,
}

/// One target of PERF.md applied to one ratio.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// What is compared (`throughput`, `p50`, `p99`).
    pub what: &'static str,
    /// The ratio measured.
    pub ratio: f64,
    /// The limit: a floor for throughput, a ceiling for latency.
    pub limit: f64,
    /// Whether it is met.
    pub met: bool,
}

impl Check {
    fn floor(what: &'static str, ratio: f64, limit: f64) -> Check {
        Check {
            what,
            ratio,
            limit,
            met: ratio >= limit,
        }
    }
    fn ceiling(what: &'static str, ratio: f64, limit: f64) -> Check {
        Check {
            what,
            ratio,
            limit,
            met: ratio <= limit,
        }
    }

    /// `met` or `MISS by N%`.
    pub fn verdict(&self) -> String {
        if self.met {
            "met".into()
        } else {
            format!("MISS by {:.1}%", ((self.ratio - self.limit) / self.limit * 100.0).abs())
        }
    }
}

/// The PERF.md targets that apply to `pair` on `cell`: pairs with an rpc-sync end are held
/// to the rpc-sync targets (the weaker), pairs with only rpc-aio and tonic to the rpc-aio ones.
fn checks(cell: &CellResult, rate: f64, p50: Option<f64>, p99: Option<f64>) -> Vec<Check> {
    let pair = cell.pair;
    let mut out = Vec::new();
    if pair.client == Side::Sync || pair.server == Side::Sync {
        match cell.spec.kind {
            Kind::Unary if cell.spec.in_flight == 64 => out.push(Check::floor("throughput", rate, 0.85)),
            Kind::ServerStream | Kind::Bidi => out.push(Check::floor("throughput", rate, 0.90)),
            _ => {}
        }
        if cell.scenario == "ping-pong"
            && let Some(p50) = p50
        {
            out.push(Check::ceiling("p50", p50, 1.25));
        }
    } else {
        out.push(Check::floor("throughput", rate, 0.97));
        if let (Some(p50), Some(p99)) = (p50, p99) {
            out.push(Check::ceiling("p50", p50, 1.05));
            out.push(Check::ceiling("p99", p99, 1.05));
        }
    }
    out
}

/// Every non-baseline cell as ratios to the baseline.
pub fn ratios(results: &Results) -> Vec<Ratio> {
    let mut out = Vec::new();
    for cell in results.cells.iter().filter(|c| c.pair != Pair::BASELINE) {
        let name = cell.cell_name();
        let Some(base) = results.cells.iter().find(|c| c.pair == Pair::BASELINE && c.cell_name() == name) else {
            continue;
        };
        let div = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let rate = div(cell.rate.median, base.rate.median);
        let (p50, p99) = if cell.spec.kind == Kind::Unary {
            (
                Some(div(cell.p50.median, base.p50.median)),
                Some(div(cell.p99.median, base.p99.median)),
            )
        } else {
            (None, None)
        };
        out.push(Ratio {
            cell: name,
            pair: cell.pair,
            rate,
            p50,
            p99,
            checks: checks(cell, rate, p50, p99),
        });
    }
    out
}

/// A PERF.md target applied to two servers under the same h2load cell of one run.
#[derive(Clone, Debug, Serialize)]
pub struct H2Check {
    /// The h2load cell.
    pub load: H2Load,
    /// The server held to the target.
    pub server: H2Server,
    /// The server it is compared with.
    pub against: H2Server,
    /// Throughput of `server` / throughput of `against`, against the floor.
    pub check: Check,
}

/// The h2load targets of PERF.md that the run can check: the rpc-aio server at least 0.97
/// of raw tonic and at least matching grpc-go (the fastest peer), the rpc-sync server at
/// least 0.85 of raw tonic at 64 streams; each in every h2load cell where both servers ran.
pub fn h2load_checks(results: &Results) -> Vec<H2Check> {
    let Ok(cells) = &results.h2load else {
        return Vec::new();
    };
    let (tonic, aio, sync) = (H2Server::Own(Side::Tonic), H2Server::Own(Side::Aio), H2Server::Own(Side::Sync));
    let mut loads: Vec<H2Load> = cells.iter().map(H2Cell::load).collect();
    loads.dedup();
    let mut out = Vec::new();
    for load in loads {
        let rate = |server| {
            cells
                .iter()
                .find(|c| c.load() == load && c.server == server)
                .map(|c| c.rate.median)
                .filter(|r| *r > 0.0)
        };
        let mut targets = vec![(aio, tonic, 0.97), (aio, H2Server::GrpcGo, 1.0)];
        if load.streams == 64 {
            targets.push((sync, tonic, 0.85));
        }
        for (server, against, limit) in targets {
            if let (Some(a), Some(b)) = (rate(server), rate(against)) {
                out.push(H2Check {
                    load,
                    server,
                    against,
                    check: Check::floor("throughput", a / b, limit),
                });
            }
        }
    }
    out
}

fn human(rate: f64) -> String {
    if rate >= 1e6 {
        format!("{:.2}M", rate / 1e6)
    } else if rate >= 1e3 {
        format!("{:.1}k", rate / 1e3)
    } else {
        format!("{rate:.0}")
    }
}

/// The terminal table (also written to `report.txt`).
pub fn table(results: &Results) -> String {
    let ratios = ratios(results);
    let mut t = String::new();
    let (cpus, model) = &results.machine;
    let _ = writeln!(t, "machine: {cpus} CPUs, {model}");
    let _ = writeln!(t, "pinning: {}", results.pinning);
    let _ = writeln!(
        t,
        "rounds: {}, {:.1}s per measurement after {:.1}s warm-up; rpc-sync server pool: {} workers; run took {:.0}s",
        results.config.rounds,
        results.config.duration.as_secs_f64(),
        results.config.warmup.as_secs_f64(),
        results.config.sync_workers,
        results.elapsed_s
    );
    let _ = writeln!(
        t,
        "rate = calls/s (unary) or messages/s (streaming), median of rounds [min-max]; ratios are to tonic->tonic\n"
    );
    let _ = writeln!(
        t,
        "{:<24} {:<12} {:>9} {:>19} {:>8} {:>8} {:>8} {:>8} {:>6} {:>6} {:>6} {:>6}",
        "cell", "pair", "rate", "[min-max]", "p50 us", "p90 us", "p99 us", "max us", "xrate", "xp50", "xp99", "fails"
    );
    for c in &results.cells {
        let r = ratios.iter().find(|r| r.pair == c.pair && r.cell == c.cell_name());
        let f = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "-".into());
        let lat = |v: f64| {
            if c.spec.kind == Kind::Unary {
                format!("{v:.0}")
            } else {
                "-".into()
            }
        };
        let _ = writeln!(
            t,
            "{:<24} {:<12} {:>9} {:>19} {:>8} {:>8} {:>8} {:>8} {:>6} {:>6} {:>6} {:>6}",
            c.cell_name(),
            c.pair.label(),
            human(c.rate.median),
            format!("[{}-{}]", human(c.rate.min), human(c.rate.max)),
            lat(c.p50.median),
            lat(c.p90.median),
            lat(c.p99.median),
            lat(c.max.median),
            if c.pair == Pair::BASELINE {
                "1.00".into()
            } else {
                f(r.map(|r| r.rate))
            },
            f(r.and_then(|r| r.p50)),
            f(r.and_then(|r| r.p99)),
            c.failed
        );
    }
    for (n, rows) in &results.open {
        let _ = writeln!(t, "\nopen-calls: {n} long-lived streaming calls (raw tonic client), per server");
        let _ = writeln!(
            t,
            "{:<8} {:>6} {:>6} {:>7} {:>7} {:>11} {:>11} {:>10} {:>9} {:>9}",
            "server", "conns", "open", "failed", "pending", "idle RSS", "open RSS", "KiB/call", "thr idle", "thr open"
        );
        for o in rows {
            let _ = writeln!(
                t,
                "{:<8} {:>6} {:>6} {:>7} {:>7} {:>8}KiB {:>8}KiB {:>10.2} {:>9} {:>9}",
                o.server.name(),
                o.held.conns,
                o.held.open,
                o.held.failed,
                o.held.pending,
                o.idle_rss_kib,
                o.open_rss_kib,
                o.kib_per_call,
                o.idle_threads,
                o.open_threads
            );
            if let Some(e) = &o.held.first_error {
                let _ = writeln!(t, "         first error: {e}");
            }
        }
    }
    h2load_table(&mut t, results);
    let _ = writeln!(t, "\nPERF.md targets:");
    for r in &ratios {
        for c in &r.checks {
            let cmp = if c.what == "throughput" { ">=" } else { "<=" };
            let _ = writeln!(
                t,
                "  {:<24} {:<12} {:<10} {:.2} {cmp} {:.2}: {}",
                r.cell,
                r.pair.label(),
                c.what,
                c.ratio,
                c.limit,
                c.verdict()
            );
        }
    }
    let h2_checks = h2load_checks(results);
    for h in &h2_checks {
        let _ = writeln!(
            t,
            "  {:<24} {:<12} {:<10} {:.2} >= {:.2}: {}",
            format!("h2load {}x{} 0B", h.load.conns, h.load.streams),
            format!("{}/{}", h.server, h.against),
            h.check.what,
            h.check.ratio,
            h.check.limit,
            h.check.verdict()
        );
    }
    let all: Vec<&Check> = ratios
        .iter()
        .flat_map(|r| &r.checks)
        .chain(h2_checks.iter().map(|h| &h.check))
        .collect();
    let _ = writeln!(t, "  {} of {} checks met", all.iter().filter(|c| c.met).count(), all.len());
    t
}

/// The h2load section: per cell, every server's rate with its ratios to raw tonic and to
/// grpc-go (when it ran), then the notes (grpc-go's versions, or why it was skipped).
fn h2load_table(t: &mut String, results: &Results) {
    let cells = match &results.h2load {
        Ok(cells) => cells,
        Err(why) => {
            let _ = writeln!(t, "\nh2load: not run: {why}");
            return;
        }
    };
    let _ = writeln!(
        t,
        "\nh2load (independent client), unary 0B, servers pinned as above; ratios to tonic and to grpc-go in the same cell:"
    );
    let mut loads: Vec<H2Load> = cells.iter().map(H2Cell::load).collect();
    loads.dedup();
    for load in loads {
        let row: Vec<&H2Cell> = cells.iter().filter(|c| c.load() == load).collect();
        let rate_of = |server| row.iter().find(|c| c.server == server).map(|c| c.rate.median).unwrap_or(0.0);
        let (tonic, go) = (rate_of(H2Server::Own(Side::Tonic)), rate_of(H2Server::GrpcGo));
        let ratio = |a: f64, b: f64| if b > 0.0 { format!("{:.2}", a / b) } else { "-".into() };
        let _ = writeln!(t, "  {load}:");
        for c in row {
            let _ = writeln!(
                t,
                "    {:<8} {:>9} req/s {:>17}  x tonic {:>4}  x grpc-go {:>4}  failed {}",
                c.server.name(),
                human(c.rate.median),
                format!("[{}-{}]", human(c.rate.min), human(c.rate.max)),
                ratio(c.rate.median, tonic),
                ratio(c.rate.median, go),
                c.failed
            );
        }
    }
    for note in &results.h2load_notes {
        let _ = writeln!(t, "  {note}");
    }
}

/// Writes `report.txt`, `report.json` and `chart.svg` under `dir`; returns their paths.
pub fn write(results: &Results, dir: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let txt = dir.join("report.txt");
    std::fs::write(&txt, table(results)).map_err(|e| e.to_string())?;
    let json = dir.join("report.json");
    let doc = serde_json::json!({ "results": results, "ratios": ratios(results), "h2load_checks": h2load_checks(results) });
    std::fs::write(&json, serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let svg = dir.join("chart.svg");
    chart::draw(results, &ratios(results), &svg)?;
    Ok(vec![txt, json, svg])
}
