//! The rpc-aio client's load loops (generated stub, `.await`ed calls).

use super::{Kind, LoadSpec, Outcome, Tally};
use crate::pb::{BenchStub, Payload, StreamRequest};
use futures::{Stream, StreamExt};
use rpc_core::{ChannelOptions, RpcError};
use std::sync::Arc;
use std::time::Instant;

/// Runs `spec` against `target` with rpc-aio channels.
pub fn run(target: &str, spec: &LoadSpec) -> Outcome {
    run_with(target, ChannelOptions::default(), spec)
}

/// Runs `spec` against `target` with rpc-aio channels made with `options` (a policy, a
/// service config).
pub fn run_with(target: &str, options: ChannelOptions, spec: &LoadSpec) -> Outcome {
    let rt = super::runtime();
    rt.block_on(async {
        let mut stubs = Vec::new();
        for _ in 0..spec.conns.max(1) {
            match rpc_aio::insecure_channel(target, options.clone()) {
                Ok(c) => stubs.push(BenchStub::new(c)),
                Err(e) => {
                    let tally = Tally::new(spec);
                    tally.fail(format!("channel: {e}"));
                    return tally.outcome();
                }
            }
        }
        // Connect every channel before the clock starts (the other sides connect up front too).
        for stub in &stubs {
            let _ = stub.channel().channel_ready().await;
        }
        let tally = Arc::new(Tally::new(spec));
        let mut tasks = Vec::new();
        for i in 0..spec.in_flight.max(1) {
            let stub = stubs[i % stubs.len()].clone();
            tasks.push(tokio::spawn(caller(stub, tally.clone(), *spec)));
        }
        for t in tasks {
            let _ = t.await;
        }
        for stub in &stubs {
            stub.channel().close(None).await;
        }
        Arc::try_unwrap(tally).ok().expect("callers done").outcome()
    })
}

async fn caller(stub: BenchStub<rpc_aio::Channel>, tally: Arc<Tally>, spec: LoadSpec) {
    let mut lat = Vec::new();
    let body = vec![0u8; spec.payload];
    while tally.go() {
        match spec.kind {
            Kind::Unary => {
                let s = Instant::now();
                match stub.call(Payload { body: body.clone() }).await {
                    Ok(_) => tally.unary_done(s, &mut lat),
                    Err(e) => tally.fail(e),
                }
            }
            Kind::ServerStream => {
                let mut call = stub.stream_from(StreamRequest {
                    count: spec.batch(),
                    size: spec.payload as u32,
                });
                read_all(&mut call, &tally).await;
            }
            Kind::Bidi => {
                let batch = spec.batch() as usize;
                let body = body.clone();
                let requests = futures::stream::iter(std::iter::repeat_n((), batch).map(move |_| Payload { body: body.clone() }));
                let mut call = stub.echo(rpc_core::stream(requests));
                read_all(&mut call, &tally).await;
            }
        }
    }
    tally.latencies(lat);
}

/// Reads the call's responses to the end, counting messages; stops (dropping the call cancels it) when the window closes.
async fn read_all<S>(call: &mut S, tally: &Tally)
where
    S: Stream<Item = Result<Payload, RpcError>> + Unpin,
{
    loop {
        match call.next().await.transpose() {
            Ok(Some(_)) => {
                let now = Instant::now();
                if tally.inside(now) {
                    tally.count(1);
                } else if now > tally.end {
                    tally.ok();
                    return;
                }
            }
            Ok(None) => return tally.ok(),
            Err(e) => return tally.fail(e),
        }
    }
}
