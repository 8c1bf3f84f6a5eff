//! The peer of the client tests: rpc-aio's plain tonic test server, run on a tokio runtime
//! of the test's own (the blocking client under test uses rpc-sync's private runtime).
#![allow(dead_code)]

#[path = "../../../rpc-aio/tests/common/mod.rs"]
pub mod common;

#[allow(unused_imports)]
pub use common::{BIDI, CLIENT_STREAM, Msg, SERVER_STREAM, Seen, UNARY, msg};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Hang guard for waits that must end; no test depends on it elapsing.
pub const GUARD: Duration = Duration::from_secs(20);

/// A test server and the runtime it runs on.
pub struct Peer {
    pub server: common::TestServer,
    pub runtime: tokio::runtime::Runtime,
}

impl Peer {
    /// Starts a server on 127.0.0.1 with a free port.
    pub fn start() -> Peer {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let server = runtime.block_on(common::start());
        Peer { server, runtime }
    }

    /// Starts a server on `port` (for servers that start late).
    pub fn start_on(port: u16) -> Peer {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let server = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
            common::serve_on(listener)
        });
        Peer { server, runtime }
    }

    pub fn target(&self) -> String {
        self.server.target()
    }

    pub fn seen(&self) -> &Arc<Seen> {
        &self.server.seen
    }

    pub fn channel(&self) -> rpc_sync::Channel {
        rpc_sync::insecure_channel(&self.target(), rpc_sync::ChannelOptions::default()).unwrap()
    }
}

/// A port nothing listens on.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Polls `condition` until it holds; panics (does not hang) after [`GUARD`].
pub fn eventually(what: &str, condition: impl Fn() -> bool) {
    let end = Instant::now() + GUARD;
    while !condition() {
        assert!(Instant::now() < end, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs `f` on a plain thread; fails (does not hang) after [`GUARD`].
pub fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(GUARD).expect("the call hung or its thread panicked")
}

/// Request metadata from pairs.
pub fn md(pairs: &[(&str, &str)]) -> rpc_sync::Metadata {
    rpc_sync::Metadata::from_pairs(pairs.iter().copied()).unwrap()
}
