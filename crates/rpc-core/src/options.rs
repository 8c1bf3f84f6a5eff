//! Typed channel and server options, with gRPC's defaults.

use crate::compression::Compression;
use crate::observe::Observer;
use std::sync::Arc;
use std::time::Duration;

/// The default limit on a received message: 4 MiB, as in every gRPC implementation.
pub const DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH: usize = 4 * 1024 * 1024;
/// The default limit on the size of a header list: 16 KiB.
pub const DEFAULT_MAX_HEADER_LIST_SIZE: u32 = 16 * 1024;

/// Options of a client channel.
///
/// | option | default |
/// |---|---|
/// | `max_send_message_length` | unlimited (`None`) |
/// | `max_receive_message_length` | 4 MiB |
/// | `default_compression` | none |
/// | `user_agent` | `None` (the library's own) |
/// | `keepalive_time` / `keepalive_timeout` | off / 20 s |
/// | `keepalive_permit_without_calls` | false |
/// | `connect_timeout` | 20 s |
/// | `initial_reconnect_backoff` / `max_reconnect_backoff` | 1 s / 120 s |
/// | `initial_stream_window_size` / `initial_connection_window_size` | 2 MiB / 5 MiB |
/// | `ssl_target_name_override` | `None` |
/// | `default_authority` | `None` (the target) |
/// | `max_header_list_size` | 16 KiB |
/// | `wait_for_ready` | false |
/// | `lb_policy_name` | `None` (the service config's, else `pick_first`) |
/// | `service_config` | `None` |
/// | `enable_retries` | true |
/// | `per_rpc_retry_buffer_size` / `retry_buffer_size` | 256 KiB / 16 MiB |
/// | `dns_min_time_between_resolutions` | 30 s |
/// | `observer` | `None` (docs/observability.md) |
///
/// `docs/options.md` says what each does, beside the server's options; targets, resolvers,
/// load balancing, the service config and retries: `docs/load-balancing.md`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ChannelOptions {
    /// The largest message the channel will send; larger ones fail with RESOURCE_EXHAUSTED.
    pub max_send_message_length: Option<usize>,
    /// The largest message the channel will accept; larger ones fail with RESOURCE_EXHAUSTED.
    pub max_receive_message_length: usize,
    /// Compression for calls that do not choose their own.
    pub default_compression: Compression,
    /// A prefix for the `user-agent` header.
    pub user_agent: Option<String>,
    /// How often to ping an idle connection; `None` turns keepalive off.
    pub keepalive_time: Option<Duration>,
    /// How long to wait for a keepalive ping's answer before closing the connection.
    pub keepalive_timeout: Duration,
    /// Whether to ping even with no call in flight.
    pub keepalive_permit_without_calls: bool,
    /// How long one connection attempt may take.
    pub connect_timeout: Duration,
    /// The first reconnect delay after a failure.
    pub initial_reconnect_backoff: Duration,
    /// The longest reconnect delay.
    pub max_reconnect_backoff: Duration,
    /// HTTP/2 stream window size (`None`: 2 MiB).
    pub initial_stream_window_size: Option<u32>,
    /// HTTP/2 connection window size (`None`: 5 MiB).
    pub initial_connection_window_size: Option<u32>,
    /// The TLS server name to verify instead of the target's host (testing only).
    pub ssl_target_name_override: Option<String>,
    /// The `:authority` to send instead of the target.
    pub default_authority: Option<String>,
    /// The largest header list accepted from the server.
    pub max_header_list_size: u32,
    /// Whether calls wait for the channel to be ready by default.
    pub wait_for_ready: bool,
    /// The load-balancing policy (`pick_first`, `round_robin` or a registered one; gRPC
    /// Python's `grpc.lb_policy_name`). A service config's `loadBalancingConfig` takes
    /// precedence, as in gRPC.
    pub lb_policy_name: Option<String>,
    /// The default service config, as JSON (gRPC Python's `grpc.service_config`): used until
    /// (and unless) the resolver supplies one. An invalid one fails the channel's creation.
    pub service_config: Option<String>,
    /// Whether the service config's retry and hedging policies apply (gRPC's
    /// `grpc.enable_retries`). Transparent retries of calls the server never processed
    /// happen either way.
    pub enable_retries: bool,
    /// The most request bytes one call keeps for replaying it on a retry; a call that sends
    /// more is committed to its current attempt.
    pub per_rpc_retry_buffer_size: usize,
    /// The most request bytes all the calls of a channel keep for retries together.
    pub retry_buffer_size: usize,
    /// The dns resolver looks a name up again at most this often (when a connection drops,
    /// and otherwise every time this has passed).
    pub dns_min_time_between_resolutions: Duration,
    /// Sees every call of the channel (metrics, trace propagation: `rpc-otel`); `None`:
    /// calls are not observed (their `tracing` spans are made either way).
    pub observer: Option<Arc<dyn Observer>>,
}

