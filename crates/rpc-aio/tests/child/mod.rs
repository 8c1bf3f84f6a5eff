//! Child processes for the fault tests: the test binary runs itself again (its ignored
//! `child_process_entry` test) with a role in `RPC_FAULT_CHILD`; the children are the
//! kit's [`Child`], killed when dropped, so a failing test leaves none behind.

use rpc_aio::{Request, ServerOptions};
use rpc_testkit::process::Child;
use rpc_testkit::{Msg, SERVER_STREAM, Style, aio_channel, msg};
use std::process::{Command, Stdio};
use std::time::Duration;

const ROLE: &str = "RPC_FAULT_CHILD";

/// The method the load clients call (registered by the stop-under-load test).
pub const SLOW: &str = "/test.Svc/Slow";

/// Starts this test binary again as a child in `role` (space-separated words).
pub fn spawn(role: &str) -> Child {
    Child::spawn(
        Command::new(std::env::current_exe().unwrap())
            .args(["child_process_entry", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env(ROLE, role)
            .stderr(Stdio::null()),
    )
}

/// Runs the role given in the environment, if any (the body of `child_process_entry`).
pub fn run_role() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let words: Vec<String> = role.split(' ').map(str::to_owned).collect();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let port: u16 = words[1].parse().unwrap();
        let target = format!("127.0.0.1:{port}");
        match words[0].as_str() {
            "server" => {
                let server = rpc_aio::server(ServerOptions::default());
                Style::Async.register(&server, &rpc_testkit::Probe::new());
                let port = server.add_insecure_port(&target).unwrap();
                server.start().await.unwrap();
                println!("listening on {port}");
                std::future::pending::<()>().await;
            }
            "stream-client" => {
                use futures::StreamExt;
                let ch = aio_channel(&target);
                let mut call = ch.unary_stream::<Msg, Msg>(SERVER_STREAM).call(Msg { n: -1, ..msg("") });
                let first = call.next().await.expect("a first message").expect("a first message");
                println!("streaming {}", first.n);
                std::future::pending::<()>().await;
            }
            "load-client" => {
                let calls: usize = words[2].parse().unwrap();
                let ch = aio_channel(&target);
                ch.channel_ready().await.unwrap();
                let slow = ch.unary_unary::<Msg, Msg>(SLOW);
                let all = (0..calls).map(|i| slow.call(Request::new(Msg { n: i as i32, ..msg("") }).timeout(Duration::from_secs(30))));
                let results = futures::future::join_all(all).await;
                let ok = results.iter().filter(|r| r.is_ok()).count();
                let mut codes: Vec<String> = results
                    .iter()
                    .filter_map(|r| r.as_ref().err())
                    .map(|e| format!("{:?}", e.code()))
                    .collect();
                codes.sort();
                codes.dedup();
                println!("result ok={ok} failed={} codes={}", calls - ok, codes.join(","));
            }
            other => panic!("unknown child role {other}"),
        }
    });
}
