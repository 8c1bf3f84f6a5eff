//! Soak: a bounded run of mixed calls (unary, server streaming, client streaming, and a
//! fresh channel every so often) against each server, the async one with the kit's async
//! servicer and the blocking one with its blocking servicer, with resident memory, open file
//! descriptors and threads sampled before and after; they must stay flat.
//!
//! Ignored in the normal suite (it takes minutes): run it with
//! `cargo test --release -p rpc-sync --test reliability_soak -- --ignored --nocapture`
//! (`RPC_SOAK_CALLS` sets the calls per server, 200000 by default).
#![cfg(target_os = "linux")]

use futures::StreamExt;
use rpc_sync::{RpcError, ServerOptions};
use rpc_testkit::{CLIENT_STREAM, Msg, Probe, SERVER_STREAM, Style, UNARY};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
struct Sample {
    rss_kib: u64,
    fds: usize,
    threads: u64,
}

fn sample() -> Sample {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| -> u64 {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    Sample {
        rss_kib: field("VmRSS:"),
        fds: std::fs::read_dir("/proc/self/fd").unwrap().count(),
        threads: field("Threads:"),
    }
}

/// `calls` mixed calls from 64 concurrent tasks; a new channel every 2000 calls per task.
async fn drive(port: u16, calls: usize) -> Result<(), RpcError> {
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let next = next.clone();
            tokio::spawn(async move {
                let target = format!("127.0.0.1:{port}");
                let mut ch = rpc_aio::insecure_channel(&target, Default::default())?;
                let mut mine = 0;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= calls {
                        return Ok::<_, RpcError>(());
                    }
                    mine += 1;
                    if mine % 2000 == 0 {
                        ch.close(None).await;
                        ch = rpc_aio::insecure_channel(&target, Default::default())?;
                    }
                    let request = rpc_aio::Request::new(Msg {
                        n: 5,
                        text: "soak".into(),
                        ..Msg::default()
                    })
                    .timeout(Duration::from_secs(30));
                    match i % 8 {
                        0 => {
                            let mut s = ch.unary_stream::<Msg, Msg>(SERVER_STREAM).call(request);
                            let mut got = 0;
                            while let Some(m) = s.next().await {
                                m?;
                                got += 1;
                            }
                            assert_eq!(got, 5);
                        }
                        1 => {
                            let msgs: Vec<Msg> = (0..5).map(|n| Msg { n, ..Msg::default() }).collect();
                            let reply = ch.stream_unary::<Msg, Msg>(CLIENT_STREAM).call(msgs).await?;
                            assert_eq!(reply.n, 5);
                        }
                        _ => {
                            ch.unary_unary::<Msg, Msg>(UNARY).call(request).await?;
                        }
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("a soak task panicked")?;
    }
    Ok(())
}

/// Waits past tokio's blocking-pool keep-alive (10 s): connecting to a host name resolves
/// it on a blocking thread, and those idle threads are not leaks.
fn settle() {
    std::thread::sleep(Duration::from_secs(11));
}

fn soak(name: &str, port: u16, rt: &tokio::runtime::Runtime, calls: usize) {
    rt.block_on(drive(port, 20_000)).unwrap(); // warm up: pools, caches, allocator arenas
    settle();
    let before = sample();
    let started = Instant::now();
    rt.block_on(drive(port, calls)).unwrap();
    let took = started.elapsed();
    settle();
    let after = sample();
    println!(
        "soak {name}: {calls} calls in {:.1} s ({:.0}/s); rss {} -> {} KiB, fds {} -> {}, threads {} -> {}",
        took.as_secs_f64(),
        calls as f64 / took.as_secs_f64(),
        before.rss_kib,
        after.rss_kib,
        before.fds,
        after.fds,
        before.threads,
        after.threads
    );
    assert!(
        after.rss_kib < before.rss_kib + 32 * 1024,
        "{name}: memory grew: {before:?} -> {after:?}"
    );
    assert!(
        after.fds <= before.fds + 4,
        "{name}: file descriptors leaked: {before:?} -> {after:?}"
    );
    assert!(
        after.threads <= before.threads + 2,
        "{name}: threads leaked: {before:?} -> {after:?}"
    );
}

#[test]
#[ignore = "minutes long: run with --ignored (see the module doc)"]
fn memory_fds_and_threads_stay_flat_over_a_long_run() {
    let calls: usize = std::env::var("RPC_SOAK_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(200_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();

    let aio = rpc_aio::server(ServerOptions::default());
    Style::Async.register(&aio, &Probe::new());
    let port = aio.add_insecure_port("127.0.0.1:0").unwrap();
    rt.block_on(aio.start()).unwrap();
    soak("rpc-aio server", port, &rt, calls);
    rt.block_on(aio.stop(None));

    // Room for the 64 concurrent calls: by default a small machine's pool would rightly
    // refuse some with RESOURCE_EXHAUSTED.
    let sync = rpc_sync::server(ServerOptions::default().max_workers(16).max_queued_rpcs(128)).unwrap();
    Style::Blocking.register(&sync, &Probe::new());
    let port = sync.add_insecure_port("127.0.0.1:0").unwrap();
    sync.start().unwrap();
    soak("rpc-sync server", port, &rt, calls);
    assert!(sync.stop(None).wait(Some(Duration::from_secs(10))));
}
