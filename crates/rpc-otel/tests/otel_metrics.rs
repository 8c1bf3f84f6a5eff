//! gRFC A66's metrics, read back from the SDK's in-memory exporter, for both faces (one
//! engine): a unary call that succeeds and one that fails (the `grpc.status` attribute), a
//! streaming call (message sizes, without framing), a retried call (two attempts, one
//! call), the server's side of each, and `other` for a method with no registered handler.

use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use rpc_core::{ChannelOptions, Request, ServerOptions, StatusCode};
use rpc_otel::{LATENCY_BUCKETS, SIZE_BUCKETS, Telemetry};
use rpc_testkit::{Face, Msg, Peer, Style, both_faces, eventually, md, msg};

/// A meter provider whose metrics the test reads back.
struct Metrics {
    provider: SdkMeterProvider,
    exporter: InMemoryMetricExporter,
}

/// One data point of one instrument.
#[derive(Debug, Clone)]
struct Point {
    name: String,
    unit: String,
    attributes: Vec<(String, String)>,
    /// A counter's value, or a histogram's count.
    count: u64,
    /// A histogram's sum (a counter's value).
    sum: f64,
    bounds: Vec<f64>,
}

impl Metrics {
    fn new() -> Metrics {
        let exporter = InMemoryMetricExporter::default();
        let provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(exporter.clone()).build())
            .build();
        Metrics { provider, exporter }
    }

    fn telemetry(&self) -> Telemetry {
        Telemetry::new().with_meter_provider(&self.provider)
    }

    /// Every data point exported so far (cumulative: the last export has them all).
    fn points(&self) -> Vec<Point> {
        self.provider.force_flush().expect("metrics flushed");
        let exported = self.exporter.get_finished_metrics().expect("exported metrics");
        let mut points = Vec::new();
        let Some(last) = exported.last() else { return points };
        for scope in last.scope_metrics() {
            assert_eq!(scope.scope().name(), "rpc");
            for metric in scope.metrics() {
                let mut add = |attrs: Vec<&KeyValue>, count: u64, sum: f64, bounds: Vec<f64>| {
                    let mut attributes: Vec<(String, String)> = attrs.iter().map(|kv| (kv.key.to_string(), kv.value.to_string())).collect();
                    attributes.sort();
                    points.push(Point {
                        name: metric.name().to_owned(),
                        unit: metric.unit().to_owned(),
                        attributes,
                        count,
                        sum,
                        bounds,
                    });
                };
                match metric.data() {
                    AggregatedMetrics::U64(MetricData::Sum(s)) => {
                        for p in s.data_points() {
                            add(p.attributes().collect(), p.value(), p.value() as f64, vec![]);
                        }
                    }
                    AggregatedMetrics::U64(MetricData::Histogram(h)) => {
                        for p in h.data_points() {
                            add(p.attributes().collect(), p.count(), p.sum() as f64, p.bounds().collect());
                        }
                    }
                    AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                        for p in h.data_points() {
                            add(p.attributes().collect(), p.count(), p.sum(), p.bounds().collect());
                        }
                    }
                    other => panic!("{}: unexpected data {other:?}", metric.name()),
                }
            }
        }
        points
    }

    /// The points of `name` whose attributes include every one of `with`.
    fn find(&self, name: &str, with: &[(&str, &str)]) -> Vec<Point> {
        self.points()
            .into_iter()
            .filter(|p| p.name == name && with.iter().all(|(k, v)| p.attributes.iter().any(|(pk, pv)| pk == k && pv == v)))
            .collect()
    }

    /// The one point of `name` with `with`.
    fn one(&self, name: &str, with: &[(&str, &str)]) -> Point {
        let found = self.find(name, with);
        assert_eq!(found.len(), 1, "one {name} with {with:?}: {:#?}", self.points());
        found.into_iter().next().unwrap_or_else(|| unreachable!())
    }

    /// Waits until the server recorded `n` ended RPCs (its status goes out after the
    /// client may have seen the response).
    fn server_ended(&self, n: u64) {
        eventually(format!("{n} server calls ended"), || {
            self.find("grpc.server.call.duration", &[]).iter().map(|p| p.count).sum::<u64>() == n
        })
        .wait();
    }
}

const METHOD: &str = "test.Svc/Unary";

