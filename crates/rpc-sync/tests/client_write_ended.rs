//! The blocking face of a write to a call that has ended or cannot take a request: the write
//! fails with the call's status without the call being read, and a write held up by flow
//! control fails at the deadline.

use rpc_sync::codegen::MethodHandler;
use rpc_sync::{
    ChannelOptions, Request, RequestIterator, ResponseIterator, RpcError, RpcMethodHandler, Server, ServerOptions, ServicerContext,
    StatusCode, WriteRequests,
};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, PartialEq, prost::Message)]
struct Blob {
    #[prost(bytes = "vec", tag = "1")]
    data: Vec<u8>,
}

const GUARD: Duration = Duration::from_secs(20);
const MAX_WRITES: usize = 10_000;

fn server() -> (Server, rpc_sync::Channel) {
    let server = rpc_sync::server(ServerOptions::default()).unwrap();
    server.add_method_handler(
        "/t.S/NeverRead",
        RpcMethodHandler::new(MethodHandler::BlockingStreamStream(Arc::new(
            |_requests: RequestIterator<Blob>, ctx: &ServicerContext| {
                ctx.wait_cancelled(GUARD);
                Ok(ResponseIterator::<Blob>::from_messages(Vec::new()))
            },
        ))),
    );
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().unwrap();
    let channel = rpc_sync::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();
    (server, channel)
}

fn write_until_failure(call: &mut rpc_sync::StreamStreamCall<Blob, Blob>, size: usize) -> RpcError {
    for _ in 0..MAX_WRITES {
        if let Err(e) = call.write(Blob { data: vec![7; size] }) {
            return e;
        }
    }
    panic!("{MAX_WRITES} writes succeeded");
}

#[test]
fn writing_to_an_unknown_method_fails_with_unimplemented_without_reading() {
    let (server, channel) = server();
    for _ in 0..2 {
        let mut call = channel
            .stream_stream::<Blob, Blob>("/t.S/Nope")
            .call(Request::new(WriteRequests).timeout(GUARD));
        assert_eq!(write_until_failure(&mut call, 8).code(), StatusCode::Unimplemented);
        assert_eq!(call.next().unwrap().unwrap_err().code(), StatusCode::Unimplemented);
        assert!(call.next().is_none());
    }
    server.stop(None).wait(Some(GUARD));
}

#[test]
fn a_write_held_up_by_flow_control_fails_at_the_deadline() {
    let (server, channel) = server();
    let mut call = channel
        .stream_stream::<Blob, Blob>("/t.S/NeverRead")
        .call(Request::new(WriteRequests).timeout(Duration::from_millis(300)));
    assert_eq!(write_until_failure(&mut call, 64 * 1024).code(), StatusCode::DeadlineExceeded);
    assert_eq!(call.code().unwrap(), StatusCode::DeadlineExceeded);
    server.stop(None).wait(Some(GUARD));
}
