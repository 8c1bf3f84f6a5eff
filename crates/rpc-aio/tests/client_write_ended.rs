//! Writing to a request-streaming call whose RPC has ended, or cannot take a request: the
//! write fails with the call's status (no one has to read the call for it), the responses
//! that came first are still read, and a write held up by flow control fails at the
//! deadline.

use futures::StreamExt;
use rpc_aio::{
    ChannelOptions, Request, RequestStream, ResponseStream, RpcError, Server, ServerOptions, StatusCode, WriteRequests,
    stream_stream_rpc_method_handler, stream_unary_rpc_method_handler,
};
use std::time::Duration;

#[derive(Clone, PartialEq, prost::Message)]
struct Blob {
    #[prost(bytes = "vec", tag = "1")]
    data: Vec<u8>,
}

const GUARD: Duration = Duration::from_secs(20);
/// Enough writes to fill any buffer between the writer and a server that does not read.
const MAX_WRITES: usize = 10_000;

async fn server() -> (Server, rpc_aio::Channel) {
    let server = rpc_aio::server(ServerOptions::default());
    // Reads two requests, answers one response, then ends ABORTED (leaving the rest unread).
    server.add_method_handler(
        "/t.S/AbortAfterTwo",
        stream_stream_rpc_method_handler(|mut requests: RequestStream<Blob>, _ctx| async move {
            requests.message().await?;
            requests.message().await?;
            Ok(ResponseStream::new(futures::stream::iter([
                Ok(Blob { data: b"first".to_vec() }),
                Err(RpcError::aborted("two are enough")),
            ])))
        }),
    );
    // Never reads: its requests pile up until flow control stops the writer.
    server.add_method_handler(
        "/t.S/NeverRead",
        stream_unary_rpc_method_handler(|_requests: RequestStream<Blob>, ctx| async move {
            ctx.on_cancel().await;
            Ok(Blob::default())
        }),
    );
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().await.unwrap();
    let channel = rpc_aio::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();
    (server, channel)
}

/// Writes until a write fails; the number of writes that succeeded and the error.
async fn write_until_failure(call: &mut rpc_aio::StreamStreamCall<Blob, Blob>, size: usize) -> (usize, RpcError) {
    for n in 0..MAX_WRITES {
        if let Err(e) = call.write(Blob { data: vec![7; size] }).await {
            return (n, e);
        }
    }
    panic!("{MAX_WRITES} writes succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writing_to_an_unknown_method_fails_with_unimplemented_without_reading() {
    let (server, channel) = server().await;
    // Twice on one channel: the second call's answer may come before its first write.
    for _ in 0..2 {
        let mut call = channel.stream_stream::<Blob, Blob>("/t.S/Nope").call(WriteRequests);
        let (_, error) = tokio::time::timeout(GUARD, write_until_failure(&mut call, 8))
            .await
            .expect("the write fails");
        assert_eq!(error.code(), StatusCode::Unimplemented, "{error:?}");
        let read = call.next().await.expect("the status is read once");
        assert_eq!(read.unwrap_err().code(), StatusCode::Unimplemented);
        assert!(call.next().await.is_none());
    }
    server.stop(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_ends_the_call_early_fails_the_write_and_its_response_is_still_read() {
    let (server, channel) = server().await;
    let mut call = channel.stream_stream::<Blob, Blob>("/t.S/AbortAfterTwo").call(WriteRequests);
    let (written, error) = tokio::time::timeout(GUARD, write_until_failure(&mut call, 8))
        .await
        .expect("the write fails");
    assert!(written >= 2, "the two requests the server read were written ({written})");
    assert_eq!(error.code(), StatusCode::Aborted, "{error:?}");
    assert_eq!(error.details(), "two are enough");
    // What came before the status is not lost.
    assert_eq!(call.next().await.unwrap().unwrap().data, b"first");
    assert_eq!(call.next().await.unwrap().unwrap_err().code(), StatusCode::Aborted);
    assert!(call.next().await.is_none());
    server.stop(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_held_up_by_flow_control_fails_at_the_deadline() {
    let (server, channel) = server().await;
    let call = channel
        .stream_unary::<Blob, Blob>("/t.S/NeverRead")
        .call(Request::new(WriteRequests).timeout(Duration::from_millis(300)));
    let mut call = call;
    let written = tokio::time::timeout(GUARD, async {
        for n in 0..MAX_WRITES {
            if let Err(e) = call.write(Blob { data: vec![7; 64 * 1024] }).await {
                assert_eq!(e.code(), StatusCode::DeadlineExceeded, "{e:?}");
                return n;
            }
        }
        panic!("{MAX_WRITES} writes succeeded");
    })
    .await
    .expect("the write fails at the deadline");
    assert!(written < MAX_WRITES);
    assert_eq!(call.await.unwrap_err().code(), StatusCode::DeadlineExceeded);
    server.stop(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_writer_learns_the_status_its_reader_receives() {
    let (server, channel) = server().await;
    let call = channel.stream_stream::<Blob, Blob>("/t.S/AbortAfterTwo").call(WriteRequests);
    let (mut sender, mut call) = call.split();
    let writer = tokio::spawn(async move {
        for n in 0..MAX_WRITES {
            if let Err(e) = sender.write(Blob { data: vec![1; 8] }).await {
                return (n, e);
            }
        }
        panic!("{MAX_WRITES} writes succeeded");
    });
    let mut read = Vec::new();
    while let Some(item) = tokio::time::timeout(GUARD, call.next()).await.expect("the call ends") {
        read.push(item.map(|b| b.data));
    }
    let (_, error) = tokio::time::timeout(GUARD, writer).await.expect("the writer ends").unwrap();
    assert_eq!(error.code(), StatusCode::Aborted);
    assert_eq!(read.len(), 2);
    assert_eq!(read[0].as_deref().unwrap(), b"first");
    assert_eq!(read[1].as_ref().unwrap_err().code(), StatusCode::Aborted);
    server.stop(None).await;
}
