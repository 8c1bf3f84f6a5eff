//! Golden copy of the registration and file descriptors of what rpc-build generates for `proto/helloworld.proto`,
//! checked by `crates/rpc-build/tests/golden.rs`. Do not edit: rewrite it with
//! `UPDATE_GOLDEN=1 cargo test -p rpc-build --test golden`.
/// Puts a `helloworld.Greeter` servicer on a server. Implemented for every [`GreeterServicer`] (`M` =
/// `::rpc_core::codegen::Blocking`) and every [`AsyncGreeterServicer`] (`M` = `::rpc_core::codegen::Async`);
/// a type that implements both traits names the one meant: `add_greeter_servicer_to_server::<::rpc_core::codegen::Async>(..)`.
pub trait GreeterServicerKind<M> {
    /// Registers every method of the service, and the service descriptor, on `server`.
    fn add_to_server<S: ::rpc_core::codegen::Server>(self, server: &S);
}
impl<T: GreeterServicer> GreeterServicerKind<::rpc_core::codegen::Blocking> for T {
    fn add_to_server<S: ::rpc_core::codegen::Server>(self, server: &S) {
        let servicer = ::std::sync::Arc::new(self);
        {
            let servicer = servicer.clone();
            server
                .add_method(
                    &GREETER_SAY_HELLO,
                    ::rpc_core::codegen::MethodHandler::BlockingUnaryUnary(
                        ::std::sync::Arc::new(move |
                            request: HelloRequest,
                            context: &::rpc_core::codegen::Context|
                        GreeterServicer::say_hello(&*servicer, request, context)),
                    ),
                );
        }
        let _ = servicer;
        server.add_service_descriptor(&GREETER_SERVICE);
    }
}
impl<T: AsyncGreeterServicer> GreeterServicerKind<::rpc_core::codegen::Async> for T {
    fn add_to_server<S: ::rpc_core::codegen::Server>(self, server: &S) {
        let servicer = ::std::sync::Arc::new(self);
        {
            let servicer = servicer.clone();
            server
                .add_method(
                    &GREETER_SAY_HELLO,
                    ::rpc_core::codegen::MethodHandler::AsyncUnaryUnary(
                        ::std::sync::Arc::new(move |
                            request: HelloRequest,
                            context: ::rpc_core::codegen::Context,
                        | -> ::rpc_core::codegen::BoxFuture<
                            ::core::result::Result<
                                HelloReply,
                                ::rpc_core::codegen::Error,
                            >,
                        > {
                            let servicer = servicer.clone();
                            ::std::boxed::Box::pin(async move {
                                AsyncGreeterServicer::say_hello(
                                        &*servicer,
                                        request,
                                        &context,
                                    )
                                    .await
                            })
                        }),
                    ),
                );
        }
        let _ = servicer;
        server.add_service_descriptor(&GREETER_SERVICE);
    }
}
/// Registers `servicer` for every method of `helloworld.Greeter` on `server` (either face). The servicer
/// may implement [`GreeterServicer`] or [`AsyncGreeterServicer`]; an `Arc` of one works too.
pub fn add_greeter_servicer_to_server<M>(
    servicer: impl GreeterServicerKind<M>,
    server: &impl ::rpc_core::codegen::Server,
) {
    servicer.add_to_server(server)
}
/// The encoded `FileDescriptorSet` of this package's proto files and everything they import
/// (without source info), for reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = b"\x0a\xbb\x01\x0a\x10\x68\x65\x6c\x6c\x6f\x77\x6f\x72\x6c\x64\x2e\x70\x72\x6f\x74\x6f\x12\x0a\x68\x65\x6c\x6c\x6f\x77\x6f\x72\x6c\x64\x22\x22\x0a\x0c\x48\x65\x6c\x6c\x6f\x52\x65\x71\x75\x65\x73\x74\x12\x12\x0a\x04\x6e\x61\x6d\x65\x18\x01\x20\x01\x28\x09\x52\x04\x6e\x61\x6d\x65\x22\x26\x0a\x0a\x48\x65\x6c\x6c\x6f\x52\x65\x70\x6c\x79\x12\x18\x0a\x07\x6d\x65\x73\x73\x61\x67\x65\x18\x01\x20\x01\x28\x09\x52\x07\x6d\x65\x73\x73\x61\x67\x65\x32\x47\x0a\x07\x47\x72\x65\x65\x74\x65\x72\x12\x3c\x0a\x08\x53\x61\x79\x48\x65\x6c\x6c\x6f\x12\x18\x2e\x68\x65\x6c\x6c\x6f\x77\x6f\x72\x6c\x64\x2e\x48\x65\x6c\x6c\x6f\x52\x65\x71\x75\x65\x73\x74\x1a\x16\x2e\x68\x65\x6c\x6c\x6f\x77\x6f\x72\x6c\x64\x2e\x48\x65\x6c\x6c\x6f\x52\x65\x70\x6c\x79\x62\x06\x70\x72\x6f\x74\x6f\x33";
