//! Snapshots of the engine's registry as channelz messages.

use crate::pb::{self, address, channel_connectivity_state::State, channel_trace_event};
use rpc_aio::channelz::{CallCounts, ChannelInfo, EntityRef, ServerInfo, Severity, SocketAddress, SocketInfo, SubchannelInfo, Trace};
use rpc_core::ChannelConnectivity;
use rpc_core::codegen::prost_types::Timestamp;
use std::net::IpAddr;
use std::time::SystemTime;

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn time(t: Option<SystemTime>) -> Option<Timestamp> {
    t.map(Timestamp::from)
}

fn state(s: ChannelConnectivity) -> pb::ChannelConnectivityState {
    let state = match s {
        ChannelConnectivity::Idle => State::Idle,
        ChannelConnectivity::Connecting => State::Connecting,
        ChannelConnectivity::Ready => State::Ready,
        ChannelConnectivity::TransientFailure => State::TransientFailure,
        ChannelConnectivity::Shutdown => State::Shutdown,
    };
    pb::ChannelConnectivityState { state: state as i32 }
}

fn trace(t: &Trace) -> pb::ChannelTrace {
    pb::ChannelTrace {
        num_events_logged: count(t.events_logged),
        creation_timestamp: Some(Timestamp::from(t.created)),
        events: t
            .events
            .iter()
            .map(|e| pb::ChannelTraceEvent {
                description: e.description.clone(),
                severity: match e.severity {
                    Severity::Info => channel_trace_event::Severity::CtInfo,
                    Severity::Warning => channel_trace_event::Severity::CtWarning,
                    Severity::Error => channel_trace_event::Severity::CtError,
                } as i32,
                timestamp: Some(Timestamp::from(e.timestamp)),
                child_ref: e
                    .child
                    .as_ref()
                    .map(|c| channel_trace_event::ChildRef::SubchannelRef(subchannel_ref(c))),
            })
            .collect(),
    }
}

fn channel_data(target: &str, s: ChannelConnectivity, calls: &CallCounts, t: &Trace) -> pb::ChannelData {
    pb::ChannelData {
        state: Some(state(s)),
        target: target.to_owned(),
        trace: Some(trace(t)),
        calls_started: count(calls.started),
        calls_succeeded: count(calls.succeeded),
        calls_failed: count(calls.failed),
        last_call_started_timestamp: time(calls.last_call_started),
    }
}

fn subchannel_ref(r: &EntityRef) -> pb::SubchannelRef {
    pb::SubchannelRef {
        subchannel_id: r.id,
        name: r.name.clone(),
    }
}

pub(crate) fn socket_ref(r: &EntityRef) -> pb::SocketRef {
    pb::SocketRef {
        socket_id: r.id,
        name: r.name.clone(),
    }
}

pub(crate) fn channel(c: &ChannelInfo) -> pb::Channel {
    pb::Channel {
        r#ref: Some(pb::ChannelRef {
            channel_id: c.id,
            name: c.target.clone(),
        }),
        data: Some(channel_data(&c.target, c.state, &c.calls, &c.trace)),
        channel_ref: Vec::new(),
        subchannel_ref: c.subchannels.iter().map(subchannel_ref).collect(),
        socket_ref: Vec::new(),
    }
}

pub(crate) fn subchannel(s: &SubchannelInfo) -> pb::Subchannel {
    pb::Subchannel {
        r#ref: Some(pb::SubchannelRef {
            subchannel_id: s.id,
            name: s.target.clone(),
        }),
        data: Some(channel_data(&s.target, s.state, &s.calls, &s.trace)),
        channel_ref: Vec::new(),
        subchannel_ref: Vec::new(),
        socket_ref: s.sockets.iter().map(socket_ref).collect(),
    }
}

pub(crate) fn server(s: &ServerInfo) -> pb::Server {
    pb::Server {
        r#ref: Some(pb::ServerRef {
            server_id: s.id,
            name: String::new(),
        }),
        data: Some(pb::ServerData {
            trace: Some(trace(&s.trace)),
            calls_started: count(s.calls.started),
            calls_succeeded: count(s.calls.succeeded),
            calls_failed: count(s.calls.failed),
            last_call_started_timestamp: time(s.calls.last_call_started),
        }),
        listen_socket: s.listen_sockets.iter().map(socket_ref).collect(),
    }
}

fn address(a: &SocketAddress) -> pb::Address {
    let address = match a {
        SocketAddress::Tcp(sa) => address::Address::TcpipAddress(address::TcpIpAddress {
            ip_address: match sa.ip() {
                IpAddr::V4(v4) => v4.octets().to_vec(),
                IpAddr::V6(v6) => v6.octets().to_vec(),
            },
            port: i32::from(sa.port()),
        }),
        SocketAddress::Unix(path) => address::Address::UdsAddress(address::UdsAddress { filename: path.clone() }),
        SocketAddress::Other(name) => address::Address::OtherAddress(address::OtherAddress {
            name: name.clone(),
            value: None,
        }),
    };
    pb::Address { address: Some(address) }
}

pub(crate) fn socket(s: &SocketInfo) -> pb::Socket {
    pb::Socket {
        r#ref: Some(socket_ref(&EntityRef {
            id: s.id,
            name: s.name.clone(),
        })),
        data: Some(pb::SocketData {
            streams_started: count(s.streams_started),
            streams_succeeded: count(s.streams_succeeded),
            streams_failed: count(s.streams_failed),
            messages_sent: count(s.messages_sent),
            messages_received: count(s.messages_received),
            keep_alives_sent: count(s.keepalives_sent.unwrap_or(0)),
            last_local_stream_created_timestamp: time(s.last_local_stream_created),
            last_remote_stream_created_timestamp: time(s.last_remote_stream_created),
            last_message_sent_timestamp: time(s.last_message_sent),
            last_message_received_timestamp: time(s.last_message_received),
            local_flow_control_window: None,
            remote_flow_control_window: None,
            option: Vec::new(),
        }),
        local: s.local.as_ref().map(address),
        remote: s.remote.as_ref().map(address),
        security: None,
        remote_name: String::new(),
    }
}
