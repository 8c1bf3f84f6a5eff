//! OpenTelemetry for both faces of the rpc gRPC library: the per-call and per-attempt
//! metrics of gRFC A66 and W3C trace context (`traceparent` / `tracestate`) carried in
//! metadata. It plugs into the engine's observer hook ([`rpc_core::observe`]), so a
//! channel or server without it pays nothing, and it works the same for `rpc-aio` and
//! `rpc-sync` (one engine).
//!
//! ```no_run
//! # fn demo(provider: &opentelemetry_sdk::metrics::SdkMeterProvider) -> Result<(), rpc_core::RpcError> {
//! use rpc_core::{ChannelOptions, ServerOptions};
//! use rpc_otel::Telemetry;
//!
//! let telemetry = Telemetry::new()
//!     .with_meter_provider(provider)
//!     .with_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
//! let channel_options = ChannelOptions::default().observer(telemetry.observer());
//! let server_options = ServerOptions::default().observer(telemetry.observer());
//! # let _ = (channel_options, server_options); Ok(()) }
//! ```
//!
//! # Metrics
//! With a meter provider ([`Telemetry::with_meter_provider`]; without one, no metrics, and
//! the global provider is never used, as A66 asks), the meter `rpc` records:
//!
//! | instrument | type | unit | attributes |
//! |---|---|---|---|
//! | `grpc.client.attempt.started` | counter | `{attempt}` | `grpc.method`, `grpc.target` |
//! | `grpc.client.attempt.duration` | histogram (latency) | `s` | `grpc.method`, `grpc.target`, `grpc.status` |
//! | `grpc.client.attempt.sent_total_compressed_message_size` | histogram (size) | `By` | `grpc.method`, `grpc.target`, `grpc.status` |
//! | `grpc.client.attempt.rcvd_total_compressed_message_size` | histogram (size) | `By` | `grpc.method`, `grpc.target`, `grpc.status` |
//! | `grpc.client.call.duration` | histogram (latency) | `s` | `grpc.method`, `grpc.target`, `grpc.status` |
//! | `grpc.server.call.started` | counter | `{call}` | `grpc.method` |
//! | `grpc.server.call.sent_total_compressed_message_size` | histogram (size) | `By` | `grpc.method`, `grpc.status` |
//! | `grpc.server.call.rcvd_total_compressed_message_size` | histogram (size) | `By` | `grpc.method`, `grpc.status` |
//! | `grpc.server.call.duration` | histogram (latency) | `s` | `grpc.method`, `grpc.status` |
//!
//! The histograms carry A66's bucket boundaries ([`LATENCY_BUCKETS`], [`SIZE_BUCKETS`]) as
//! advice; an SDK view may override them. `grpc.method` is `package.Service/Method`; on a
//! server, a method without a registered handler (served by a generic handler, or
//! unknown) is recorded as `other` unless [`Telemetry::record_generic_methods`] is on.
//! [`Telemetry::record_target`] can replace targets with `other` (channels made to many
//! IP addresses would otherwise make as many series).
//!
//! # Trace context
//! With a propagator ([`Telemetry::with_propagator`], e.g. the SDK's
//! `TraceContextPropagator`), a client call injects the OpenTelemetry context of its span
//! (`rpc_aio::client`, through `tracing-opentelemetry`; the current context when the span is
//! disabled) into its request metadata, and a server extracts it and makes it the parent
//! of the RPC's span (`rpc_aio::server`).
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![warn(unreachable_pub)]

use opentelemetry::metrics::{Counter, Histogram, MeterProvider};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry::{InstrumentationScope, KeyValue, StringValue};
use rpc_core::observe::{AttemptObserver, CallEnd, ClientCall, ClientCallObserver, Observer, ServerCall, ServerCallObserver};
use rpc_core::{Metadata, StatusCode};
use std::fmt;
use std::sync::Arc;
use std::time::Instant;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// gRFC A66's latency buckets, in seconds.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0, 0.00001, 0.00005, 0.0001, 0.0003, 0.0006, 0.0008, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.008, 0.01, 0.013, 0.016, 0.02,
    0.025, 0.03, 0.04, 0.05, 0.065, 0.08, 0.1, 0.13, 0.16, 0.2, 0.25, 0.3, 0.4, 0.5, 0.65, 0.8, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0,
];

/// gRFC A66's size buckets, in bytes.
pub const SIZE_BUCKETS: &[f64] = &[
    0.0,
    1024.0,
    2048.0,
    4096.0,
    16384.0,
    65536.0,
    262144.0,
    1048576.0,
    4194304.0,
    16777216.0,
    67108864.0,
    268435456.0,
    1073741824.0,
    4294967296.0,
];

/// The recorded value of an attribute replaced to bound cardinality.
const OTHER: &str = "other";

