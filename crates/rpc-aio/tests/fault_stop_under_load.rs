//! `stop(grace)` with several hundred calls in flight from several client processes: every
//! call ends (OK or a status, no hang), and the OK responses the clients saw are exactly
//! the RPCs whose handlers completed: nothing acknowledged is lost, nothing unfinished is
//! reported OK.
#![cfg(unix)]

mod child;

use child::{SLOW, spawn};
use rpc_aio::{RpcError, ServerOptions, ServicerContext, StatusCode};
use rpc_testkit::{Msg, bounded, eventually};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[test]
#[ignore = "not a test: the entry point of the child processes (see child/mod.rs)"]
fn child_process_entry() {
    child::run_role();
}

const CLIENTS: usize = 4;
const CALLS_EACH: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stop_with_grace_under_load_loses_nothing_and_invents_nothing() {
    let server = rpc_aio::server(ServerOptions::default());
    let completed = Arc::new(AtomicUsize::new(0));
    let c = completed.clone();
    // Each call works for 20..=1010 ms (by its number), unless cancelled first.
    server.add_method_handler(
        SLOW,
        rpc_aio::unary_unary_rpc_method_handler(move |m: Msg, ctx: ServicerContext| {
            let completed = c.clone();
            async move {
                let work = Duration::from_millis(20 + (m.n as u64 * 37) % 1000);
                // Cancellation first: a handler that was abandoned (the grace ended while
                // it worked) and wakes with its work also done must not count as completed.
                tokio::select! {
                    biased;
                    _ = ctx.on_cancel() => Err(RpcError::cancelled("cancelled by the stop")),
                    _ = tokio::time::sleep(work) => {
                        completed.fetch_add(1, Ordering::SeqCst);
                        Ok(Msg { text: "done".into(), ..m })
                    }
                }
            }
        }),
    );
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().await.unwrap();

    let mut clients: Vec<_> = (0..CLIENTS).map(|_| spawn(&format!("load-client {port} {CALLS_EACH}"))).collect();
    eventually("half the calls to be in flight", || {
        server.active_rpcs() >= CLIENTS * CALLS_EACH / 2
    })
    .await;
    let stopped = server.stop(Some(Duration::from_millis(400)));
    assert!(bounded(stopped.wait(Some(Duration::from_secs(10)))).await, "the stop finished");

    let (mut ok, mut failed) = (0, 0);
    for client in &mut clients {
        let line = tokio::task::block_in_place(|| client.wait_line("result "));
        let field = |name: &str| -> usize {
            let part = line.split(' ').find_map(|p| p.strip_prefix(name)).unwrap();
            part.parse().unwrap()
        };
        ok += field("ok=");
        failed += field("failed=");
        let codes = line.split(' ').find_map(|p| p.strip_prefix("codes=")).unwrap_or("");
        for code in codes.split(',').filter(|c| !c.is_empty()) {
            assert!(
                code == format!("{:?}", StatusCode::Unavailable) || code == format!("{:?}", StatusCode::Cancelled),
                "unexpected status {code} in {line}"
            );
        }
    }
    assert_eq!(ok + failed, CLIENTS * CALLS_EACH, "every call ended");
    assert_eq!(ok, completed.load(Ordering::SeqCst), "OK responses seen = handlers completed");
    assert!(ok > 0 && failed > 0, "the grace cut through the load: ok={ok} failed={failed}");
    assert_eq!(server.active_rpcs(), 0);
}
