//! `Request`, `CallOptions` and the `IntoRequest` / `IntoStreamingRequest` conversions.

use rpc_core::{
    CallCredentials, CallOptions, Compression, IntoRequest, IntoStreamingRequest, Metadata, OutgoingMessage, Request, RequestSource,
    SourceKind, WriteOptions, WriteRequests, stream,
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
    match source.into_kind() {
        SourceKind::Iter(it) => it.map(|m| m.message).collect(),
        SourceKind::Stream(s) => futures::executor::block_on(futures::StreamExt::collect::<Vec<_>>(s))
            .into_iter()
            .map(|m| m.message)
            .collect(),
        SourceKind::Writer => Vec::new(),
    }
}

fn kind<T>(source: &RequestSource<T>) -> String {
    format!("{source:?}")
}

#[test]
fn streaming_request_sources_have_the_right_variant() {
    let vec = IntoStreamingRequest::<u8>::into_streaming_request(vec![1u8, 2, 3]);
    assert_eq!(kind(vec.get_ref()), "RequestSource::Iter");
    assert_eq!(drain(vec.into_inner()), [1, 2, 3]);

    let iter = IntoStreamingRequest::<u32>::into_streaming_request((0..4u32).map(|n| n * 10));
    assert_eq!(kind(iter.get_ref()), "RequestSource::Iter");
    assert_eq!(drain(iter.into_inner()), [0, 10, 20, 30]);

    let streamed = IntoStreamingRequest::<i32>::into_streaming_request(stream(futures::stream::iter(vec![5, 6])));
    assert_eq!(kind(streamed.get_ref()), "RequestSource::Stream");
    assert_eq!(drain(streamed.into_inner()), [5, 6]);

    let writer = IntoStreamingRequest::<String>::into_streaming_request(WriteRequests);
    assert_eq!(kind(writer.get_ref()), "RequestSource::Writer");
    assert_eq!(format!("{:?}", writer.get_ref()), "RequestSource::Writer");

    let wrapped = IntoStreamingRequest::<u8>::into_streaming_request(Request::new(vec![9u8]).timeout(Duration::from_secs(3)));
    assert_eq!(kind(wrapped.get_ref()), "RequestSource::Iter");
    assert_eq!(wrapped.options().timeout, Some(Duration::from_secs(3)));
    assert_eq!(drain(wrapped.into_inner()), [9]);

    let wrapped_stream =
        IntoStreamingRequest::<u8>::into_streaming_request(Request::new(stream(futures::stream::empty())).wait_for_ready(true));
    assert_eq!(kind(wrapped_stream.get_ref()), "RequestSource::Stream");
    assert_eq!(wrapped_stream.options().wait_for_ready, Some(true));

    let wrapped_writer = IntoStreamingRequest::<u8>::into_streaming_request(Request::new(WriteRequests));
    assert_eq!(kind(wrapped_writer.get_ref()), "RequestSource::Writer");
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

#[test]
fn per_message_write_options_travel_with_each_message() {
    let source = RequestSource::messages(vec![OutgoingMessage::new(1u8), OutgoingMessage::new(2u8).uncompressed()]);
    let SourceKind::Iter(iter) = source.into_kind() else {
        panic!("an iterator source")
    };
    let options: Vec<WriteOptions> = iter.map(|m| m.options).collect();
    assert_eq!(options, [WriteOptions::new(), WriteOptions::new().no_compress()]);
    let plain = RequestSource::iter(vec![7u8]);
    let SourceKind::Iter(mut iter) = plain.into_kind() else {
        panic!("an iterator source")
    };
    assert_eq!(iter.next(), Some(OutgoingMessage::new(7u8)));
}
