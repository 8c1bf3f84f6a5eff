//! The grpc-go server side, where Debian's Go packages are installed: it is built under the
//! test's temporary target dir, answers the raw tonic client's unary calls with status OK
//! and the payload echoed, and, when h2load is installed, answers h2load's requests.
//!
//! Without Go or grpc-go's sources the test passes after one line saying it skipped; it
//! never installs anything. Bounded: a few hundred calls, h2load for half a second.

use bench::Side;
use bench::load::{Kind, LoadSpec};
use bench::raw::{Client, Payload};
use std::time::Duration;

#[test]
fn grpc_go_server_echoes_the_unary_call() {
    let go = match bench::grpc_go::ensure(false) {
        Ok(go) => go,
        Err(why) => {
            eprintln!("grpc-go side test {why}");
            return;
        }
    };
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("grpc-go");
    let built = bench::grpc_go::build(&go, &dir).expect("the Go server builds");
    assert!(built.exe.starts_with(&dir), "built outside the build dir: {}", built.exe.display());
    let server = built.start(None).expect("the Go server starts");
    assert!(server.says.starts_with("grpc-go "), "announced {:?}", server.says);
    assert!(server.says.contains("GOMAXPROCS"), "announced {:?}", server.says);
    let target = server.target();

    // One call by hand: a real gRPC client sees status OK and its own payload back.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let echoed = rt.block_on(async {
        let mut client = Client::connect(&target).await.expect("connects");
        client
            .call(Payload {
                body: b"hello grpc-go".to_vec(),
            })
            .await
    });
    assert_eq!(echoed.expect("status OK").body, b"hello grpc-go");

    // The harness's own loop, bounded in calls and time.
    let spec = LoadSpec {
        kind: Kind::Unary,
        payload: 0,
        in_flight: 8,
        conns: 1,
        warmup: Duration::ZERO,
        duration: Duration::from_secs(5),
        max_calls: 300,
        batch: 1,
    };
    let outcome = bench::load::run(Side::Tonic, &target, &spec);
    assert_eq!(outcome.failed, 0, "{:?}", outcome.first_error);
    assert!(outcome.ok > 0);

    // h2load's request file, as the scenario posts it.
    if let Some(h2load) = bench::apt::which("h2load") {
        let body = dir.join("h2load-request-0B.bin");
        std::fs::write(&body, bench::raw::framed_request(0)).unwrap();
        let r = bench::h2load::run(
            &h2load,
            &target,
            &body,
            1,
            100,
            Duration::from_millis(100),
            Duration::from_millis(500),
        )
        .expect("h2load runs");
        assert!(r.succeeded > 0 && r.failed == 0, "{r:?}");
    } else {
        eprintln!("grpc-go side test: h2load not installed, its part skipped");
    }
}
