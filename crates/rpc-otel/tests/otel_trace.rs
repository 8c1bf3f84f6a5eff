//! Spans and trace context, read back from the SDK's in-memory span exporter through
//! `tracing-opentelemetry`, for both faces: the client span is a child of the span current
//! where the call was made, the server span's parent is the client span (W3C
//! `traceparent` in the request metadata), both carry the RPC semantic-convention
//! attributes and the status code, and a handler's own events (async or blocking, on the
//! pool) land inside the server span.

use opentelemetry::trace::{SpanKind, TraceContextExt, TracerProvider as _};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use rpc_core::{ChannelOptions, Request, RpcError, ServerOptions, StatusCode};
use rpc_otel::Telemetry;
use rpc_testkit::{Face, Msg, Peer, Style, both_faces, eventually, md, msg};
use std::sync::OnceLock;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

/// The process-wide subscriber (spans are made on the runtimes' threads too), exporting
/// every finished span to one in-memory exporter; tests find their own by trace id.
fn exporter() -> &'static InMemorySpanExporter {
    static EXPORTER: OnceLock<InMemorySpanExporter> = OnceLock::new();
    EXPORTER.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
        // The library's spans and this test's own; not the transport's trace events.
        let only = tracing_subscriber::filter::Targets::new()
            .with_target("rpc_aio", tracing::Level::TRACE)
            .with_target("otel_trace", tracing::Level::TRACE);
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("tests")))
            .with(only);
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
        exporter
    })
}

/// The value of the span's attribute `key`, which it must have at most once.
fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    let mut values = span
        .attributes
        .iter()
        .filter(|kv| kv.key.as_str() == key)
        .map(|kv: &KeyValue| &kv.value);
    let first = values.next();
    assert_eq!(values.next(), None, "{key} recorded more than once on {span:?}");
    first
}

/// The finished span of `kind` in `trace` named `name`, once it is exported.
fn wait_span(trace: opentelemetry::trace::TraceId, kind: SpanKind, name: &str) -> SpanData {
    let find = || {
        exporter()
            .get_finished_spans()
            .expect("exported spans")
            .into_iter()
            .find(|s| s.span_context.trace_id() == trace && s.span_kind == kind && s.name == name)
    };
    eventually(format!("a {kind:?} span {name} in trace {trace}"), || find().is_some()).wait();
    find().unwrap_or_else(|| unreachable!())
}

fn telemetry() -> Telemetry {
    Telemetry::new().with_propagator(TraceContextPropagator::new())
}

/// Calls `path` inside a root span of the test's; returns the call's code and the trace id.
fn call_in_root<F: Face>(face: &F, ch: &F::Channel, path: &str, request: Request<Msg>) -> (StatusCode, opentelemetry::trace::TraceId) {
    let root = tracing::info_span!("test-root");
    let code = root.in_scope(|| face.unary_at::<Msg>(ch, path, request).code);
    let trace = root.context().span().span_context().trace_id();
    (code, trace)
}

fn the_server_span_is_a_child_of_the_client_span<F: Face>() {
    exporter();
    let face = F::new();
    for style in Style::ALL {
        let server = face.serve_on(style, ServerOptions::default().observer(telemetry().observer()), 0);
        let ch = face.channel_with(&server.target(), ChannelOptions::default().observer(telemetry().observer()));
        let (code, trace) = call_in_root(&face, &ch, "/test.Svc/Unary", Request::new(msg("x")));
        assert_eq!(code, StatusCode::Ok);
        let root = wait_span(trace, SpanKind::Internal, "test-root");
        let client = wait_span(trace, SpanKind::Client, "test.Svc/Unary");
        assert_eq!(
            client.parent_span_id,
            root.span_context.span_id(),
            "{style:?}: the client span is the caller's child"
        );
        let server_span = wait_span(trace, SpanKind::Server, "test.Svc/Unary");
        assert_eq!(
            server_span.parent_span_id,
            client.span_context.span_id(),
            "{style:?}: the server span's parent is the client span"
        );
        assert!(server_span.parent_span_is_remote, "{style:?}: the parent came over the wire");
        for span in [&client, &server_span] {
            assert_eq!(attribute(span, "rpc.system"), Some(&Value::from("grpc")), "{span:?}");
            assert_eq!(attribute(span, "rpc.service"), Some(&Value::from("test.Svc")), "{span:?}");
            assert_eq!(attribute(span, "rpc.method"), Some(&Value::from("Unary")), "{span:?}");
            assert_eq!(attribute(span, "rpc.grpc.status_code"), Some(&Value::I64(0)), "{span:?}");
        }
        assert_eq!(attribute(&server_span, "network.peer.address"), Some(&Value::from("127.0.0.1")));
        assert!(
            matches!(attribute(&server_span, "network.peer.port"), Some(Value::I64(p)) if *p > 0),
            "{server_span:?}"
        );
        assert_eq!(
            attribute(&client, "server.address").map(|v| v.to_string()),
            Some(server.target()),
            "the client span names the server"
        );
    }
}

