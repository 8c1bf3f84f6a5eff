//! What only the async face's calls have (the both-faces behaviour of calls is in
//! `crates/testkit/tests/call_*.rs`): a stream read with `read()`, `add_done_callback`, and
//! a blocking request iterator that must not block the runtime, a split bidi call driven
//! from two tasks. Against the tonic peer.

use futures::StreamExt;
use rpc_aio::{ChannelOptions, StatusCode, WriteRequests, insecure_channel};
use rpc_testkit::{BIDI, CLIENT_STREAM, Msg, SERVER_STREAM, TonicPeer, UNARY, bounded, msg};

#[tokio::test]
async fn unary_stream_as_stream_and_with_read() {
    let server = TonicPeer::start();
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let mc = ch.unary_stream::<Msg, Msg>(SERVER_STREAM);
    let call = mc.call(Msg { n: 3, ..msg("") });
    let got: Vec<_> = bounded(call.map(|r| r.unwrap().n).collect::<Vec<_>>()).await;
    assert_eq!(got, vec![0, 1, 2]);

    let mut call = mc.call(Msg { n: 2, ..msg("") });
    assert_eq!(bounded(call.read()).await.unwrap().unwrap().n, 0);
    assert_eq!(bounded(call.read()).await.unwrap().unwrap().n, 1);
    assert!(bounded(call.read()).await.unwrap().is_none());
    assert_eq!(bounded(call.code()).await, StatusCode::Ok);
}

#[tokio::test]
async fn done_callback_runs() {
    let server = TonicPeer::start();
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let call = ch.unary_unary::<Msg, Msg>(UNARY).call(msg("x"));
    let (tx, rx) = tokio::sync::oneshot::channel();
    call.add_done_callback(move |d| {
        let _ = tx.send(d.code());
    });
    bounded(call).await.unwrap();
    assert_eq!(bounded(rx).await.unwrap(), StatusCode::Ok);
}

#[tokio::test]
async fn a_blocking_iterator_does_not_block_the_runtime() {
    // On this current-thread runtime, pulling the iterator on the runtime thread would
    // deadlock: its items come from a task on the same runtime.
    let server = TonicPeer::start();
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Msg>();
    let call = ch.stream_unary::<Msg, Msg>(CLIENT_STREAM).call(rx.into_iter());
    tokio::spawn(async move {
        for i in 0..3 {
            tx.send(msg(&i.to_string())).unwrap();
            tokio::task::yield_now().await;
        }
    });
    assert_eq!(bounded(call).await.unwrap().text, "0,1,2");
}

#[tokio::test]
async fn a_split_bidi_call_reads_in_one_task_while_another_writes() {
    // Full duplex in lockstep: the writer task sends message i only once the reading task
    // has received the echo of i - 1, so each read is outstanding while the next write
    // runs (with one task holding both halves, this order could not be driven).
    let server = TonicPeer::start();
    let ch = insecure_channel(&server.target(), ChannelOptions::default()).unwrap();
    let (mut sender, mut call) = ch.stream_stream::<Msg, Msg>(BIDI).call(WriteRequests).split();
    let (echoed, mut echoes) = tokio::sync::mpsc::channel::<()>(1);
    let writer = tokio::spawn(async move {
        for i in 0..20 {
            sender.write(msg(&i.to_string())).await.unwrap();
            if echoes.recv().await.is_none() {
                break;
            }
        }
        sender.done_writing().await.unwrap();
    });
    let mut got = Vec::new();
    while let Some(reply) = bounded(call.read()).await.unwrap() {
        got.push(reply.text);
        let _ = echoed.send(()).await;
    }
    bounded(writer).await.unwrap();
    let want: Vec<String> = (0..20).map(|i| format!("echo:{i}")).collect();
    assert_eq!(got, want);
    assert_eq!(bounded(call.code()).await, StatusCode::Ok);
}
