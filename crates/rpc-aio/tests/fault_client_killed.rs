//! A client process killed in the middle of a server-streaming call: the handler sees the
//! cancellation promptly and the server releases the RPC (`active_rpcs()` back to 0).
#![cfg(unix)]

mod child;

use child::spawn;
use rpc_aio::{ServerCredentials, ServerOptions};
use rpc_testkit::{Style, assert_serving, eventually, serve_service};

#[test]
#[ignore = "not a test: the entry point of the child processes (see child/mod.rs)"]
fn child_process_entry() {
    child::run_role();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_client_cancels_its_handlers_and_releases_them() {
    let (server, port, counts) = serve_service(Style::Async, ServerOptions::default(), ServerCredentials::insecure()).await;
    for round in 0..2 {
        let mut client = spawn(&format!("stream-client {port}"));
        let first = tokio::task::block_in_place(|| client.wait_line("streaming"));
        assert_eq!(first, "0");
        assert_eq!(server.active_rpcs(), 1, "round {round}: the stream is in flight");
        let cancelled_before = counts.cancelled();
        client.kill();
        eventually(
            format!("round {round}: the handler to see the cancellation and release the RPC"),
            || server.active_rpcs() == 0 && counts.cancelled() > cancelled_before,
        )
        .await;
        assert_eq!(server.active_rpcs(), 0, "round {round}: the RPC was released");
        assert_eq!(counts.cancelled(), cancelled_before + 1, "round {round}");
    }
    assert_serving(port).await;
    server.stop(None).await;
}
