//! A dynamic call's cost against the generated stub's: the same unary `bench.Bench/Call`
//! on one rpc-aio server in this process, called through the generated `BenchStub`,
//! through an rpc-dynamic `DynamicStub` with `DynamicMessage`s, and with JSON text, in
//! both faces (`bench-dynamic` prints the table; `cargo xtask bench-dynamic` runs it in
//! release). Variants take turns round by round so drift on a shared machine hits them
//! alike; each measurement is bounded in calls and in time.

use crate::pb::{BENCH_SERVICE, BenchStub, Payload};
use crate::servers::AsyncBench;
use crate::stats::Latency;
use prost_reflect::DynamicMessage;
use rpc_core::{ChannelOptions, RpcError, ServerOptions};
use rpc_dynamic::{DynamicStub, JsonOptions};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// What to measure.
#[derive(Clone, Copy, Debug)]
pub struct DynamicConfig {
    /// Calls per variant per round, at most.
    pub calls: usize,
    /// Time per variant per round, at most.
    pub duration: Duration,
    /// Rounds (variants alternate within each).
    pub rounds: usize,
    /// The request body's size in bytes.
    pub payload: usize,
}

impl Default for DynamicConfig {
    fn default() -> Self {
        DynamicConfig {
            calls: 20_000,
            duration: Duration::from_secs(2),
            rounds: 3,
            payload: 16,
        }
    }
}

/// One variant's figures over every round.
#[derive(Clone, Debug)]
pub struct Figure {
    /// `aio` or `sync`.
    pub face: &'static str,
    /// `generated`, `dynamic` (DynamicMessage) or `json` (proto3 JSON text).
    pub variant: &'static str,
    /// Calls made (all succeeded: a failure ends the run with an error).
    pub calls: u64,
    /// Calls per second over the time spent calling.
    pub rate: f64,
    /// Latency percentiles of one call, as seen by the caller.
    pub latency: Latency,
}

const VARIANTS: [&str; 3] = ["generated", "dynamic", "json"];
const METHOD: &str = "bench.Bench/Call";

/// Samples of one variant: call latencies in nanoseconds, and the time spent.
#[derive(Default)]
struct Samples {
    ns: Vec<u64>,
    spent: Duration,
}

impl Samples {
    fn figure(self, face: &'static str, variant: &'static str) -> Figure {
        let calls = self.ns.len() as u64;
        Figure {
            face,
            variant,
            calls,
            rate: calls as f64 / self.spent.as_secs_f64().max(1e-9),
            latency: Latency::from_ns(self.ns),
        }
    }
}

/// Runs `one` (one call) until `cfg` says stop, adding to `samples`.
fn measure_sync(cfg: &DynamicConfig, samples: &mut Samples, mut one: impl FnMut() -> Result<(), RpcError>) -> Result<(), String> {
    let start = Instant::now();
    for _ in 0..cfg.calls {
        let t = Instant::now();
        one().map_err(|e| format!("a call failed: {e}"))?;
        samples.ns.push(t.elapsed().as_nanos() as u64);
        if start.elapsed() >= cfg.duration {
            break;
        }
    }
    samples.spent += start.elapsed();
    Ok(())
}

