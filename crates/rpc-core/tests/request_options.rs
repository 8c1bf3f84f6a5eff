//! `Request`, `CallOptions` and the `IntoRequest` / `IntoStreamingRequest` conversions.

use rpc_core::{
    CallCredentials, CallOptions, Compression, IntoRequest, IntoStreamingRequest, Metadata, Request, RequestSource, WriteRequests, stream,
};
use std::time::{Duration, Instant};

#[test]
fn builder_sets_every_option() {
    let deadline = Instant::now() + Duration::from_secs(60);
    let req = Request::new(7u32)
        .timeout(Duration::from_secs(2))
        .deadline(deadline)
        .metadata(Metadata::new().with("x-a", "1").unwrap())
        .credentials(CallCredentials::access_token("t"))
        .wait_for_ready(true)
        .compression(Compression::Gzip)
        .ignore_inherited_deadline();
    let o = req.options();
    assert_eq!(o.timeout, Some(Duration::from_secs(2)));
    assert_eq!(o.deadline, Some(deadline));
    assert_eq!(o.metadata.get_str("x-a"), Some("1"));
    assert!(o.credentials.is_some());
    assert_eq!(o.wait_for_ready, Some(true));
    assert_eq!(o.compression, Some(Compression::Gzip));
    assert!(o.ignore_inherited_deadline);
    assert_eq!(*req.get_ref(), 7);

    let defaults = Request::new(()).into_parts().1;
    assert_eq!(defaults.timeout, None);
    assert_eq!(defaults.wait_for_ready, None);
    assert!(!defaults.ignore_inherited_deadline);
}

#[test]
fn request_accessors_and_map_keep_options() {
    let mut req = Request::new(1).timeout(Duration::from_secs(1));
    *req.get_mut() += 1;
    req.options_mut().wait_for_ready = Some(false);
    let mapped = req.map(|n| n.to_string());
    assert_eq!(mapped.get_ref(), "2");
    assert_eq!(mapped.options().timeout, Some(Duration::from_secs(1)));
    assert_eq!(mapped.options().wait_for_ready, Some(false));
    let (msg, opts) = mapped.clone().into_parts();
    let rebuilt = Request::from_parts(msg, opts);
    assert_eq!(rebuilt.into_inner(), "2");
    assert!(format!("{mapped:?}").contains("\"2\""));
}

#[test]
fn into_request_for_message_and_request() {
    let from_msg: Request<&str> = "hi".into_request();
    assert_eq!(*from_msg.get_ref(), "hi");
    assert_eq!(from_msg.options().timeout, None);
    let from_req: Request<&str> = Request::new("hi").timeout(Duration::from_secs(5)).into_request();
    assert_eq!(from_req.options().timeout, Some(Duration::from_secs(5)));
}

fn drain<T>(source: RequestSource<T>) -> Vec<T> {
    match source {
        RequestSource::Iter(it) => it.collect(),
        RequestSource::Stream(s) => futures::executor::block_on(futures::StreamExt::collect(s)),
        RequestSource::Writer => Vec::new(),
    }
}

#[test]
fn streaming_request_sources_have_the_right_variant() {
    let vec = IntoStreamingRequest::<u8>::into_streaming_request(vec![1u8, 2, 3]);
    assert!(matches!(vec.get_ref(), RequestSource::Iter(_)));
    assert_eq!(drain(vec.into_inner()), [1, 2, 3]);

    let iter = IntoStreamingRequest::<u32>::into_streaming_request((0..4u32).map(|n| n * 10));
    assert!(matches!(iter.get_ref(), RequestSource::Iter(_)));
    assert_eq!(drain(iter.into_inner()), [0, 10, 20, 30]);

    let streamed = IntoStreamingRequest::<i32>::into_streaming_request(stream(futures::stream::iter(vec![5, 6])));
    assert!(matches!(streamed.get_ref(), RequestSource::Stream(_)));
    assert_eq!(drain(streamed.into_inner()), [5, 6]);

    let writer = IntoStreamingRequest::<String>::into_streaming_request(WriteRequests);
    assert!(matches!(writer.get_ref(), RequestSource::Writer));
    assert_eq!(format!("{:?}", writer.get_ref()), "RequestSource::Writer");

    let wrapped = IntoStreamingRequest::<u8>::into_streaming_request(Request::new(vec![9u8]).timeout(Duration::from_secs(3)));
    assert!(matches!(wrapped.get_ref(), RequestSource::Iter(_)));
    assert_eq!(wrapped.options().timeout, Some(Duration::from_secs(3)));
    assert_eq!(drain(wrapped.into_inner()), [9]);

    let wrapped_stream =
        IntoStreamingRequest::<u8>::into_streaming_request(Request::new(stream(futures::stream::empty())).wait_for_ready(true));
    assert!(matches!(wrapped_stream.get_ref(), RequestSource::Stream(_)));
    assert_eq!(wrapped_stream.options().wait_for_ready, Some(true));

    let wrapped_writer = IntoStreamingRequest::<u8>::into_streaming_request(Request::new(WriteRequests));
    assert!(matches!(wrapped_writer.get_ref(), RequestSource::Writer));
}

#[test]
fn deadline_from_picks_the_earlier_of_timeout_and_deadline() {
    let now = Instant::now();
    let mut o = CallOptions::default();
    assert_eq!(o.deadline_from(now), None);
    o.timeout = Some(Duration::from_secs(10));
    assert_eq!(o.deadline_from(now), Some(now + Duration::from_secs(10)));
    o.deadline = Some(now + Duration::from_secs(5));
    assert_eq!(o.deadline_from(now), Some(now + Duration::from_secs(5)), "the deadline is earlier");
    o.deadline = Some(now + Duration::from_secs(50));
    assert_eq!(o.deadline_from(now), Some(now + Duration::from_secs(10)), "the timeout is earlier");
    o.timeout = None;
    assert_eq!(o.deadline_from(now), Some(now + Duration::from_secs(50)));
    o.timeout = Some(Duration::MAX);
    assert_eq!(
        o.deadline_from(now),
        Some(now + Duration::from_secs(50)),
        "an overflowing timeout does not hide the deadline"
    );
}