fn a_failed_call_records_its_status_code_on_both_spans<F: Face>() {
    exporter();
    let face = F::new();
    let server = face.serve_on(Style::Async, ServerOptions::default().observer(telemetry().observer()), 0);
    let ch = face.channel_with(&server.target(), ChannelOptions::default().observer(telemetry().observer()));
    let request = Request::new(msg("x")).metadata(md(&[("x-fail", "5")]));
    let (code, trace) = call_in_root(&face, &ch, "/test.Svc/Unary", request);
    assert_eq!(code, StatusCode::NotFound);
    for kind in [SpanKind::Client, SpanKind::Server] {
        let span = wait_span(trace, kind.clone(), "test.Svc/Unary");
        assert_eq!(attribute(&span, "rpc.grpc.status_code"), Some(&Value::I64(5)), "{kind:?}");
        assert!(
            matches!(span.status, opentelemetry::trace::Status::Error { .. }),
            "{kind:?}: {:?}",
            span.status
        );
    }
}

fn without_a_propagator_the_server_span_starts_its_own_trace<F: Face>() {
    exporter();
    let face = F::new();
    let server = face.serve(Style::Async);
    let ch = face.channel(&server.target());
    let (code, trace) = call_in_root(&face, &ch, "/test.Svc/Unary", Request::new(msg("x")));
    assert_eq!(code, StatusCode::Ok);
    // The client span is still the caller's child (spans need no observer) ...
    wait_span(trace, SpanKind::Client, "test.Svc/Unary");
    // ... but nothing carried its context, so the server's span is in a trace of its own.
    let spans = exporter().get_finished_spans().expect("exported spans");
    assert!(
        !spans
            .iter()
            .any(|s| s.span_context.trace_id() == trace && s.span_kind == SpanKind::Server),
        "no server span joined the caller's trace"
    );
}

/// A handler's own `tracing` events are events of the server span, blocking handlers
/// (on the worker pool) and async ones alike.
fn handler_events_are_inside_the_server_span<F: Face>() {
    exporter();
    let face = F::new();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let server = rpc_aio::server(ServerOptions::default().observer(telemetry().observer()));
    server.add_method_handler(
        "/t.Events/Blocking",
        rpc_testkit::blocking_unary(|m: Msg, _ctx| {
            tracing::info!(text = %m.text, "inside the blocking handler");
            Ok(m)
        }),
    );
    server.add_method_handler(
        "/t.Events/Async",
        rpc_aio::unary_unary_rpc_method_handler(|m: Msg, _ctx| async move {
            tracing::info!(text = %m.text, "inside the async handler");
            Ok::<_, RpcError>(m)
        }),
    );
    let port = server.add_insecure_port("127.0.0.1:0").expect("a loopback port");
    runtime.block_on(server.start()).expect("the server starts");
    let ch = face.channel_with(
        &format!("127.0.0.1:{port}"),
        ChannelOptions::default().observer(telemetry().observer()),
    );
    for (path, event) in [
        ("/t.Events/Blocking", "inside the blocking handler"),
        ("/t.Events/Async", "inside the async handler"),
    ] {
        let (code, trace) = call_in_root(&face, &ch, path, Request::new(msg("hi")));
        assert_eq!(code, StatusCode::Ok, "{path}");
        let span = wait_span(trace, SpanKind::Server, path.trim_start_matches('/'));
        assert!(
            span.events.iter().any(|e| e.name == event),
            "{path}: the handler's event is in the server span: {:?}",
            span.events
        );
    }
    runtime.block_on(server.stop(None));
}

both_faces!(
    the_server_span_is_a_child_of_the_client_span,
    a_failed_call_records_its_status_code_on_both_spans,
    without_a_propagator_the_server_span_starts_its_own_trace,
    handler_events_are_inside_the_server_span,
);