impl Default for ChannelOptions {
    fn default() -> Self {
        ChannelOptions {
            max_send_message_length: None,
            max_receive_message_length: DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH,
            default_compression: Compression::NoCompression,
            user_agent: None,
            keepalive_time: None,
            keepalive_timeout: Duration::from_secs(20),
            keepalive_permit_without_calls: false,
            connect_timeout: Duration::from_secs(20),
            initial_reconnect_backoff: Duration::from_secs(1),
            max_reconnect_backoff: Duration::from_secs(120),
            initial_stream_window_size: None,
            initial_connection_window_size: None,
            ssl_target_name_override: None,
            default_authority: None,
            max_header_list_size: DEFAULT_MAX_HEADER_LIST_SIZE,
            wait_for_ready: false,
            lb_policy_name: None,
            service_config: None,
            enable_retries: true,
            per_rpc_retry_buffer_size: 256 * 1024,
            retry_buffer_size: 16 * 1024 * 1024,
            dns_min_time_between_resolutions: Duration::from_secs(30),
            observer: None,
        }
    }
}

macro_rules! setters {
    ($t:ident { $($field:ident: $ty:ty),* $(,)? }) => {
        impl $t {
            $(
                #[doc = concat!("Sets `", stringify!($field), "`.")]
                pub fn $field(mut self, value: $ty) -> Self {
                    self.$field = value.into();
                    self
                }
            )*
        }
    };
}

setters!(ChannelOptions {
    max_send_message_length: usize,
    max_receive_message_length: usize,
    default_compression: Compression,
    user_agent: String,
    keepalive_time: Duration,
    keepalive_timeout: Duration,
    keepalive_permit_without_calls: bool,
    connect_timeout: Duration,
    initial_reconnect_backoff: Duration,
    max_reconnect_backoff: Duration,
    initial_stream_window_size: u32,
    initial_connection_window_size: u32,
    ssl_target_name_override: String,
    default_authority: String,
    max_header_list_size: u32,
    wait_for_ready: bool,
    lb_policy_name: String,
    service_config: String,
    enable_retries: bool,
    per_rpc_retry_buffer_size: usize,
    retry_buffer_size: usize,
    dns_min_time_between_resolutions: Duration,
});

