//! The rpc-sync client's load loops: one OS thread per call in flight, blocking calls.

use super::{Kind, LoadSpec, Outcome, Tally};
use crate::pb::{BenchStub, Payload, StreamRequest};
use rpc_core::{ChannelOptions, RpcError};
use std::sync::Arc;
use std::time::Instant;

/// Runs `spec` against `target` with rpc-sync channels (call from a thread outside any runtime).
pub fn run(target: &str, spec: &LoadSpec) -> Outcome {
    let mut stubs = Vec::new();
    for _ in 0..spec.conns.max(1) {
        match rpc_sync::insecure_channel(target, ChannelOptions::default()) {
            Ok(c) => stubs.push(BenchStub::new(c)),
            Err(e) => {
                let tally = Tally::new(spec);
                tally.fail(format!("channel: {e}"));
                return tally.outcome();
            }
        }
    }
    // Connect every channel before the clock starts.
    for stub in &stubs {
        let _ = rpc_sync::channel_ready_future(stub.channel()).result(Some(std::time::Duration::from_secs(10)));
    }
    let tally = Arc::new(Tally::new(spec));
    let threads: Vec<_> = (0..spec.in_flight.max(1))
        .map(|i| {
            let stub = stubs[i % stubs.len()].clone();
            let tally = tally.clone();
            let spec = *spec;
            std::thread::Builder::new()
                .name(format!("bench-sync-{i}"))
                .stack_size(256 * 1024)
                .spawn(move || caller(stub, tally, spec))
                .expect("spawn a client thread")
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    for stub in &stubs {
        stub.channel().close(None);
    }
    Arc::try_unwrap(tally).ok().expect("callers done").outcome()
}

fn caller(stub: BenchStub<rpc_sync::Channel>, tally: Arc<Tally>, spec: LoadSpec) {
    let mut lat = Vec::new();
    let body = vec![0u8; spec.payload];
    while tally.go() {
        match spec.kind {
            Kind::Unary => {
                let s = Instant::now();
                match stub.call(Payload { body: body.clone() }) {
                    Ok(_) => tally.unary_done(s, &mut lat),
                    Err(e) => tally.fail(e),
                }
            }
            Kind::ServerStream => {
                read_all(
                    stub.stream_from(StreamRequest {
                        count: spec.batch(),
                        size: spec.payload as u32,
                    }),
                    &tally,
                );
            }
            Kind::Bidi => {
                let body = body.clone();
                let requests = std::iter::repeat_n((), spec.batch() as usize).map(move |_| Payload { body: body.clone() });
                read_all(stub.echo(requests), &tally);
            }
        }
    }
    tally.latencies(lat);
}

/// Iterates to the end, counting messages; stops (dropping the iterator cancels the call) when the window closes.
fn read_all(responses: impl Iterator<Item = Result<Payload, RpcError>>, tally: &Tally) {
    for r in responses {
        match r {
            Ok(_) => {
                let now = Instant::now();
                if tally.inside(now) {
                    tally.count(1);
                } else if now > tally.end {
                    return tally.ok();
                }
            }
            Err(e) => return tally.fail(e),
        }
    }
    tally.ok()
}