/// Metrics and trace propagation for channels and servers: build one, then set
/// [`Telemetry::observer`] on `ChannelOptions::observer` / `ServerOptions::observer`
/// (one `Telemetry` may serve many channels and servers).
#[derive(Clone, Default)]
pub struct Telemetry {
    instruments: Option<Arc<Instruments>>,
    propagator: Option<Arc<dyn TextMapPropagator + Send + Sync>>,
    record_generic_methods: bool,
    record_target: Option<TargetFilter>,
}

/// Decides whether a channel's target is recorded as it is.
type TargetFilter = Arc<dyn Fn(&str) -> bool + Send + Sync>;

impl fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Telemetry")
            .field("metrics", &self.instruments.is_some())
            .field("propagation", &self.propagator.is_some())
            .field("record_generic_methods", &self.record_generic_methods)
            .finish()
    }
}

impl Telemetry {
    /// Neither metrics nor propagation (add them with the `with_` methods).
    pub fn new() -> Telemetry {
        Telemetry::default()
    }

    /// Records A66's metrics with a meter (`rpc`, this crate's version) of `provider`.
    pub fn with_meter_provider(mut self, provider: &impl MeterProvider) -> Telemetry {
        let scope = InstrumentationScope::builder("rpc").with_version(env!("CARGO_PKG_VERSION")).build();
        self.instruments = Some(Arc::new(Instruments::new(&provider.meter_with_scope(scope))));
        self
    }

    /// Carries trace context in metadata with `propagator` (the SDK's
    /// `TraceContextPropagator` for W3C `traceparent` / `tracestate`).
    pub fn with_propagator(mut self, propagator: impl TextMapPropagator + Send + Sync + 'static) -> Telemetry {
        self.propagator = Some(Arc::new(propagator));
        self
    }

    /// Records the method of server RPCs without a registered handler as it is, instead of
    /// `other` (off by default: any client can make up method names).
    pub fn record_generic_methods(mut self, on: bool) -> Telemetry {
        self.record_generic_methods = on;
        self
    }

    /// Decides per channel target whether `grpc.target` is the target (`true`) or `other`;
    /// by default every target is recorded as it is.
    pub fn record_target(mut self, filter: impl Fn(&str) -> bool + Send + Sync + 'static) -> Telemetry {
        self.record_target = Some(Arc::new(filter));
        self
    }

    /// The observer to set on channel and server options.
    pub fn observer(&self) -> Arc<dyn Observer> {
        Arc::new(self.clone())
    }
}

impl Observer for Telemetry {
    fn client_call(&self, call: &ClientCall<'_>, metadata: &mut Metadata) -> Option<Box<dyn ClientCallObserver>> {
        if let Some(p) = &self.propagator {
            let cx = if call.span.is_disabled() {
                opentelemetry::Context::current()
            } else {
                call.span.context()
            };
            p.inject_context(&cx, &mut MetadataInjector(metadata));
        }
        let instruments = self.instruments.clone()?;
        let target = match &self.record_target {
            Some(keep) if !keep(call.target) => StringValue::from(OTHER),
            _ => StringValue::from(call.target.to_owned()),
        };
        let method = StringValue::from(call.method.trim_start_matches('/').to_owned());
        Some(Box::new(ClientCallMetrics {
            instruments,
            method,
            target,
            start: Instant::now(),
        }))
    }

    fn server_call(&self, call: &ServerCall<'_>) -> Option<Box<dyn ServerCallObserver>> {
        if let Some(p) = &self.propagator {
            let cx = p.extract(&MetadataExtractor(call.metadata));
            if cx.span().span_context().is_valid() && !call.span.is_disabled() {
                // Fails only for a span the OpenTelemetry layer does not know: then there
                // is no OpenTelemetry span to parent.
                let _ = call.span.set_parent(cx);
            }
        }
        let instruments = self.instruments.clone()?;
        let method = if call.registered || self.record_generic_methods {
            StringValue::from(call.method.trim_start_matches('/').to_owned())
        } else {
            StringValue::from(OTHER)
        };
        instruments.server_started.add(1, &[KeyValue::new("grpc.method", method.clone())]);
        Some(Box::new(ServerCallMetrics {
            instruments,
            method,
            start: Instant::now(),
        }))
    }
}

/// The instruments of A66.
struct Instruments {
    attempt_started: Counter<u64>,
    attempt_duration: Histogram<f64>,
    attempt_sent: Histogram<u64>,
    attempt_rcvd: Histogram<u64>,
    call_duration: Histogram<f64>,
    server_started: Counter<u64>,
    server_sent: Histogram<u64>,
    server_rcvd: Histogram<u64>,
    server_duration: Histogram<f64>,
}

