//! One benchmark server in a process of its own: `bench-server <tonic|aio|sync> [--sync-workers N]`.
//!
//! Prints `port <N>` once listening on 127.0.0.1, then serves until its standard input
//! closes (so it never outlives the driver that started it) or it is killed.

use bench::Side;
use std::io::{Read, Write};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(side) = args.first().and_then(|s| Side::parse(s)) else {
        eprintln!("usage: bench-server <tonic|aio|sync> [--sync-workers N] [--port P]");
        std::process::exit(2);
    };
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
    };
    let workers = flag("--sync-workers").unwrap_or(bench::servers::DEFAULT_SYNC_WORKERS);
    let port: u16 = flag("--port").map(|p: usize| p as u16).unwrap_or(0);
    std::thread::spawn(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        std::process::exit(0);
    });
    let result = bench::servers::serve_forever(side, port, workers, |port| {
        let mut out = std::io::stdout();
        let _ = writeln!(out, "port {port}");
        let _ = out.flush();
    });
    if let Err(e) = result {
        eprintln!("bench-server {side}: {e}");
        std::process::exit(1);
    }
}
