//! The open-calls scenario: N long-lived `Hold` calls (server streaming, one message at once,
//! then nothing) opened by raw tonic clients over several connections, held while the
//! server's memory and threads are read, then cancelled.

use crate::raw::Client;
use serde::Serialize;
use std::time::Duration;

/// How the calls went.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Held {
    /// Calls asked for.
    pub asked: usize,
    /// Connections used.
    pub conns: usize,
    /// Calls that got their first message (so are open and answered).
    pub open: usize,
    /// Calls that ended with an error (e.g. RESOURCE_EXHAUSTED).
    pub failed: usize,
    /// Calls neither open nor failed within the time allowed (e.g. queued behind busy workers).
    pub pending: usize,
    /// The first error seen.
    pub first_error: Option<String>,
}

/// Connections for `n` calls: at least 10, and at most 500 calls per connection (servers
/// allow 1024 streams per connection).
pub fn conns_for(n: usize) -> usize {
    n.div_ceil(500).max(10)
}

/// Connects, runs `idle` (measure the server with connections open and no call), opens `n`
/// Hold calls (waiting at most `wait` for their first messages), runs `held`, then cancels
/// every call and closes the connections.
pub fn hold_open<I, H>(target: &str, n: usize, wait: Duration, idle: impl FnOnce() -> I, held: impl FnOnce() -> H) -> (Held, I, H) {
    let conns = conns_for(n);
    let rt = super::runtime();
    rt.block_on(async {
        let mut clients = Vec::new();
        for _ in 0..conns {
            match Client::connect(target).await {
                Ok(mut c) => {
                    let _ = c.call(Default::default()).await;
                    clients.push(c);
                }
                Err(e) => {
                    let report = Held {
                        asked: n,
                        conns,
                        failed: n,
                        first_error: Some(format!("connect: {e}")),
                        ..Held::default()
                    };
                    return (report, idle(), held());
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let idle = idle();
        let mut tasks = Vec::with_capacity(n);
        for i in 0..n {
            let mut client = clients[i % conns].clone();
            tasks.push(tokio::spawn(async move {
                let mut stream = client.hold().await?;
                match stream.message().await? {
                    Some(_) => Ok(stream),
                    None => Err(tonic::Status::unknown("Hold ended at once")),
                }
            }));
        }
        let deadline = tokio::time::Instant::now() + wait;
        let mut report = Held {
            asked: n,
            conns,
            ..Held::default()
        };
        let mut streams = Vec::with_capacity(n);
        for task in tasks {
            match tokio::time::timeout_at(deadline, task).await {
                Ok(Ok(Ok(stream))) => {
                    report.open += 1;
                    streams.push(stream);
                }
                Ok(Ok(Err(status))) => {
                    report.failed += 1;
                    report
                        .first_error
                        .get_or_insert_with(|| format!("{:?}: {}", status.code(), status.message()));
                }
                Ok(Err(join)) => {
                    report.failed += 1;
                    report.first_error.get_or_insert_with(|| join.to_string());
                }
                Err(_) => {
                    report.pending += 1;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let held = held();
        drop(streams);
        drop(clients);
        (report, idle, held)
    })
}
