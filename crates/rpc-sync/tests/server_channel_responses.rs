//! A blocking streaming handler that returns a channel-backed response iterator
//! (`ResponseIterator::channel`) holds no worker while the client reads: its thread is free
//! as soon as it returns, the responses still arrive in order, and the sender learns when
//! the RPC has ended.

use rpc_sync::codegen::MethodHandler;
use rpc_sync::{ChannelOptions, ResponseIterator, RpcError, RpcMethodHandler, Server, ServerOptions, StatusCode};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, PartialEq, prost::Message)]
struct Num {
    #[prost(uint32, tag = "1")]
    n: u32,
}

const GUARD: Duration = Duration::from_secs(20);

/// A server with one worker and room for one queued RPC: `Count` streams numbers fed by a
/// thread of the test's, `Echo` answers at once; `feeders` receives each stream's sender.
fn server(feeders: mpsc::Sender<rpc_sync::ResponseSender<Num>>) -> (Server, String) {
    let server = Server::new(ServerOptions::default().max_workers(1).max_queued_rpcs(1)).unwrap();
    let feeders = Arc::new(Mutex::new(feeders));
    server.add_method_handler(
        "/t.S/Count",
        RpcMethodHandler::new(MethodHandler::BlockingUnaryStream(Arc::new(move |_req: Num, _ctx: &_| {
            let (tx, responses) = ResponseIterator::channel(4);
            let _ = feeders.lock().unwrap().send(tx);
            Ok(responses)
        }))),
    );
    server.add_method_handler(
        "/t.S/Echo",
        RpcMethodHandler::new(MethodHandler::BlockingUnaryUnary(Arc::new(|req: Num, _ctx: &_| Ok(req)))),
    );
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().unwrap();
    (server, format!("127.0.0.1:{port}"))
}

#[test]
fn a_channel_backed_stream_holds_no_worker_and_its_sender_learns_when_the_rpc_ends() {
    let (feeders_tx, feeders) = mpsc::channel();
    let (server, target) = server(feeders_tx);
    let channel = rpc_sync::insecure_channel(&target, ChannelOptions::default()).unwrap();

    // Two streams open at once on a server with a single worker: with the worker held by
    // the first, the second would wait in the queue for ever (and the unary call after it
    // would be refused).
    let count = channel.unary_stream::<Num, Num>("/t.S/Count");
    // One after the other, so that each sender is known to belong to its call.
    let mut first = count.call(Num { n: 0 });
    first.start();
    let tx1 = feeders.recv_timeout(GUARD).expect("the first handler ran");
    let mut second = count.call(Num { n: 0 });
    second.start();

    let tx2 = feeders
        .recv_timeout(GUARD)
        .expect("the second handler ran while the first stream was open");
    let echo = channel.unary_unary::<Num, Num>("/t.S/Echo");
    assert_eq!(echo.call(Num { n: 7 }).unwrap().n, 7, "the worker is free for other RPCs");

    let feeder = std::thread::spawn(move || {
        for n in 0..20 {
            tx1.send(Ok(Num { n })).unwrap();
        }
    });
    let got: Vec<u32> = first.by_ref().map(|r| r.unwrap().n).collect();
    feeder.join().unwrap();
    assert_eq!(got, (0..20).collect::<Vec<_>>());
    assert_eq!(first.code().unwrap(), StatusCode::Ok);

    // An error sent ends the RPC with it; once the client has gone, sends fail.
    tx2.send(Ok(Num { n: 1 })).unwrap();
    tx2.send(Err(RpcError::aborted("enough"))).unwrap();
    let items: Vec<_> = second.by_ref().collect();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1].as_ref().unwrap_err().code(), StatusCode::Aborted);
    let mut ended = false;
    for _ in 0..2000 {
        if tx2.send(Ok(Num { n: 2 })).is_err() {
            ended = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(ended, "the sender learns that the RPC ended");
    server.stop(None).wait(Some(GUARD));
}