impl Instruments {
    fn new(meter: &opentelemetry::metrics::Meter) -> Instruments {
        let latency = |name: &'static str, description: &'static str| {
            meter
                .f64_histogram(name)
                .with_unit("s")
                .with_description(description)
                .with_boundaries(LATENCY_BUCKETS.to_vec())
                .build()
        };
        let size = |name: &'static str, description: &'static str| {
            meter
                .u64_histogram(name)
                .with_unit("By")
                .with_description(description)
                .with_boundaries(SIZE_BUCKETS.to_vec())
                .build()
        };
        Instruments {
            attempt_started: meter
                .u64_counter("grpc.client.attempt.started")
                .with_unit("{attempt}")
                .with_description("Number of client call attempts started.")
                .build(),
            attempt_duration: latency(
                "grpc.client.attempt.duration",
                "Time from the start of a client call attempt to its end.",
            ),
            attempt_sent: size(
                "grpc.client.attempt.sent_total_compressed_message_size",
                "Message bytes (compressed, without framing) sent per client call attempt.",
            ),
            attempt_rcvd: size(
                "grpc.client.attempt.rcvd_total_compressed_message_size",
                "Message bytes (compressed, without framing) received per client call attempt.",
            ),
            call_duration: latency("grpc.client.call.duration", "Time from the start of a client call to its status."),
            server_started: meter
                .u64_counter("grpc.server.call.started")
                .with_unit("{call}")
                .with_description("Number of server calls started.")
                .build(),
            server_sent: size(
                "grpc.server.call.sent_total_compressed_message_size",
                "Message bytes (compressed, without framing) sent per server call.",
            ),
            server_rcvd: size(
                "grpc.server.call.rcvd_total_compressed_message_size",
                "Message bytes (compressed, without framing) received per server call.",
            ),
            server_duration: latency(
                "grpc.server.call.duration",
                "Time from a server call's request headers to its status.",
            ),
        }
    }
}

struct ClientCallMetrics {
    instruments: Arc<Instruments>,
    method: StringValue,
    target: StringValue,
    start: Instant,
}

impl ClientCallMetrics {
    fn attributes(&self, code: StatusCode) -> [KeyValue; 3] {
        [
            KeyValue::new("grpc.method", self.method.clone()),
            KeyValue::new("grpc.target", self.target.clone()),
            KeyValue::new("grpc.status", code.name()),
        ]
    }
}

impl ClientCallObserver for ClientCallMetrics {
    fn attempt_started(&self) -> Box<dyn AttemptObserver> {
        self.instruments.attempt_started.add(
            1,
            &[
                KeyValue::new("grpc.method", self.method.clone()),
                KeyValue::new("grpc.target", self.target.clone()),
            ],
        );
        Box::new(AttemptMetrics {
            instruments: self.instruments.clone(),
            method: self.method.clone(),
            target: self.target.clone(),
            start: Instant::now(),
        })
    }

    fn call_ended(&self, code: StatusCode) {
        let attributes = self.attributes(code);
        self.instruments
            .call_duration
            .record(self.start.elapsed().as_secs_f64(), &attributes);
    }
}

struct AttemptMetrics {
    instruments: Arc<Instruments>,
    method: StringValue,
    target: StringValue,
    start: Instant,
}

impl AttemptObserver for AttemptMetrics {
    fn attempt_ended(self: Box<Self>, end: &CallEnd) {
        let attributes = [
            KeyValue::new("grpc.method", self.method),
            KeyValue::new("grpc.target", self.target),
            KeyValue::new("grpc.status", end.code.name()),
        ];
        let i = &self.instruments;
        record_end(
            (&i.attempt_duration, &i.attempt_sent, &i.attempt_rcvd),
            self.start,
            end,
            &attributes,
        );
    }
}

struct ServerCallMetrics {
    instruments: Arc<Instruments>,
    method: StringValue,
    start: Instant,
}

impl ServerCallObserver for ServerCallMetrics {
    fn call_ended(self: Box<Self>, end: &CallEnd) {
        let attributes = [
            KeyValue::new("grpc.method", self.method),
            KeyValue::new("grpc.status", end.code.name()),
        ];
        let i = &self.instruments;
        record_end((&i.server_duration, &i.server_sent, &i.server_rcvd), self.start, end, &attributes);
    }
}

/// Records the duration since `start` and the message bytes of `end`.
fn record_end(
    (duration, sent, received): (&Histogram<f64>, &Histogram<u64>, &Histogram<u64>),
    start: Instant,
    end: &CallEnd,
    attributes: &[KeyValue],
) {
    duration.record(start.elapsed().as_secs_f64(), attributes);
    sent.record(end.sent_message_bytes, attributes);
    received.record(end.received_message_bytes, attributes);
}

/// Writes trace context into request metadata (keys the propagator uses are lowercase
/// ASCII, so every one is a valid metadata key; a value metadata refuses is left out).
struct MetadataInjector<'a>(&'a mut Metadata);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.remove(key);
        let _ = self.0.add(key, value);
    }
}

/// Reads trace context from request metadata.
struct MetadataExtractor<'a>(&'a Metadata);

impl Extractor for MetadataExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get_str(key)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k).collect()
    }
}
