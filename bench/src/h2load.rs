//! The independent load generator: h2load (Debian's nghttp2-client) posting a pre-encoded
//! gRPC request (5-byte prefix + protobuf) with `content-type: application/grpc` and
//! `te: trailers` to the unary method of each server.
//!
//! h2load counts an HTTP 200 as a success; a gRPC error also comes with 200 (its status is
//! in the trailers), so the figures confirm throughput, and the harness's own clients check
//! the statuses.

use crate::Side;
use crate::apt::which;
use serde::{Serialize, Serializer};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Finds h2load; if missing and `install`, tries `apt-get update` then
/// `apt-get install -y nghttp2-client`. The error says what failed.
pub fn ensure(install: bool) -> Result<PathBuf, String> {
    if let Some(p) = which("h2load") {
        return Ok(p);
    }
    if !install {
        return Err("h2load not installed (and --no-install)".into());
    }
    eprintln!("h2load missing: apt-get update && apt-get install -y nghttp2-client ...");
    crate::apt::install(&["nghttp2-client"])?;
    which("h2load").ok_or_else(|| "nghttp2-client installed but h2load not found".into())
}

/// A server h2load measures: one of the harness's own sides, or grpc-go, a peer outside
/// the project that only h2load drives. Ordered as listed (tonic, aio, sync, grpc-go); in
/// reports it is its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum H2Server {
    /// A `bench-server` side.
    Own(Side),
    /// The Go server of `bench/go/grpc_go_server` (see [`crate::grpc_go`]).
    GrpcGo,
}

impl H2Server {
    /// `tonic`, `aio`, `sync` or `grpc-go`.
    pub fn name(self) -> &'static str {
        match self {
            H2Server::Own(side) => side.name(),
            H2Server::GrpcGo => "grpc-go",
        }
    }
}

impl fmt::Display for H2Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for H2Server {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// The shape of one h2load cell: `conns` connections with `streams` concurrent streams each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct H2Load {
    /// Connections.
    pub conns: usize,
    /// Concurrent streams per connection.
    pub streams: usize,
}

impl H2Load {
    /// The cells run unless told otherwise: 1 connection x 64 streams (the unary 64x1c
    /// cell of the harness's own clients) and 1 x 100 (where PERF.md compares with grpc-go).
    pub const DEFAULT: [H2Load; 2] = [H2Load { conns: 1, streams: 64 }, H2Load { conns: 1, streams: 100 }];

    /// Parses `CxS` (e.g. `1x100`); both at least 1.
    pub fn parse(s: &str) -> Option<H2Load> {
        let (c, m) = s.trim().split_once(['x', 'X'])?;
        let load = H2Load {
            conns: c.trim().parse().ok()?,
            streams: m.trim().parse().ok()?,
        };
        (load.conns > 0 && load.streams > 0).then_some(load)
    }
}

impl fmt::Display for H2Load {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        write!(f, "{} connection{} x {} streams", self.conns, plural(self.conns), self.streams)
    }
}

/// One h2load run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct H2Result {
    /// Requests per second over the measured time.
    pub req_per_s: f64,
    /// Requests answered with a 2xx.
    pub succeeded: u64,
    /// Requests failed or errored.
    pub failed: u64,
    /// Mean time per request (µs), as h2load reports it.
    pub mean_us: f64,
}

/// Runs h2load against `target` for `duration` after `warmup`: `conns` connections,
/// `streams` concurrent streams each, one thread; `body` is the framed request file.
pub fn run(
    h2load: &Path,
    target: &str,
    body: &Path,
    conns: usize,
    streams: usize,
    warmup: Duration,
    duration: Duration,
) -> Result<H2Result, String> {
    let out = Command::new(h2load)
        .args(["-t", "1", "-c", &conns.to_string(), "-m", &streams.to_string()])
        .arg("-D")
        .arg(format!("{}ms", duration.as_millis().max(100)))
        .arg(format!("--warm-up-time={}ms", warmup.as_millis().max(100)))
        .arg("-d")
        .arg(body)
        .args(["-H", "content-type: application/grpc", "-H", "te: trailers"])
        .arg(format!("http://{target}{}", crate::CALL_PATH))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("h2load: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse(&text).ok_or_else(|| {
        format!(
            "h2load output not understood: {}",
            text.lines().take(5).collect::<Vec<_>>().join(" | ")
        )
    })
}

/// Parses h2load's summary.
pub fn parse(text: &str) -> Option<H2Result> {
    let mut r = H2Result::default();
    let finished = text.lines().find(|l| l.starts_with("finished in"))?;
    r.req_per_s = finished.split(',').nth(1)?.trim().strip_suffix("req/s")?.trim().parse().ok()?;
    let requests = text.lines().find(|l| l.starts_with("requests:"))?;
    for part in requests.trim_start_matches("requests:").split(',') {
        let mut words = part.split_whitespace();
        let (n, what) = (words.next()?.parse::<u64>().ok()?, words.next()?);
        match what {
            "succeeded" => r.succeeded = n,
            "failed" | "errored" | "timeout" => r.failed += n,
            _ => {}
        }
    }
    if let Some(line) = text.lines().find(|l| l.trim_start().starts_with("time for request:")) {
        r.mean_us = line.split_whitespace().nth(5).and_then(to_us).unwrap_or(0.0);
    }
    Some(r)
}

fn to_us(v: &str) -> Option<f64> {
    let (num, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => n,
        "ms" => n * 1e3,
        "s" => n * 1e6,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::{H2Load, H2Server};
    use crate::Side;

    #[test]
    fn parses_loads() {
        assert_eq!(H2Load::parse("1x100"), Some(H2Load { conns: 1, streams: 100 }));
        assert_eq!(H2Load::parse(" 4 X 16 "), Some(H2Load { conns: 4, streams: 16 }));
        assert_eq!(H2Load::parse("0x100"), None);
        assert_eq!(H2Load::parse("100"), None);
        assert_eq!(H2Load { conns: 1, streams: 100 }.to_string(), "1 connection x 100 streams");
    }

    #[test]
    fn servers_are_named_and_ordered() {
        let mut servers = [H2Server::GrpcGo, H2Server::Own(Side::Sync), H2Server::Own(Side::Tonic)];
        servers.sort();
        let names: Vec<&str> = servers.iter().map(|s| s.name()).collect();
        assert_eq!(names, ["tonic", "sync", "grpc-go"]);
        assert_eq!(serde_json::to_string(&H2Server::GrpcGo).unwrap(), "\"grpc-go\"");
    }

    #[test]
    fn parses_a_summary() {
        let text = "finished in 2.00s, 51234.50 req/s, 3.20MB/s\n\
requests: 102469 total, 102469 started, 102469 done, 102400 succeeded, 69 failed, 0 errored, 0 timeout\n\
                     min         max         mean         sd        +/- sd\n\
time for request:      101us     12.34ms      1.23ms       12us    90.00%\n";
        let r = super::parse(text).unwrap();
        assert_eq!(r.req_per_s, 51234.5);
        assert_eq!((r.succeeded, r.failed), (102400, 69));
        assert_eq!(r.mean_us, 1230.0);
    }
}
