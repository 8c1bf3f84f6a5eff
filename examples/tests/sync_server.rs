//! rpc-sync server behaviour that only the blocking face has: the bounded worker pool,
//! stop with every worker stuck, `wait_for_termination` from many threads, and many
//! blocking clients at once.

use examples::pb::helloworld::{GreeterServicer, GreeterStub, HelloReply, HelloRequest, add_greeter_servicer_to_server};
use rpc_core::{ChannelOptions, Request, RpcError, ServerOptions, ServicerContext, StatusCode};
use rpc_testkit::eventually;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// A greeter whose handlers block until released (ignoring cancellation, like a stuck
/// worker; bounded, so a failing test leaves no thread behind for ever).
#[derive(Default, Clone)]
struct Gate {
    release: Arc<AtomicBool>,
    started: Arc<AtomicUsize>,
}

impl GreeterServicer for Gate {
    fn say_hello(&self, request: HelloRequest, _context: &ServicerContext) -> Result<HelloReply, RpcError> {
        self.started.fetch_add(1, Ordering::SeqCst);
        eventually("the test to release the handler", || self.release.load(Ordering::SeqCst)).wait();
        Ok(HelloReply { message: request.name })
    }
}

fn serve(options: ServerOptions, gate: &Gate) -> (rpc_sync::Server, rpc_sync::Channel) {
    let server = rpc_sync::server(options).unwrap();
    add_greeter_servicer_to_server(gate.clone(), &server);
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().unwrap();
    let channel = rpc_sync::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();
    (server, channel)
}

fn call_in_background(channel: &rpc_sync::Channel, name: &str) -> std::thread::JoinHandle<Result<HelloReply, RpcError>> {
    let stub = GreeterStub::new(channel.clone());
    let request = Request::new(HelloRequest { name: name.to_owned() }).timeout(Duration::from_secs(60));
    std::thread::spawn(move || stub.say_hello(request))
}

#[test]
fn full_pool_and_queue_answer_resource_exhausted_at_once() {
    let gate = Gate::default();
    let (server, channel) = serve(ServerOptions::default().max_workers(1).max_queued_rpcs(1), &gate);
    let running = call_in_background(&channel, "running");
    eventually("the first call to occupy the only worker", || {
        gate.started.load(Ordering::SeqCst) == 1
    })
    .wait();
    let queued = call_in_background(&channel, "queued");
    eventually("the queued call to be active beside the running one", || server.active_rpcs() == 2).wait();
    let stub = GreeterStub::new(channel.clone());
    let err = stub
        .say_hello(Request::new(HelloRequest { name: "third".into() }).timeout(Duration::from_secs(10)))
        .unwrap_err();
    assert_eq!(err.code(), StatusCode::ResourceExhausted, "{err}");
    gate.release.store(true, Ordering::SeqCst);
    assert_eq!(running.join().unwrap().unwrap().message, "running");
    assert_eq!(queued.join().unwrap().unwrap().message, "queued");
    server.stop(None).wait(None);
}

#[test]
fn stop_terminates_with_every_worker_stuck() {
    let gate = Gate::default();
    let (server, channel) = serve(ServerOptions::default().max_workers(2).max_queued_rpcs(2), &gate);
    let calls: Vec<_> = (0..2).map(|i| call_in_background(&channel, &format!("stuck {i}"))).collect();
    eventually("both workers to be stuck", || gate.started.load(Ordering::SeqCst) == 2).wait();
    let stop = server.stop(Some(Duration::from_millis(200)));
    assert!(stop.wait(Some(Duration::from_secs(30))), "stop hung behind stuck workers");
    assert!(server.is_terminated());
    for call in calls {
        let err = call.join().unwrap().unwrap_err();
        assert_ne!(err.code(), StatusCode::Ok);
    }
    gate.release.store(true, Ordering::SeqCst);
}

#[test]
fn wait_for_termination_times_out_then_sees_stop_from_many_threads() {
    let gate = Gate::default();
    let (server, _channel) = serve(ServerOptions::default(), &gate);
    assert!(!server.wait_for_termination(Some(Duration::from_millis(50))).unwrap());
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let server = server.clone();
            std::thread::spawn(move || server.wait_for_termination(Some(Duration::from_secs(30))))
        })
        .collect();
    server.stop(None);
    for w in waiters {
        assert!(w.join().unwrap().unwrap(), "a waiter missed the stop");
    }
    // A stop that happened before the call is not missed.
    assert!(server.wait_for_termination(Some(Duration::from_secs(5))).unwrap());
    assert!(
        server.stop(Some(Duration::from_secs(5))).wait(Some(Duration::from_secs(5))),
        "stop on a stopped server completes"
    );
}

#[test]
fn start_twice_is_an_error() {
    let gate = Gate::default();
    let (server, _channel) = serve(ServerOptions::default(), &gate);
    assert!(server.start().is_err());
    server.stop(None).wait(None);
}

#[test]
fn two_hundred_blocking_clients_on_threads() {
    let gate = Gate::default();
    gate.release.store(true, Ordering::SeqCst);
    let (server, channel) = serve(ServerOptions::default(), &gate);
    let threads: Vec<_> = (0..200)
        .map(|i| {
            let stub = GreeterStub::new(channel.clone());
            std::thread::spawn(move || {
                for j in 0..3 {
                    let name = format!("{i}-{j}");
                    let reply = stub.say_hello(Request::new(HelloRequest { name: name.clone() }).timeout(Duration::from_secs(60)))?;
                    assert_eq!(reply.message, name);
                }
                Ok::<_, RpcError>(())
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
    server.stop(None).wait(None);
}
