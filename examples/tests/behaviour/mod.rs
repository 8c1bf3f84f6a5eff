//! The behaviour suite, written once and run against both faces: each face implements
//! [`Face`] (a server of that face with the suite's servicers, and a client of that face),
//! and `behaviour_suite!` instantiates every test for it.

pub mod servicers;

use examples::pb::helloworld::HelloReply;
use examples::pb::routeguide::{Feature, Point, RouteNote, RouteSummary};
use rpc_core::{Metadata, Request, RpcError, StatusCode};
use servicers::{CANCELLED_SEEN, STARTED_SLEEPING};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// A reply with the initial and trailing metadata that came with it.
pub type WithMetadata = (HelloReply, Metadata, Metadata);
/// A call running in the background; calling it waits for its outcome.
pub type Pending = Box<dyn FnOnce() -> Result<HelloReply, RpcError> + Send>;

/// One face: a running server of that face and a client channel of that face to it.
pub trait Face: Sized {
    /// Starts a server with the suite's servicers and an interceptor that rejects calls
    /// carrying `x-reject` metadata with UNAUTHENTICATED; connects a client.
    fn start() -> Self;
    /// Stops the server with `grace` and blocks until it has terminated.
    fn stop(&self, grace: Option<Duration>);
    /// SayHello, with the reply's metadata.
    fn hello(&self, request: Request<examples::pb::helloworld::HelloRequest>) -> Result<WithMetadata, RpcError>;
    /// SayHello started in the background.
    fn hello_in_background(&self, request: Request<examples::pb::helloworld::HelloRequest>) -> Pending;
    /// ListFeatures asking for `n` features.
    fn list(&self, n: i32) -> Result<Vec<Feature>, RpcError>;
    /// RecordRoute over `points`.
    fn record(&self, points: Vec<Point>) -> Result<RouteSummary, RpcError>;
    /// RouteChat with `notes`.
    fn chat(&self, notes: Vec<RouteNote>) -> Result<Vec<RouteNote>, RpcError>;
}

fn hello(name: &str) -> Request<examples::pb::helloworld::HelloRequest> {
    Request::new(examples::pb::helloworld::HelloRequest { name: name.to_owned() })
}

fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let limit = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < limit, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub fn all_four_kinds<F: Face>() {
    let face = F::start();
    assert_eq!(face.hello(hello("ok")).unwrap().0.message, "hello ok");
    let features = face.list(3).unwrap();
    assert_eq!(
        features.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        ["feature 0", "feature 1", "feature 2"]
    );
    assert!(face.list(0).unwrap().is_empty());
    let points = (1..=4).map(|latitude| Point { latitude, longitude: 0 }).collect();
    let summary = face.record(points).unwrap();
    assert_eq!((summary.point_count, summary.distance), (4, 10));
    let notes: Vec<RouteNote> = (0..3)
        .map(|i| RouteNote {
            location: None,
            message: format!("n{i}"),
        })
        .collect();
    let replies = face.chat(notes).unwrap();
    assert_eq!(
        replies.iter().map(|n| n.message.as_str()).collect::<Vec<_>>(),
        ["re: n0", "re: n1", "re: n2"]
    );
    face.stop(None);
}

pub fn metadata_both_ways<F: Face>() {
    let face = F::start();
    let md = Metadata::from_pairs([("x-text", rpc_core::MetadataValue::from("v1"))])
        .unwrap()
        .with("x-blob-bin", vec![0u8, 255, 10])
        .unwrap();
    let (reply, initial, trailing) = face.hello(hello("echo-metadata").metadata(md)).unwrap();
    assert_eq!(reply.message, "hello echo-metadata");
    assert_eq!(initial.get_str("x-text-initial"), Some("v1"));
    assert_eq!(
        initial.get("x-blob-initial-bin").map(|v| v.as_bytes().to_vec()),
        Some(vec![0, 255, 10])
    );
    assert_eq!(trailing.get_str("x-text-trailing"), Some("v1"));
    assert_eq!(
        trailing.get("x-blob-trailing-bin").map(|v| v.as_bytes().to_vec()),
        Some(vec![0, 255, 10])
    );
    face.stop(None);
}

