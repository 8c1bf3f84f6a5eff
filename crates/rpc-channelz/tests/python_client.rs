//! gRPC Python's channelz stubs (`grpcio-channelz` from PyPI) read our channelz service:
//! GetTopChannels, GetServers and GetServerSockets show the calls this test made, with
//! the counts it expects. Skipped (saying why) on a machine that cannot make venvs, unless
//! RPC_TEST_REQUIRE_PEERS is set (CI), where that fails.

use rpc_channelz::{ChannelzServicer, add_channelz_servicer_to_server};
use rpc_core::{Request, ServerOptions, StatusCode};
use rpc_testkit::{AioFace, Face, FaceServer, Peer, Style, md, msg};
use std::process::Command;

const N: usize = 4;
const M: usize = 3;

/// Finds our channel by target and the backend by the port its connection is on, and
/// prints what channelz says about them, one line each.
const SCRIPT: &str = r#"
import sys, grpc
from grpc_channelz.v1 import channelz_pb2 as pb, channelz_pb2_grpc as pb_grpc
channelz, target, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
with grpc.insecure_channel(channelz) as ch:
    stub = pb_grpc.ChannelzStub(ch)
    start, mine = 0, []
    while True:
        page = stub.GetTopChannels(pb.GetTopChannelsRequest(start_channel_id=start, max_results=2), timeout=20)
        mine += [c for c in page.channel if c.data.target == target]
        if page.end:
            break
        start = page.channel[-1].ref.channel_id + 1
    for c in mine:
        d = c.data
        print("channel", d.calls_started, d.calls_succeeded, d.calls_failed,
              pb.ChannelConnectivityState.State.Name(d.state.state), len(c.subchannel_ref))
    for s in stub.GetServers(pb.GetServersRequest(), timeout=20).server:
        try:
            refs = stub.GetServerSockets(pb.GetServerSocketsRequest(server_id=s.ref.server_id), timeout=20).socket_ref
        except grpc.RpcError:
            continue
        for r in refs:
            sock = stub.GetSocket(pb.GetSocketRequest(socket_id=r.socket_id), timeout=20).socket
            if sock.local.tcpip_address.port == port:
                d = s.data
                print("server", d.calls_started, d.calls_succeeded, d.calls_failed)
                d = sock.data
                print("socket", d.streams_started, d.streams_succeeded, d.streams_failed)
    try:
        stub.GetChannel(pb.GetChannelRequest(channel_id=2**62), timeout=20)
        print("unknown channel found")
    except grpc.RpcError as e:
        print("unknown", e.code().name)
"#;

#[test]
fn grpc_python_reads_the_counts() {
    let Some(venv) = rpc_testkit::python::venv(
        env!("CARGO_TARGET_TMPDIR"),
        "channelz-venv",
        &["grpcio", "grpcio-channelz"],
        |v| v.imports("grpc, grpc_channelz.v1.channelz_pb2_grpc"),
        "the gRPC Python channelz client test",
    ) else {
        return;
    };
    let face = AioFace::new();
    let backend = face.serve(Style::Blocking);
    let target = backend.target();
    let channel = face.channel(&target);
    for _ in 0..N {
        assert_eq!(face.unary(&channel, Request::new(msg("ok"))).code, StatusCode::Ok);
    }
    for _ in 0..M {
        let failed = face.unary(&channel, Request::new(msg("no")).metadata(md(&[("x-fail", "14")])));
        assert_eq!(failed.code, StatusCode::Unavailable);
    }

    let channelz = rpc_sync::server(ServerOptions::default()).unwrap();
    add_channelz_servicer_to_server(ChannelzServicer::new(), &channelz);
    let port = channelz.add_insecure_port("127.0.0.1:0").unwrap();
    channelz.start().unwrap();

    let out = Command::new("timeout")
        .arg("120")
        .arg(venv.python())
        .args(["-c", SCRIPT, &format!("127.0.0.1:{port}"), &target, &backend.port().to_string()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    let (all, ok, failed) = (N + M, N, M);
    assert_eq!(
        lines,
        [
            format!("channel {all} {ok} {failed} READY 1"),
            format!("server {all} {ok} {failed}"),
            format!("socket {all} {ok} {failed}"),
            "unknown NOT_FOUND".to_owned(),
        ],
        "what gRPC Python read"
    );
    drop(channel);
    channelz.stop(None).wait(None);
    backend.stop(None).wait();
}
