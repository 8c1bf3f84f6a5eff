//! Smoke test of the harness: a few hundred calls per pair on loopback (debug build, every
//! scenario but h2load), every call must succeed and the report files must be written.
//! No timing is asserted: the machines are shared and noisy.

use bench::driver::{self, Config};
use bench::procs::Pinning;
use bench::{Pair, Side};
use std::time::Duration;

#[test]
fn every_pair_and_scenario_runs_and_reports() {
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-smoke");
    let _ = std::fs::remove_dir_all(&out);
    let pairs = ["tonic->tonic", "aio->aio", "sync->sync", "sync->aio", "aio->sync"];
    let cfg = Config {
        scenarios: ["unary", "server-stream", "bidi", "open-calls"].map(String::from).to_vec(),
        pairs: pairs.iter().map(|p| Pair::parse(p).unwrap()).collect(),
        unary_payloads: vec![16],
        stream_payloads: vec![1024],
        in_flight: vec![1, 8],
        conns: vec![1, 2],
        streams: 2,
        open_calls: vec![20],
        rounds: 1,
        warmup: Duration::ZERO,
        duration: Duration::from_secs(8),
        sync_workers: 32,
        install_h2load: false,
        h2load_loads: bench::h2load::H2Load::DEFAULT.to_vec(),
        grpc_go: false,
        install_go: false,
        go_build_dir: std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("grpc-go"),
        pin: false,
        progress: false,
        out_dir: out.clone(),
        server_exe: env!("CARGO_BIN_EXE_bench-server").into(),
        command: "smoke test".into(),
        max_calls: 100,
        stream_batch: Some(20),
        open_wait: Some(Duration::from_secs(10)),
    };
    let results = driver::run(&cfg, &Pinning::default()).expect("the harness runs");

    // ping-pong, 8x1c, 8x2c; server-stream; bidi: for each pair.
    assert_eq!(results.cells.len(), 5 * pairs.len());
    for cell in &results.cells {
        assert_eq!(cell.failed, 0, "{} {}: {:?}", cell.cell_name(), cell.pair, cell.first_error);
        assert!(cell.ok > 0, "{} {}: no call ended well", cell.cell_name(), cell.pair);
    }
    assert!(results.all_ok());
    let (n, rows) = &results.open[0];
    assert_eq!(*n, 20);
    let servers: Vec<Side> = rows.iter().map(|r| r.server).collect();
    assert_eq!(servers, Side::ALL.to_vec());
    for row in rows {
        assert_eq!(row.held.open, 20, "{}: {:?}", row.server, row.held);
        assert!(row.open_rss_kib > 0 && row.open_threads > 0);
    }

    let files = bench::report::write(&results, &out).expect("report written");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.contains("tonic->tonic") && text.contains("PERF.md targets"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&files[1]).unwrap()).unwrap();
    assert_eq!(json["results"]["cells"].as_array().unwrap().len(), results.cells.len());
    assert!(!json["ratios"].as_array().unwrap().is_empty());
    let svg = std::fs::read_to_string(&files[2]).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("sync-&gt;sync"), "not an SVG chart");
}

/// The dynamic-call bench: every variant of both faces makes its calls, all succeed, and
/// the table names each with its share of the generated stub's rate.
#[test]
fn the_dynamic_call_bench_runs_every_variant() {
    let cfg = bench::dynamic::DynamicConfig {
        calls: 50,
        duration: Duration::from_secs(5),
        rounds: 2,
        payload: 64,
    };
    let figures = bench::dynamic::run(&cfg).unwrap();
    let names: Vec<(&str, &str)> = figures.iter().map(|f| (f.face, f.variant)).collect();
    assert_eq!(
        names,
        [
            ("aio", "generated"),
            ("aio", "dynamic"),
            ("aio", "json"),
            ("sync", "generated"),
            ("sync", "dynamic"),
            ("sync", "json")
        ]
    );
    assert!(figures.iter().all(|f| f.calls > 0 && f.rate > 0.0), "{figures:?}");
    let table = bench::dynamic::table(&cfg, &figures);
    assert_eq!(
        table.lines().filter(|l| l.starts_with("aio ") || l.starts_with("sync ")).count(),
        6,
        "{table}"
    );
}

/// The load-balancing bench: each variant (a plain channel, round_robin over one backend
/// and over three backend processes) makes its calls, none fails, and the table gives
/// each a ratio to the plain channel.
#[test]
fn the_load_balancing_bench_runs_every_variant() {
    let cfg = bench::lb::LbConfig {
        server_exe: std::path::PathBuf::from(env!("CARGO_BIN_EXE_bench-server")),
        backends: 3,
        in_flight: 4,
        duration: Duration::from_millis(300),
        max_calls: 50_000,
        rounds: 2,
    };
    let figures = bench::lb::run(&cfg).unwrap();
    let names: Vec<&str> = figures.iter().map(|f| f.variant).collect();
    assert_eq!(names, bench::lb::VARIANTS);
    assert!(
        figures.iter().all(|f| f.rates.len() == 2 && f.rates.iter().all(|r| *r > 0.0)),
        "{figures:?}"
    );
    let table = bench::lb::table(&cfg, &figures);
    assert!(table.lines().filter(|l| l.contains("backend")).count() >= 3, "{table}");
}