pub fn status_codes_and_trailers_on_error<F: Face>() {
    let face = F::start();
    for code in [
        StatusCode::NotFound,
        StatusCode::InvalidArgument,
        StatusCode::PermissionDenied,
        StatusCode::Internal,
    ] {
        let err = face.hello(hello(&format!("abort:{}", code.name()))).unwrap_err();
        assert_eq!(err.code(), code);
        assert_eq!(err.details(), format!("aborted with {code} as asked"));
        assert_eq!(err.trailing_metadata().get_str("x-why"), Some("asked to abort"));
    }
    face.stop(None);
}

pub fn panicking_handler_is_unknown_and_server_carries_on<F: Face>() {
    let face = F::start();
    let err = face.hello(hello("panic")).unwrap_err();
    assert_eq!(err.code(), StatusCode::Unknown);
    assert!(err.details().contains("handler panicked as asked"), "{err}");
    assert_eq!(face.hello(hello("ok")).unwrap().0.message, "hello ok");
    face.stop(None);
}

pub fn deadline_exceeded_and_handler_cancelled<F: Face>() {
    let face = F::start();
    let before = CANCELLED_SEEN.load(Ordering::SeqCst);
    let err = face.hello(hello("sleep:20000").timeout(Duration::from_millis(200))).unwrap_err();
    assert_eq!(err.code(), StatusCode::DeadlineExceeded, "{err}");
    wait_until("the handler to see its deadline", || CANCELLED_SEEN.load(Ordering::SeqCst) > before);
    face.stop(None);
}

pub fn interceptor_rejects<F: Face>() {
    let face = F::start();
    let md = Metadata::from_pairs([("x-reject", "yes")]).unwrap();
    let err = face.hello(hello("ok").metadata(md)).unwrap_err();
    assert_eq!(err.code(), StatusCode::Unauthenticated);
    assert_eq!(face.hello(hello("ok")).unwrap().0.message, "hello ok");
    face.stop(None);
}

pub fn stop_lets_in_flight_finish_within_grace<F: Face>() {
    let face = F::start();
    let started = STARTED_SLEEPING.load(Ordering::SeqCst);
    let pending = face.hello_in_background(hello("sleep:300"));
    wait_until("the call to reach its handler", || {
        STARTED_SLEEPING.load(Ordering::SeqCst) > started
    });
    face.stop(Some(Duration::from_secs(10)));
    assert_eq!(pending().unwrap().message, "hello sleep:300");
    let err = face.hello(hello("ok").timeout(Duration::from_secs(5))).unwrap_err();
    assert_eq!(err.code(), StatusCode::Unavailable, "{err}");
}

pub fn stop_cancels_handlers_still_running_when_grace_ends<F: Face>() {
    let face = F::start();
    let started = STARTED_SLEEPING.load(Ordering::SeqCst);
    let cancelled = CANCELLED_SEEN.load(Ordering::SeqCst);
    let pending = face.hello_in_background(hello("sleep:600000"));
    wait_until("the call to reach its handler", || {
        STARTED_SLEEPING.load(Ordering::SeqCst) > started
    });
    face.stop(Some(Duration::from_millis(200)));
    let err = pending().unwrap_err();
    assert_ne!(err.code(), StatusCode::Ok);
    wait_until("the handler to see the stop", || CANCELLED_SEEN.load(Ordering::SeqCst) > cancelled);
}

/// Instantiates every test of the suite for a face.
#[macro_export]
macro_rules! behaviour_suite {
    ($face:ty) => {
        #[test]
        fn all_four_kinds() {
            behaviour::all_four_kinds::<$face>();
        }
        #[test]
        fn metadata_both_ways() {
            behaviour::metadata_both_ways::<$face>();
        }
        #[test]
        fn status_codes_and_trailers_on_error() {
            behaviour::status_codes_and_trailers_on_error::<$face>();
        }
        #[test]
        fn panicking_handler_is_unknown_and_server_carries_on() {
            behaviour::panicking_handler_is_unknown_and_server_carries_on::<$face>();
        }
        #[test]
        fn deadline_exceeded_and_handler_cancelled() {
            behaviour::deadline_exceeded_and_handler_cancelled::<$face>();
        }
        #[test]
        fn interceptor_rejects() {
            behaviour::interceptor_rejects::<$face>();
        }
        #[test]
        fn stop_lets_in_flight_finish_within_grace() {
            behaviour::stop_lets_in_flight_finish_within_grace::<$face>();
        }
        #[test]
        fn stop_cancels_handlers_still_running_when_grace_ends() {
            behaviour::stop_cancels_handlers_still_running_when_grace_ends::<$face>();
        }
    };
}
