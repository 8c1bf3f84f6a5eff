//! The channelz service on both servers, read by a client of the same face: after N
//! successful and M failed calls through a channel, GetTopChannels shows the channel with
//! those counts, READY, with its subchannel and socket; GetServers and GetServerSockets show
//! the server's side of the same calls; a closed channel disappears; unknown ids are
//! NOT_FOUND; lists page by start id and max_results.

use rpc_channelz::pb::*;
use rpc_channelz::{ChannelzServicer, ChannelzStub, add_channelz_servicer_to_server};
use rpc_core::{ChannelOptions, Request, RpcError, ServerOptions, StatusCode};
use rpc_testkit::{Face, FaceServer, Peer, Style, both_faces, md, msg};
use std::time::Duration;

const N: i64 = 3;
const M: i64 = 2;

/// A channelz server of one face and a client of the same face.
enum Query {
    Aio {
        runtime: tokio::runtime::Runtime,
        server: rpc_aio::Server,
        stub: ChannelzStub<rpc_aio::Channel>,
    },
    Sync {
        server: rpc_sync::Server,
        stub: ChannelzStub<rpc_sync::Channel>,
    },
}

fn req<T>(message: T) -> Request<T> {
    Request::new(message).timeout(Duration::from_secs(20))
}

macro_rules! query {
    ($($name:ident($req:ty) -> $resp:ty;)+) => {$(
        fn $name(&self, message: $req) -> Result<$resp, RpcError> {
            match self {
                Query::Aio { runtime, stub, .. } => runtime.block_on(stub.$name(req(message))),
                Query::Sync { stub, .. } => stub.$name(req(message)),
            }
        }
    )+};
}

impl Query {
    fn serve(face: &str) -> Query {
        if face == "aio" {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            let (server, stub) = runtime.block_on(async {
                let server = rpc_aio::server(ServerOptions::default());
                add_channelz_servicer_to_server(ChannelzServicer::new(), &server);
                let port = server.add_insecure_port("127.0.0.1:0").unwrap();
                server.start().await.unwrap();
                let channel = rpc_aio::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();
                (server, ChannelzStub::new(channel))
            });
            Query::Aio { runtime, server, stub }
        } else {
            let server = rpc_sync::server(ServerOptions::default()).unwrap();
            add_channelz_servicer_to_server(ChannelzServicer::new(), &server);
            let port = server.add_insecure_port("127.0.0.1:0").unwrap();
            server.start().unwrap();
            let channel = rpc_sync::insecure_channel(&format!("127.0.0.1:{port}"), ChannelOptions::default()).unwrap();
            Query::Sync {
                server,
                stub: ChannelzStub::new(channel),
            }
        }
    }

    query! {
        get_top_channels(GetTopChannelsRequest) -> GetTopChannelsResponse;
        get_servers(GetServersRequest) -> GetServersResponse;
        get_server(GetServerRequest) -> GetServerResponse;
        get_server_sockets(GetServerSocketsRequest) -> GetServerSocketsResponse;
        get_channel(GetChannelRequest) -> GetChannelResponse;
        get_subchannel(GetSubchannelRequest) -> GetSubchannelResponse;
        get_socket(GetSocketRequest) -> GetSocketResponse;
    }