/// Measures every variant in both faces against a server started here.
///
/// # Errors
/// A server or channel that cannot start, or any call that fails.
pub fn run(cfg: &DynamicConfig) -> Result<Vec<Figure>, String> {
    let text = |e: &dyn std::fmt::Display| e.to_string();
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| text(&e))?;
    let server = rpc_aio::server(ServerOptions::default());
    crate::pb::add_bench_servicer_to_server(AsyncBench, &server);
    let port = server.add_insecure_port("127.0.0.1:0").map_err(|e| text(&e))?;
    server_rt.block_on(server.start()).map_err(|e| text(&e))?;
    let target = format!("127.0.0.1:{port}");

    let pool = rpc_dynamic::decode_file_descriptor_set(BENCH_SERVICE.file_descriptor_set).map_err(|e| text(&e))?;
    let payload = Payload {
        body: vec![0u8; cfg.payload],
    };
    let dynamic_request = DynamicMessage::decode(
        pool.get_message_by_name("bench.Payload")
            .ok_or("bench.Payload is not in the pool")?,
        prost::Message::encode_to_vec(&payload).as_slice(),
    )
    .map_err(|e| text(&e))?;
    let json_request = rpc_dynamic::message_to_json(&dynamic_request, &JsonOptions::new().compact(true)).map_err(|e| text(&e))?;

    let mut figures = Vec::new();
    // The async face: one caller awaiting each call in turn.
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| text(&e))?;
    let aio: Result<[Samples; 3], String> = client_rt.block_on(async {
        let channel = rpc_aio::insecure_channel(&target, ChannelOptions::default()).map_err(|e| text(&e))?;
        let generated = BenchStub::new(channel.clone());
        let stub = DynamicStub::new(channel, pool.clone()).with_json_options(JsonOptions::new().compact(true));
        let dynamic = stub.unary_unary::<DynamicMessage, DynamicMessage>(METHOD).map_err(|e| text(&e))?;
        let json = stub.unary_unary::<String, String>(METHOD).map_err(|e| text(&e))?;
        let mut samples: [Samples; 3] = Default::default();
        for _ in 0..cfg.rounds {
            for (i, slot) in samples.iter_mut().enumerate() {
                let start = Instant::now();
                for _ in 0..cfg.calls {
                    let t = Instant::now();
                    let done = match i {
                        0 => generated.call(payload.clone()).await.map(drop),
                        1 => dynamic.call(dynamic_request.clone()).await.map(drop),
                        _ => json.call(json_request.clone()).await.map(drop),
                    };
                    done.map_err(|e| format!("a call failed: {e}"))?;
                    slot.ns.push(t.elapsed().as_nanos() as u64);
                    if start.elapsed() >= cfg.duration {
                        break;
                    }
                }
                slot.spent += start.elapsed();
            }
        }
        Ok(samples)
    });
    for (samples, variant) in aio?.into_iter().zip(VARIANTS) {
        figures.push(samples.figure("aio", variant));
    }

    // The blocking face, the same calls.
    let channel = rpc_sync::insecure_channel(&target, ChannelOptions::default()).map_err(|e| text(&e))?;
    let generated = BenchStub::new(channel.clone());
    let stub = rpc_dynamic::blocking::DynamicStub::new(channel, pool).with_json_options(JsonOptions::new().compact(true));
    let dynamic = stub.unary_unary::<DynamicMessage, DynamicMessage>(METHOD).map_err(|e| text(&e))?;
    let json = stub.unary_unary::<String, String>(METHOD).map_err(|e| text(&e))?;
    let mut samples: [Samples; 3] = Default::default();
    for _ in 0..cfg.rounds {
        measure_sync(cfg, &mut samples[0], || generated.call(payload.clone()).map(drop))?;
        measure_sync(cfg, &mut samples[1], || dynamic.call(dynamic_request.clone()).map(drop))?;
        measure_sync(cfg, &mut samples[2], || json.call(json_request.clone()).map(drop))?;
    }
    for (samples, variant) in samples.into_iter().zip(VARIANTS) {
        figures.push(samples.figure("sync", variant));
    }
    server_rt.block_on(server.stop(None));
    Ok(figures)
}

/// The figures as a table, with each variant's rate as a share of the generated stub's.
pub fn table(cfg: &DynamicConfig, figures: &[Figure]) -> String {
    let mut out = format!(
        "unary {METHOD}, {} B body, one caller, {} rounds of at most {} calls / {:.1} s per variant\n\n",
        cfg.payload,
        cfg.rounds,
        cfg.calls,
        cfg.duration.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "{:<5} {:<10} {:>8} {:>10} {:>9} {:>9} {:>9}",
        "face", "variant", "calls", "calls/s", "vs stub", "p50 us", "p99 us"
    );
    for f in figures {
        let base = figures
            .iter()
            .find(|g| g.face == f.face && g.variant == "generated")
            .map_or(f.rate, |g| g.rate);
        let _ = writeln!(
            out,
            "{:<5} {:<10} {:>8} {:>10.0} {:>9.2} {:>9.1} {:>9.1}",
            f.face,
            f.variant,
            f.calls,
            f.rate,
            f.rate / base.max(1e-9),
            f.latency.p50_us,
            f.latency.p99_us
        );
    }
    out
}
