//! The `tracing` spans of calls and RPCs, named after OpenTelemetry's RPC semantic
//! conventions (`rpc.system`, `rpc.service`, `rpc.method`, `rpc.grpc.status_code`,
//! `server.address`, `network.peer.address`), at INFO level under the targets
//! `rpc_aio::client` and `rpc_aio::server`. A span nobody subscribes to is disabled: making it
//! costs an interest check, its fields are never computed.

use rpc_core::StatusCode;
use tracing::field::Empty;

/// The service part of `/package.Service/Method`.
fn service_of(path: &str) -> &str {
    path.trim_start_matches('/').split_once('/').map_or("", |(s, _)| s)
}

/// The method part of `/package.Service/Method`.
fn method_of(path: &str) -> &str {
    path.trim_start_matches('/').split_once('/').map_or(path, |(_, m)| m)
}

/// The span of a client call to `path` on a channel whose authority is `authority`, a child
/// of `parent` (the span current where the call was made).
pub(crate) fn client_span(parent: &tracing::Span, path: &str, authority: &str) -> tracing::Span {
    tracing::info_span!(
        target: "rpc_aio::client",
        parent: parent,
        "grpc.client",
        otel.name = path.trim_start_matches('/'),
        otel.kind = "client",
        rpc.system = "grpc",
        rpc.service = service_of(path),
        rpc.method = method_of(path),
        server.address = authority,
        rpc.grpc.status_code = Empty,
        otel.status_code = Empty,
    )
}

/// The span of a server RPC for `path` from the client at `peer` (`ipv4:ip:port`,
/// `ipv6:[ip]:port`, `unix:path`).
pub(crate) fn server_span(path: &str, peer: &str) -> tracing::Span {
    let span = tracing::info_span!(
        target: "rpc_aio::server",
        "grpc.server",
        otel.name = path.trim_start_matches('/'),
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.service = service_of(path),
        rpc.method = method_of(path),
        network.peer.address = peer_address(peer),
        network.peer.port = Empty,
        rpc.grpc.status_code = Empty,
        otel.status_code = Empty,
    );
    if !span.is_disabled()
        && let Some(port) = peer_port(peer)
    {
        span.record("network.peer.port", i64::from(port));
    }
    span
}

/// Records how the call or RPC ended on its span.
pub(crate) fn record_status(span: &tracing::Span, code: StatusCode) {
    if span.is_disabled() {
        return;
    }
    span.record("rpc.grpc.status_code", code.value());
    if code != StatusCode::Ok {
        span.record("otel.status_code", "ERROR");
    }
}

/// The address of a peer without its scheme and port: `127.0.0.1`, `::1`, a socket path.
fn peer_address(peer: &str) -> &str {
    if let Some(path) = peer.strip_prefix("unix:") {
        return path;
    }
    let rest = peer.split_once(':').map_or(peer, |(_, r)| r);
    match rest.rsplit_once(':') {
        Some((host, _)) => host.trim_start_matches('[').trim_end_matches(']'),
        None => rest,
    }
}

/// The port of an IP peer (`None` for a unix socket or an unreadable address).
fn peer_port(peer: &str) -> Option<u16> {
    if peer.starts_with("unix:") {
        return None;
    }
    peer.rsplit_once(':').and_then(|(_, p)| p.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_peers_split_into_their_attributes() {
        assert_eq!(service_of("/pkg.Greeter/Say"), "pkg.Greeter");
        assert_eq!(method_of("/pkg.Greeter/Say"), "Say");
        assert_eq!(peer_address("ipv4:127.0.0.1:5000"), "127.0.0.1");
        assert_eq!(peer_port("ipv4:127.0.0.1:5000"), Some(5000));
        assert_eq!(peer_address("ipv6:[::1]:5000"), "::1");
        assert_eq!(peer_port("ipv6:[::1]:5000"), Some(5000));
        assert_eq!(peer_address("unix:/tmp/s.sock"), "/tmp/s.sock");
        assert_eq!(peer_port("unix:/tmp/s.sock"), None);
    }
}