    /// Every top channel, read page by page (`max` per page), checking the pages' order.
    fn all_channels(&self, max: i64) -> Vec<Channel> {
        let mut all: Vec<Channel> = Vec::new();
        let mut start = 0;
        for _ in 0..10_000 {
            let page = self
                .get_top_channels(GetTopChannelsRequest {
                    start_channel_id: start,
                    max_results: max,
                })
                .unwrap();
            assert!(max == 0 || page.channel.len() as i64 <= max, "a page holds at most max_results");
            for c in &page.channel {
                let id = c.r#ref.as_ref().unwrap().channel_id;
                assert!(id >= start, "a page starts at start_channel_id");
                start = id + 1;
            }
            all.extend(page.channel);
            if page.end {
                let ids: Vec<i64> = all.iter().map(|c| c.r#ref.as_ref().unwrap().channel_id).collect();
                assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids ascend across pages: {ids:?}");
                return all;
            }
            assert!(!all.is_empty(), "a page that is not the end holds a channel");
        }
        panic!("the pages did not end");
    }

    fn stop(self) {
        match self {
            Query::Aio { runtime, server, stub } => {
                drop(stub);
                runtime.block_on(server.stop(None));
            }
            Query::Sync { server, stub } => {
                drop(stub);
                server.stop(None).wait(None);
            }
        }
    }
}

fn data(c: &Channel) -> &ChannelData {
    c.data.as_ref().unwrap()
}

fn state(d: &ChannelData) -> i32 {
    d.state.as_ref().unwrap().state
}

fn port_of(a: &Option<Address>) -> Option<i32> {
    match a.as_ref()?.address.as_ref()? {
        address::Address::TcpipAddress(t) => Some(t.port),
        _ => None,
    }
}

/// Makes N good and M failed unary calls through a new channel of face `F`, then reads the
/// channel, its subchannel and socket, and the server's side, through channelz.
fn calls_are_counted_on_both_ends<F: Face>() {
    let face = F::new();
    let backend = face.serve(Style::Async);
    let target = backend.target();
    let channel = face.channel(&target);
    for _ in 0..N {
        assert_eq!(face.unary(&channel, Request::new(msg("ok"))).code, StatusCode::Ok);
    }
    for _ in 0..M {
        let failed = face.unary(&channel, Request::new(msg("no")).metadata(md(&[("x-fail", "9")])));
        assert_eq!(failed.code, StatusCode::FailedPrecondition);
    }
    let z = Query::serve(F::NAME);

    let ours: Vec<Channel> = z.all_channels(0).into_iter().filter(|c| data(c).target == target).collect();
    assert_eq!(ours.len(), 1, "the channel to {target} is listed once");
    let listed = &ours[0];
    let d = data(listed);
    assert_eq!(
        (d.calls_started, d.calls_succeeded, d.calls_failed),
        (N + M, N, M),
        "the channel's calls started, succeeded, failed"
    );
    assert_eq!(state(d), channel_connectivity_state::State::Ready as i32);
    assert!(d.last_call_started_timestamp.is_some());
    let trace = d.trace.as_ref().unwrap();
    assert!(
        trace.events.iter().any(|e| e.description.contains("READY")),
        "the trace records the change to READY: {:?}",
        trace.events
    );
    let id = listed.r#ref.as_ref().unwrap().channel_id;
    let by_id = z.get_channel(GetChannelRequest { channel_id: id }).unwrap().channel.unwrap();
    assert_eq!(data(&by_id).calls_started, N + M);

    assert_eq!(listed.subchannel_ref.len(), 1, "one address, one subchannel");
    let sub_id = listed.subchannel_ref[0].subchannel_id;
    let sub = z
        .get_subchannel(GetSubchannelRequest { subchannel_id: sub_id })
        .unwrap()
        .subchannel
        .unwrap();
    let sd = sub.data.as_ref().unwrap();
    assert_eq!((sd.calls_started, sd.calls_succeeded, sd.calls_failed), (N + M, N, M));
    assert_eq!(state(sd), channel_connectivity_state::State::Ready as i32);
    assert_eq!(sub.socket_ref.len(), 1, "the subchannel's connection");
    let socket = z
        .get_socket(GetSocketRequest {
            socket_id: sub.socket_ref[0].socket_id,
            summary: false,
        })
        .unwrap()
        .socket
        .unwrap();
    let sk = socket.data.as_ref().unwrap();
    assert_eq!((sk.streams_started, sk.streams_succeeded, sk.streams_failed), (N + M, N, M));
    assert_eq!(port_of(&socket.remote), Some(i32::from(backend.port())));
    let client_port = port_of(&socket.local).expect("the client socket's local port");

    // The server's side: the server whose open connection comes from that port.
    let servers = z.get_servers(GetServersRequest::default()).unwrap();
    assert!(servers.end);
    let mut found = None;
    for server in &servers.server {
        let server_id = server.r#ref.as_ref().unwrap().server_id;
        let Ok(sockets) = z.get_server_sockets(GetServerSocketsRequest {
            server_id,
            ..Default::default()
        }) else {
            continue; // stopped and dropped since it was listed
        };
        for r in sockets.socket_ref {
            let Ok(s) = z.get_socket(GetSocketRequest {
                socket_id: r.socket_id,
                summary: false,
            }) else {
                continue;
            };
            let s = s.socket.unwrap();
            if port_of(&s.remote) == Some(client_port) && port_of(&s.local) == Some(i32::from(backend.port())) {
                found = Some((server.clone(), s));
            }
        }
    }
    let (server, server_socket) = found.expect("the backend lists the channel's connection in GetServerSockets");
    let sd = server.data.as_ref().unwrap();
    assert_eq!(
        (sd.calls_started, sd.calls_succeeded, sd.calls_failed),
        (N + M, N, M),
        "the server's calls"
    );
    assert!(
        server.listen_socket.iter().any(|l| {
            let s = z.get_socket(GetSocketRequest {
                socket_id: l.socket_id,
                summary: false,
            });
            s.is_ok_and(|s| port_of(&s.socket.unwrap().local) == Some(i32::from(backend.port())))
        }),
        "the server lists the socket it listens on"
    );
    let ss = server_socket.data.as_ref().unwrap();
    assert_eq!((ss.streams_started, ss.streams_succeeded, ss.streams_failed), (N + M, N, M));
    assert!(ss.last_remote_stream_created_timestamp.is_some());
    let server_id = server.r#ref.as_ref().unwrap().server_id;
    let again = z.get_server(GetServerRequest { server_id }).unwrap().server.unwrap();
    assert_eq!(again.data.unwrap().calls_started, N + M);

    // Closed, the channel is gone, even while a handle to it is still held.
    face.close(&channel, None);
    let err = z.get_channel(GetChannelRequest { channel_id: id }).unwrap_err();
    assert_eq!(err.code(), StatusCode::NotFound);
    assert!(z.all_channels(0).iter().all(|c| c.r#ref.as_ref().unwrap().channel_id != id));
    drop(channel);
    z.stop();
    backend.stop(None).wait();
}

/// Unknown ids are NOT_FOUND for every Get method; a negative page size is refused.
fn unknown_ids_are_not_found<F: Face>() {
    let z = Query::serve(F::NAME);
    let nobody = i64::MAX - 7;
    let codes = [
        z.get_channel(GetChannelRequest { channel_id: nobody }).map(drop),
        z.get_subchannel(GetSubchannelRequest { subchannel_id: nobody }).map(drop),
        z.get_server(GetServerRequest { server_id: nobody }).map(drop),
        z.get_server_sockets(GetServerSocketsRequest {
            server_id: nobody,
            ..Default::default()
        })
        .map(drop),
        z.get_socket(GetSocketRequest {
            socket_id: nobody,
            summary: false,
        })
        .map(drop),
    ];
    for c in codes {
        assert_eq!(c.unwrap_err().code(), StatusCode::NotFound);
    }
    let negative = z.get_top_channels(GetTopChannelsRequest {
        start_channel_id: 0,
        max_results: -1,
    });
    assert_eq!(negative.unwrap_err().code(), StatusCode::InvalidArgument);
    z.stop();
}

/// Three channels page one at a time: every page holds one, ids ascend, the last says end.
fn top_channels_page_by_start_id<F: Face>() {
    let face = F::new();
    let backend = face.serve(Style::Async);
    let target = backend.target();
    let channels: Vec<_> = (0..3).map(|_| face.channel(&target)).collect();
    let z = Query::serve(F::NAME);
    let paged = z.all_channels(1);
    assert_eq!(paged.iter().filter(|c| data(c).target == target).count(), 3);
    let first = z
        .get_top_channels(GetTopChannelsRequest {
            start_channel_id: 0,
            max_results: 1,
        })
        .unwrap();
    assert_eq!(first.channel.len(), 1);
    assert!(!first.end, "more channels follow the first");
    drop(channels);
    z.stop();
    backend.stop(None).wait();
}

both_faces!(
    calls_are_counted_on_both_ends,
    unknown_ids_are_not_found,
    top_channels_page_by_start_id
);
