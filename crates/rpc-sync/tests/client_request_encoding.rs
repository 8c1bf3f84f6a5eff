//! A long request stream from a blocking iterator, whose thread encodes the requests it
//! pulls: every request arrives, in order and whole, compressed but where the caller said
//! not; a request over the channel's send limit fails the call RESOURCE_EXHAUSTED; and an
//! interceptor's request hook still sees every request.

use rpc_sync::{
    ChannelOptions, ClientCallDetails, Compression, Next, OutgoingMessage, RequestSource, ServerOptions, StatusCode, intercept_channel,
};
use rpc_testkit::{Msg, blocking_stream_unary};
use std::sync::{Arc, Mutex};

const COLLECT: &str = "/test.Svc/Collect";
const COUNT: i32 = 300;
/// The requests the caller sends uncompressed.
const PLAIN: [i32; 3] = [1, 150, 299];

/// The `n`th request: 600 bytes that do not compress away.
fn request(n: i32) -> Msg {
    let mut rng = fastrand::Rng::with_seed(n as u64);
    Msg {
        text: n.to_string(),
        payload: (0..600).map(|_| rng.u8(..)).collect(),
        n,
    }
}

fn requests(count: i32) -> RequestSource<Msg> {
    RequestSource::messages((0..count).map(|n| {
        let m = OutgoingMessage::new(request(n));
        if PLAIN.contains(&n) { m.uncompressed() } else { m }
    }))
}

/// What the server saw of each request: the message and whether it came compressed.
type Seen = Arc<Mutex<Vec<(Msg, bool)>>>;

fn server() -> (rpc_sync::Server, String, Seen) {
    let server = rpc_sync::server(ServerOptions::default()).unwrap();
    let seen = Seen::default();
    let log = seen.clone();
    server.add_method_handler(
        COLLECT,
        blocking_stream_unary(move |requests, ctx| {
            let mut n = 0;
            for r in requests {
                log.lock().unwrap().push((r?, ctx.last_request_compressed()));
                n += 1;
            }
            Ok(Msg { n, ..Msg::default() })
        }),
    );
    let port = server.add_insecure_port("127.0.0.1:0").unwrap();
    server.start().unwrap();
    (server, format!("127.0.0.1:{port}"), seen)
}

fn channel(target: &str, options: ChannelOptions) -> rpc_sync::Channel {
    rpc_sync::insecure_channel(target, options).unwrap()
}

#[test]
fn a_long_request_stream_arrives_whole_in_order_and_compressed_as_asked() {
    let (_server, target, seen) = server();
    let ch = channel(&target, ChannelOptions::default().default_compression(Compression::Gzip));
    let reply = ch.stream_unary::<Msg, Msg>(COLLECT).call(requests(COUNT)).unwrap();
    assert_eq!(reply.n, COUNT);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), COUNT as usize);
    for (n, (got, compressed)) in seen.iter().enumerate() {
        let n = n as i32;
        assert_eq!(*got, request(n), "request {n}");
        assert_eq!(*compressed, !PLAIN.contains(&n), "request {n}");
    }
}

#[test]
fn a_request_over_the_send_limit_fails_the_call_resource_exhausted() {
    let (_server, target, seen) = server();
    let ch = channel(&target, ChannelOptions::default().max_send_message_length(2000));
    let big = (0..COUNT).map(|n| {
        OutgoingMessage::new(if n == 200 {
            Msg {
                payload: vec![7; 5000],
                ..request(n)
            }
        } else {
            request(n)
        })
    });
    let err = ch.stream_unary::<Msg, Msg>(COLLECT).call(RequestSource::messages(big)).unwrap_err();
    assert_eq!(err.code(), StatusCode::ResourceExhausted, "{err}");
    let seen = seen.lock().unwrap();
    assert!(seen.len() <= 200, "nothing after the refused request: {}", seen.len());
    for (n, (got, _)) in seen.iter().enumerate() {
        assert_eq!(*got, request(n as i32), "request {n}");
    }
}

#[test]
fn an_interceptors_request_hook_sees_every_request_of_a_long_stream() {
    let (_server, target, seen) = server();
    let hooked = Arc::new(Mutex::new(0));
    let count = hooked.clone();
    let marker = move |mut details: ClientCallDetails, next: Next| {
        let count = count.clone();
        details.on_request(move |m| {
            if let Some(m) = m.downcast_mut::<Msg>() {
                m.text.push('!');
                *count.lock().unwrap() += 1;
            }
        });
        next.run(details)
    };
    let ch = intercept_channel(&channel(&target, ChannelOptions::default()), [marker]);
    assert_eq!(ch.stream_unary::<Msg, Msg>(COLLECT).call(requests(COUNT)).unwrap().n, COUNT);
    assert_eq!(*hooked.lock().unwrap(), COUNT);
    let seen = seen.lock().unwrap();
    for (n, (got, _)) in seen.iter().enumerate() {
        let mut want = request(n as i32);
        want.text.push('!');
        assert_eq!(*got, want, "request {n}");
    }
}
