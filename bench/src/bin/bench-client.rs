//! One benchmark client on its own, for profiling: `bench-client <tonic|aio|sync> <host:port>
//! [--kind unary|server-stream|bidi] [--calls N] [--in-flight K] [--conns C] [--payload B]`.
//!
//! Runs exactly `--calls` calls (default 10,000; at most 10 minutes) against a running
//! `bench-server` and prints what it counted. Bounded by count, so two runs under
//! `valgrind --tool=callgrind` with different counts give the instructions per call:
//!
//! ```text
//! bench-server aio &                      # prints `port N`
//! valgrind --tool=callgrind bench-client aio 127.0.0.1:N --calls 2000
//! ```

use bench::Side;
use bench::load::{Kind, LoadSpec};
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(side), Some(target)) = (args.first().and_then(|s| Side::parse(s)), args.get(1)) else {
        eprintln!(
            "usage: bench-client <tonic|aio|sync> <host:port> [--kind unary|server-stream|bidi] [--calls N] [--in-flight K] [--conns C] [--payload B]"
        );
        std::process::exit(2);
    };
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1));
    let number = |name: &str, default: u64| flag(name).and_then(|v| v.parse().ok()).unwrap_or(default);
    let kind = match flag("--kind").map(String::as_str) {
        None | Some("unary") => Kind::Unary,
        Some("server-stream") => Kind::ServerStream,
        Some("bidi") => Kind::Bidi,
        Some(other) => {
            eprintln!("unknown --kind {other}");
            std::process::exit(2);
        }
    };
    let payload = number("--payload", 0) as usize;
    let spec = LoadSpec {
        kind,
        payload,
        in_flight: number("--in-flight", 1) as usize,
        conns: number("--conns", 1) as usize,
        warmup: Duration::ZERO,
        duration: Duration::from_secs(600),
        max_calls: number("--calls", 10_000),
        batch: number("--batch", u64::from(LoadSpec::default_batch(payload))) as u32,
    };
    let out = bench::load::run(side, target, &spec);
    println!(
        "ok {} failed {} counted {} first_error {:?}",
        out.ok, out.failed, out.counted, out.first_error
    );
    if out.failed > 0 {
        std::process::exit(1);
    }
}