fn unary_ok_and_failed_calls_record_a66_metrics<F: Face>() {
    let metrics = Metrics::new();
    let face = F::new();
    let server = face.serve_on(Style::Async, ServerOptions::default().observer(metrics.telemetry().observer()), 0);
    let target = server.target();
    let ch = face.channel_with(&target, ChannelOptions::default().observer(metrics.telemetry().observer()));
    let ok = face.unary(&ch, Request::new(msg("hello")));
    assert_eq!(ok.code, StatusCode::Ok, "{:?}", ok.error);
    let failed = face.unary(&ch, Request::new(msg("x")).metadata(md(&[("x-fail", "5")])));
    assert_eq!(failed.code, StatusCode::NotFound);
    metrics.server_ended(2);

    let m = [("grpc.method", METHOD), ("grpc.target", target.as_str())];
    let started = metrics.one("grpc.client.attempt.started", &m);
    assert_eq!((started.count, started.unit.as_str()), (2, "{attempt}"));
    assert_eq!(started.attributes.len(), 2, "started has no status: {started:?}");
    for (status, n) in [("OK", 1), ("NOT_FOUND", 1)] {
        let with = [m[0], m[1], ("grpc.status", status)];
        let call = metrics.one("grpc.client.call.duration", &with);
        assert_eq!((call.count, call.unit.as_str()), (n, "s"), "{status}");
        assert_eq!(call.bounds, LATENCY_BUCKETS, "A66's latency buckets");
        let attempt = metrics.one("grpc.client.attempt.duration", &with);
        assert_eq!((attempt.count, attempt.unit.as_str()), (n, "s"));
        let sent = metrics.one("grpc.client.attempt.sent_total_compressed_message_size", &with);
        assert_eq!((sent.count, sent.unit.as_str()), (n, "By"));
        assert_eq!(sent.bounds, SIZE_BUCKETS, "A66's size buckets");
        metrics.one("grpc.client.attempt.rcvd_total_compressed_message_size", &with);
        let server = [("grpc.method", METHOD), ("grpc.status", status)];
        let duration = metrics.one("grpc.server.call.duration", &server);
        assert_eq!((duration.count, duration.unit.as_str()), (1, "s"));
        assert_eq!(duration.attributes.len(), 2, "no target on the server: {duration:?}");
        metrics.one("grpc.server.call.sent_total_compressed_message_size", &server);
        metrics.one("grpc.server.call.rcvd_total_compressed_message_size", &server);
    }
    // Message bytes only: the encoded request, without the frame's five-byte prefix.
    let request_bytes = prost::Message::encoded_len(&msg("hello")) as f64;
    let ok_attrs = [m[0], m[1], ("grpc.status", "OK")];
    let sent = metrics.one("grpc.client.attempt.sent_total_compressed_message_size", &ok_attrs);
    assert_eq!(sent.sum, request_bytes);
    let server_ok = [("grpc.method", METHOD), ("grpc.status", "OK")];
    let rcvd = metrics.one("grpc.server.call.rcvd_total_compressed_message_size", &server_ok);
    assert_eq!(rcvd.sum, request_bytes, "the server counts the same bytes");
    // The reply, counted alike on both ends; the failure carries no message.
    let reply_bytes = prost::Message::encoded_len(&ok.responses[0]) as f64;
    let reply = metrics.one("grpc.client.attempt.rcvd_total_compressed_message_size", &ok_attrs);
    assert_eq!(reply.sum, reply_bytes);
    let server_sent = metrics.one("grpc.server.call.sent_total_compressed_message_size", &server_ok);
    assert_eq!(server_sent.sum, reply_bytes);
    let nothing = metrics.one(
        "grpc.server.call.sent_total_compressed_message_size",
        &[("grpc.method", METHOD), ("grpc.status", "NOT_FOUND")],
    );
    assert_eq!(nothing.sum, 0.0);
    let server_started = metrics.one("grpc.server.call.started", &[("grpc.method", METHOD)]);
    assert_eq!((server_started.count, server_started.unit.as_str()), (2, "{call}"));
}

fn streaming_calls_count_every_message_without_framing<F: Face>() {
    let metrics = Metrics::new();
    let face = F::new();
    let mut ended = 0;
    for style in Style::ALL {
        let server = face.serve_on(style, ServerOptions::default().observer(metrics.telemetry().observer()), 0);
        let target = server.target();
        let ch = face.channel_with(&target, ChannelOptions::default().observer(metrics.telemetry().observer()));
        // Four responses of 1000 payload bytes each.
        let request = Msg {
            n: 4,
            payload: vec![0u8; 1000],
            ..Msg::default()
        };
        let call = face.server_stream(&ch, Request::new(request));
        assert_eq!(
            (call.code, call.responses.len()),
            (StatusCode::Ok, 4),
            "{style:?}: {:?}",
            call.error
        );
        let bidi = face.bidi(&ch, vec![msg("a"), msg("bb"), msg("ccc")]);
        assert_eq!(
            (bidi.code, bidi.responses.len()),
            (StatusCode::Ok, 3),
            "{style:?}: {:?}",
            bidi.error
        );
        let encoded = |m: &Msg| prost::Message::encoded_len(m) as f64;
        let streamed: f64 = call.responses.iter().map(encoded).sum();
        assert!(streamed >= 4000.0, "{streamed}");
        let with = [("grpc.method", "test.Svc/ServerStream"), ("grpc.status", "OK")];
        ended += 2;
        metrics.server_ended(ended);
        let at = |method| [("grpc.method", method), ("grpc.status", "OK"), ("grpc.target", target.as_str())];
        let rcvd = metrics.one(
            "grpc.client.attempt.rcvd_total_compressed_message_size",
            &at("test.Svc/ServerStream"),
        );
        let sent = metrics.one("grpc.server.call.sent_total_compressed_message_size", &with);
        assert_eq!(
            rcvd.sum,
            streamed * rcvd.count as f64,
            "{style:?}: the client counts every response's bytes"
        );
        assert_eq!(
            sent.sum,
            streamed * sent.count as f64,
            "{style:?}: the server counts every response's bytes"
        );
        let bidi_with = [("grpc.method", "test.Svc/Bidi"), ("grpc.status", "OK")];
        let requests: f64 = ["a", "bb", "ccc"].iter().map(|t| encoded(&msg(t))).sum();
        let sent = metrics.one("grpc.client.attempt.sent_total_compressed_message_size", &at("test.Svc/Bidi"));
        assert_eq!(sent.sum, requests * sent.count as f64, "{style:?}: every request of the stream");
        let rcvd = metrics.one("grpc.server.call.rcvd_total_compressed_message_size", &bidi_with);
        assert_eq!(rcvd.sum, requests * rcvd.count as f64, "{style:?}");
    }
}

