//! Code generated from a proto full of awkward names (Rust keywords, a service called
//! `Self`, methods called `New` and `Channel`, a service without methods) compiles and
//! works, here against a renamed codegen path (`crate::cg`).

use std::sync::Mutex;

/// The codegen path the awkward proto was generated against.
mod cg {
    pub use rpc_core::codegen::*;
}

// This test uses only part of the generated API; the rest is unused here by design.
#[allow(dead_code)]
mod pb {
    include!(concat!(env!("OUT_DIR"), "/keywords/_includes.rs"));
}

use pb::kw::r#type::v1::*;

/// Every stub method exists with the expected (escaped or renamed) name and return type.
#[allow(dead_code, clippy::type_complexity)]
fn stub_methods<C: cg::Channel>(
    stub: &SelfStub<C>,
) -> (
    cg::UnaryUnaryCall<C, Match, Match>,
    cg::UnaryUnaryFuture<C, Match, Match>,
    cg::StreamUnaryCall<C, Match, Match>,
    cg::UnaryStreamCall<C, Match, Match>,
) {
    let _: cg::UnaryUnaryWithCall<C, Match, Match> = stub.type_with_call(Match::default());
    let _: cg::StreamUnaryWithCall<C, Match, Match> = stub.call_new_with_call(vec![Match::default()]);
    let _: cg::StreamStreamCall<C, Match, Match> = stub.r#async(cg::WriteRequests);
    (
        stub.r#type(Match::default()),
        stub.type_future(Match::default()),
        stub.call_new(vec![Match::default()]),
        stub.call_channel(Match::default()),
    )
}

#[derive(Default)]
struct Paths(Mutex<Vec<(&'static str, bool)>>);

impl cg::Server for Paths {
    fn add_method<Req, Resp>(&self, method: &'static cg::MethodDescriptor, handler: cg::MethodHandler<Req, Resp>)
    where
        Req: prost::Message + Default + Send + 'static,
        Resp: prost::Message + Send + 'static,
    {
        assert_eq!(method.kind, handler.kind(), "{} registered with the wrong kind", method.path);
        self.0.lock().unwrap().push((method.path, handler.is_blocking()));
    }

    fn add_service_descriptor(&self, service: &'static cg::ServiceDescriptor) {
        self.0.lock().unwrap().push((service.name, false));
    }
}

struct Awkward;

impl SelfServicer for Awkward {
    fn r#type(&self, request: Match, _context: &cg::Context) -> Result<Match, cg::Error> {
        Ok(request)
    }
}

impl AsyncSelfServicer for Awkward {
    async fn r#async(&self, _requests: cg::ReqStream<Match>, _context: &cg::Context) -> Result<cg::RespStream<Match>, cg::Error> {
        Ok(cg::RespStream::empty())
    }
}

impl NothingServicer for Awkward {}

#[test]
fn awkward_names_register_for_both_kinds() {
    let server = Paths::default();
    add_self_servicer_to_server::<cg::Blocking>(Awkward, &server);
    add_self_servicer_to_server::<cg::Async>(Awkward, &server);
    add_nothing_servicer_to_server(Awkward, &server);
    let seen = server.0.lock().unwrap().clone();
    let paths = [
        "/kw.type.v1.Self/Type",
        "/kw.type.v1.Self/New",
        "/kw.type.v1.Self/Channel",
        "/kw.type.v1.Self/Async",
    ];
    let mut expected: Vec<(&str, bool)> = paths.iter().map(|p| (*p, true)).collect();
    expected.push(("kw.type.v1.Self", false));
    expected.extend(paths.iter().map(|p| (*p, false)));
    expected.push(("kw.type.v1.Self", false));
    expected.push(("kw.type.v1.Nothing", false));
    assert_eq!(seen, expected);
    assert_eq!(SELF_SERVICE.methods.len(), 4);
    assert!(NOTHING_SERVICE.methods.is_empty());
    assert_eq!(SELF_NEW.kind, cg::MethodKind::StreamUnary);
}
