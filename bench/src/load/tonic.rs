//! The raw tonic client's load loops.

use super::{Kind, LoadSpec, Outcome, Tally};
use crate::raw::{Client, Payload, StreamRequest};
use std::sync::Arc;
use std::time::Instant;

/// Runs `spec` against `target` with raw tonic clients.
pub fn run(target: &str, spec: &LoadSpec) -> Outcome {
    let rt = super::runtime();
    rt.block_on(async {
        let mut clients = Vec::new();
        for _ in 0..spec.conns.max(1) {
            match Client::connect(target).await {
                Ok(c) => clients.push(c),
                Err(e) => {
                    let tally = Tally::new(spec);
                    tally.fail(format!("connect: {e}"));
                    return tally.outcome();
                }
            }
        }
        let tally = Arc::new(Tally::new(spec));
        let mut tasks = Vec::new();
        for i in 0..spec.in_flight.max(1) {
            let client = clients[i % clients.len()].clone();
            let tally = tally.clone();
            let spec = *spec;
            tasks.push(tokio::spawn(caller(client, tally, spec)));
        }
        for t in tasks {
            let _ = t.await;
        }
        Arc::try_unwrap(tally).ok().expect("callers done").outcome()
    })
}

async fn caller(mut client: Client, tally: Arc<Tally>, spec: LoadSpec) {
    let mut lat = Vec::new();
    let body = vec![0u8; spec.payload];
    while tally.go() {
        match spec.kind {
            Kind::Unary => {
                let s = Instant::now();
                match client.call(Payload { body: body.clone() }).await {
                    Ok(_) => tally.unary_done(s, &mut lat),
                    Err(e) => tally.fail(e),
                }
            }
            Kind::ServerStream => {
                let req = StreamRequest {
                    count: spec.batch(),
                    size: spec.payload as u32,
                };
                match client.stream_from(req).await {
                    Ok(mut stream) => read_all(&mut stream, &tally).await,
                    Err(e) => tally.fail(e),
                }
            }
            Kind::Bidi => {
                let batch = spec.batch() as usize;
                let body = body.clone();
                let requests = futures::stream::iter(std::iter::repeat_n((), batch).map(move |_| Payload { body: body.clone() }));
                match client.echo(requests).await {
                    Ok(mut stream) => read_all(&mut stream, &tally).await,
                    Err(e) => tally.fail(e),
                }
            }
        }
    }
    tally.latencies(lat);
}

/// Reads a response stream to its end, counting messages; stops (cancelling) when the window closes.
async fn read_all(stream: &mut tonic::Streaming<Payload>, tally: &Tally) {
    loop {
        match stream.message().await {
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