/// A retry policy for test.Svc: two attempts, UNAVAILABLE retried at once.
const RETRY: &str = r#"{"methodConfig": [{"name": [{"service": "test.Svc"}], "retryPolicy": {"maxAttempts": 2, "initialBackoff": "0.001s", "maxBackoff": "0.001s", "backoffMultiplier": 1, "retryableStatusCodes": ["UNAVAILABLE"]}}]}"#;

fn a_retried_call_records_two_attempts_and_one_call<F: Face>() {
    let metrics = Metrics::new();
    let face = F::new();
    let server = face.serve_on(Style::Async, ServerOptions::default().observer(metrics.telemetry().observer()), 0);
    let options = ChannelOptions::default()
        .service_config(RETRY.to_owned())
        .observer(metrics.telemetry().observer());
    let ch = face.channel_with(&server.target(), options);
    let call = face.unary(&ch, Request::new(msg("x")).metadata(md(&[("x-fail", "14")])));
    assert_eq!(call.code, StatusCode::Unavailable);
    metrics.server_ended(2);
    let started = metrics.one("grpc.client.attempt.started", &[("grpc.method", METHOD)]);
    assert_eq!(started.count, 2, "a first attempt and one retry");
    let with = [("grpc.method", METHOD), ("grpc.status", "UNAVAILABLE")];
    assert_eq!(metrics.one("grpc.client.attempt.duration", &with).count, 2);
    assert_eq!(metrics.one("grpc.client.call.duration", &with).count, 1, "one call");
    assert_eq!(metrics.one("grpc.server.call.started", &[("grpc.method", METHOD)]).count, 2);
}

fn an_unregistered_method_is_recorded_as_other<F: Face>() {
    let metrics = Metrics::new();
    let face = F::new();
    let server = face.serve_on(Style::Async, ServerOptions::default().observer(metrics.telemetry().observer()), 0);
    let ch = face.channel_with(&server.target(), ChannelOptions::default().observer(metrics.telemetry().observer()));
    let call = face.unary_at::<Msg>(&ch, "/made.Up/Method", Request::new(msg("x")));
    assert_eq!(call.code, StatusCode::Unimplemented);
    metrics.server_ended(1);
    let server_side = metrics.one("grpc.server.call.duration", &[("grpc.status", "UNIMPLEMENTED")]);
    assert!(
        server_side.attributes.contains(&("grpc.method".to_owned(), "other".to_owned())),
        "{server_side:?}"
    );
    // The client knows which method it called.
    metrics.one("grpc.client.call.duration", &[("grpc.method", "made.Up/Method")]);

    // Unless the server asks for generic methods as they are.
    let all = Metrics::new();
    let telemetry = all.telemetry().record_generic_methods(true);
    let server = face.serve_on(Style::Async, ServerOptions::default().observer(telemetry.observer()), 0);
    // And a client whose targets are all recorded as "other".
    let hidden = all.telemetry().record_target(|_| false);
    let ch = face.channel_with(&server.target(), ChannelOptions::default().observer(hidden.observer()));
    assert_eq!(
        face.unary_at::<Msg>(&ch, "/made.Up/Method", Request::new(msg("x"))).code,
        StatusCode::Unimplemented
    );
    all.server_ended(1);
    all.one("grpc.server.call.started", &[("grpc.method", "made.Up/Method")]);
    all.one("grpc.client.call.duration", &[("grpc.target", "other")]);
}

fn no_observer_records_nothing<F: Face>() {
    let metrics = Metrics::new();
    let face = F::new();
    let server = face.serve(Style::Async);
    let ch = face.channel(&server.target());
    assert_eq!(face.unary(&ch, Request::new(msg("x"))).code, StatusCode::Ok);
    assert!(metrics.points().is_empty());
}

both_faces!(
    unary_ok_and_failed_calls_record_a66_metrics,
    streaming_calls_count_every_message_without_framing,
    a_retried_call_records_two_attempts_and_one_call,
    an_unregistered_method_is_recorded_as_other,
    no_observer_records_nothing,
);