/// Options of a server.
///
/// | option | default |
/// |---|---|
/// | `max_send_message_length` | unlimited |
/// | `max_receive_message_length` | 4 MiB |
/// | `maximum_concurrent_rpcs` | unlimited |
/// | `max_concurrent_streams` | 1024 per connection |
/// | `max_workers` | blocking pool: number of CPUs x 4, at least 8 |
/// | `max_queued_rpcs` | blocking pool queue: `max_workers` x 4, at least 1024 |
/// | `max_parked_workers` | blocking pool threads waiting on the network: 512 |
/// | `compression` | none |
/// | `keepalive_time` / `keepalive_timeout` | 2 h / 20 s |
/// | `keepalive_min_time` (pings more often than this, past two strikes, get GOAWAY) | 5 min |
/// | `max_header_list_size` | 16 KiB |
/// | `max_connection_idle` | none (connections are never closed for idleness) |
/// | `max_connection_age` / `max_connection_age_grace` | none / none |
/// | `handshake_timeout` | 20 s |
/// | `observer` | `None` (docs/observability.md) |
///
/// The connection options follow gRFC A9; `docs/connection-management.md` says what each
/// does on the wire and what differs from gRPC.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServerOptions {
    /// The largest message the server will send.
    pub max_send_message_length: Option<usize>,
    /// The largest message the server will accept; larger ones end the call with RESOURCE_EXHAUSTED.
    pub max_receive_message_length: usize,
    /// How many RPCs may run at once on the whole server; more get RESOURCE_EXHAUSTED at once.
    pub maximum_concurrent_rpcs: Option<usize>,
    /// How many streams one HTTP/2 connection may open at once.
    pub max_concurrent_streams: u32,
    /// Worker threads for blocking handlers.
    pub max_workers: usize,
    /// Blocking RPCs that may wait for a worker; more get RESOURCE_EXHAUSTED at once.
    pub max_queued_rpcs: usize,
    /// Worker threads that may wait on the network beyond `max_workers`: a blocking handler
    /// waiting for its client's next request, or for a call it made to another server,
    /// gives its place among the `max_workers` to the next RPC, up to this many such
    /// threads (the elastic part of the pool; past it, waiting handlers keep their place).
    pub max_parked_workers: usize,
    /// Compression for responses, unless a handler chooses its own.
    pub compression: Compression,
    /// How often to ping a client's connection.
    pub keepalive_time: Option<Duration>,
    /// How long to wait for a ping's answer.
    pub keepalive_timeout: Duration,
    /// The shortest ping interval a client may use. A client that pings sooner than this
    /// after its previous ping more than twice in a row is sent GOAWAY and its connection
    /// is closed a second later (gRPC's `too_many_pings`).
    pub keepalive_min_time: Duration,
    /// The largest header list accepted from a client.
    pub max_header_list_size: u32,
    /// HTTP/2 stream window size.
    pub initial_stream_window_size: Option<u32>,
    /// HTTP/2 connection window size.
    pub initial_connection_window_size: Option<u32>,
    /// Closes a connection that has had no RPC in flight for this long, counted from the
    /// end of its last RPC or, before its first, from its start: the client is sent GOAWAY
    /// (NO_ERROR) and the connection closes once the client has acknowledged it (an RPC
    /// that raced the GOAWAY is still served). A client's channel goes IDLE and connects
    /// again for its next RPC. `None`: never.
    pub max_connection_idle: Option<Duration>,
    /// Closes every connection after about this long (each connection gets its own random
    /// +/-10%, so that connections made together do not all end together): the client is
    /// sent GOAWAY (NO_ERROR), gets no new RPCs onto it, and its RPCs in flight continue
    /// for up to `max_connection_age_grace`. Makes clients behind a TCP load balancer
    /// reconnect now and then. `None`: never.
    pub max_connection_age: Option<Duration>,
    /// How long RPCs in flight on a connection past `max_connection_age` (or idle past
    /// `max_connection_idle`) may still run after its GOAWAY; then the connection is closed
    /// and the RPCs still running are cancelled (their clients get UNAVAILABLE). Counted
    /// from the first GOAWAY. `None`: they run to their end.
    pub max_connection_age_grace: Option<Duration>,
    /// How long a new connection may take to complete its handshake: the TLS handshake,
    /// then, separately, the client's HTTP/2 preface and first frame (its SETTINGS). A
    /// connection that has not done so in time (a client that sends nothing, or too
    /// little) is closed. gRPC's own default (`GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS`) is
    /// 120 s; this is shorter so that silent sockets do not pile up.
    pub handshake_timeout: Duration,
    /// Sees every RPC of the server (metrics, trace propagation: `rpc-otel`); `None`: RPCs
    /// are not observed (their `tracing` spans are made either way).
    pub observer: Option<Arc<dyn Observer>>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let workers = (cpus * 4).max(8);
        ServerOptions {
            max_send_message_length: None,
            max_receive_message_length: DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH,
            maximum_concurrent_rpcs: None,
            max_concurrent_streams: 1024,
            max_workers: workers,
            // A queued RPC costs a few hundred bytes; a small queue turned ordinary bursts
            // (a few hundred blocking clients at once) into RESOURCE_EXHAUSTED.
            max_queued_rpcs: (workers * 4).max(1024),
            // As tokio's blocking pool: threads parked on the network cost a stack each.
            max_parked_workers: 512,
            compression: Compression::NoCompression,
            keepalive_time: Some(Duration::from_secs(2 * 3600)),
            keepalive_timeout: Duration::from_secs(20),
            keepalive_min_time: Duration::from_secs(300),
            max_header_list_size: DEFAULT_MAX_HEADER_LIST_SIZE,
            initial_stream_window_size: None,
            initial_connection_window_size: None,
            max_connection_idle: None,
            max_connection_age: None,
            max_connection_age_grace: None,
            handshake_timeout: Duration::from_secs(20),
            observer: None,
        }
    }
}

setters!(ServerOptions {
    max_send_message_length: usize,
    max_receive_message_length: usize,
    maximum_concurrent_rpcs: usize,
    max_concurrent_streams: u32,
    max_workers: usize,
    max_queued_rpcs: usize,
    max_parked_workers: usize,
    compression: Compression,
    keepalive_time: Duration,
    keepalive_timeout: Duration,
    keepalive_min_time: Duration,
    max_header_list_size: u32,
    initial_stream_window_size: u32,
    initial_connection_window_size: u32,
    max_connection_idle: Duration,
    max_connection_age: Duration,
    max_connection_age_grace: Duration,
    handshake_timeout: Duration,
});

// The observer setters take the `Arc` the options keep (one observer for many channels).
setters!(ChannelOptions { observer: Arc<dyn Observer> });
setters!(ServerOptions { observer: Arc<dyn Observer> });
