//! Golden copy of the registration and file descriptors of what rpc-build generates for `proto/route_guide.proto`,
//! checked by `crates/rpc-build/tests/golden.rs`. Do not edit: rewrite it with
//! `UPDATE_GOLDEN=1 cargo test -p rpc-build --test golden`.
/// Puts a `routeguide.RouteGuide` servicer on a server. Implemented for every [`RouteGuideServicer`] (`M` =
/// `::rpc_core::codegen::Blocking`) and every [`AsyncRouteGuideServicer`] (`M` = `::rpc_core::codegen::Async`);
/// a type that implements both traits names the one meant: `add_route_guide_servicer_to_server::<::rpc_core::codegen::Async>(..)`.
pub trait RouteGuideServicerKind<M> {
    /// Registers every method of the service, and the service descriptor, on `server`.
    fn add_to_server<S: ::rpc_core::codegen::Server>(self, server: &S);
}
impl<T: RouteGuideServicer> RouteGuideServicerKind<::rpc_core::codegen::Blocking> for T {
    fn add_to_server<S: ::rpc_core::codegen::Server>(self, server: &S) {
        let servicer = ::std::sync::Arc::new(self);
        {
            let servicer = servicer.clone();
            server
                .add_method(
                    &ROUTE_GUIDE_GET_FEATURE,
                    ::rpc_core::codegen::MethodHandler::BlockingUnaryUnary(
                        ::std::sync::Arc::new(move |
                            request: Point,
                            context: &::rpc_core::codegen::Context|
                        RouteGuideServicer::get_feature(&*servicer, request, context)),
                    ),
                );
        }
        {
            let servicer = servicer.clone();
            server
                .add_method(
                    &ROUTE_GUIDE_LIST_FEATURES,
                    ::rpc_core::codegen::MethodHandler::BlockingUnaryStream(
                        ::std::sync::Arc::new(move |
                            request: Rectangle,
                            context: &::rpc_core::codegen::Context|
                        RouteGuideServicer::list_features(&*servicer, request, context)),
                    ),
                );
        }
        {
            let servicer = servicer.clone();
            server
                .add_method(
                    &ROUTE_GUIDE_RECORD_ROUTE,
                    ::rpc_core::codegen::MethodHandler::BlockingStreamUnary(
                        ::std::sync::Arc::new(move |
                            requests: ::rpc_core::codegen::ReqIter<Point>,
                            context: &::rpc_core::codegen::Context|
                        RouteGuideServicer::record_route(&*servicer, requests, context)),
                    ),
                );
        }
        {
            let servicer = servicer.clone();
            server
                .add_method(
                    &ROUTE_GUIDE_ROUTE_CHAT,
                    ::rpc_core::codegen::MethodHandler::BlockingStreamStream(
                        ::std::sync::Arc::new(move |
                            requests: ::rpc_core::codegen::ReqIter<RouteNote>,
                            context: &::rpc_core::codegen::Context|
                        RouteGuideServicer::route_chat(&*servicer, requests, context)),
                    ),
                );
        }
        let _ = servicer;
        server.add_service_descriptor(&ROUTE_GUIDE_SERVICE);
    }
}
impl<T: AsyncRouteGuideServicer> RouteGuideServicerKind<::rpc_core::codegen::Async>
for T {
    fn add_to_server<S: ::rpc_core::codegen::Server>(self, server: &S) {
        let servicer = ::std::sync::Arc::new(self);
        {
            let servicer = servicer.clone();
            server
                .add_method(
                    &ROUTE_GUIDE_GET_FEATURE,
                    ::rpc_core::codegen::MethodHandler::AsyncUnaryUnary(
                        ::std::sync::Arc::new(move |
                            request: Point,
                            context: ::rpc_core::codegen::Context,
                        | -> ::rpc_core::codegen::BoxFuture<
                            ::core::result::Result<Feature, ::rpc_core::codegen::Error>,
                        > {
                            let servicer = servicer.clone();
                            ::std::boxed::Box::pin(async move {
                                AsyncRouteGuideServicer::get_feature(
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
        {
            let servicer = servicer.clone();
            server
                .add_method(
                    &ROUTE_GUIDE_LIST_FEATURES,
                    ::rpc_core::codegen::MethodHandler::AsyncUnaryStream(
                        ::std::sync::Arc::new(move |
                            request: Rectangle,
                            context: ::rpc_core::codegen::Context,
                        | -> ::rpc_core::codegen::BoxFuture<
                            ::core::result::Result<
                                ::rpc_core::codegen::RespStream<Feature>,
                                ::rpc_core::codegen::Error,
                            >,
                        > {
                            let servicer = servicer.clone();
                            ::std::boxed::Box::pin(async move {
                                AsyncRouteGuideServicer::list_features(
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
        {
            let servicer = servicer.clone();
            server
                .add_method(
                    &ROUTE_GUIDE_RECORD_ROUTE,
                    ::rpc_core::codegen::MethodHandler::AsyncStreamUnary(
                        ::std::sync::Arc::new(move |
                            requests: ::rpc_core::codegen::ReqStream<Point>,
                            context: ::rpc_core::codegen::Context,
                        | -> ::rpc_core::codegen::BoxFuture<
                            ::core::result::Result<
                                RouteSummary,
                                ::rpc_core::codegen::Error,
                            >,
                        > {
                            let servicer = servicer.clone();
                            ::std::boxed::Box::pin(async move {
                                AsyncRouteGuideServicer::record_route(
                                        &*servicer,
                                        requests,
                                        &context,
                                    )
                                    .await
                            })
                        }),
                    ),
                );
        }
        {
            let servicer = servicer.clone();
            server
                .add_method(
                    &ROUTE_GUIDE_ROUTE_CHAT,
                    ::rpc_core::codegen::MethodHandler::AsyncStreamStream(
                        ::std::sync::Arc::new(move |
                            requests: ::rpc_core::codegen::ReqStream<RouteNote>,
                            context: ::rpc_core::codegen::Context,
                        | -> ::rpc_core::codegen::BoxFuture<
                            ::core::result::Result<
                                ::rpc_core::codegen::RespStream<RouteNote>,
                                ::rpc_core::codegen::Error,
                            >,
                        > {
                            let servicer = servicer.clone();
                            ::std::boxed::Box::pin(async move {
                                AsyncRouteGuideServicer::route_chat(
                                        &*servicer,
                                        requests,
                                        &context,
                                    )
                                    .await
                            })
                        }),
                    ),
                );
        }
        let _ = servicer;
        server.add_service_descriptor(&ROUTE_GUIDE_SERVICE);
    }
}
/// Registers `servicer` for every method of `routeguide.RouteGuide` on `server` (either face). The servicer
/// may implement [`RouteGuideServicer`] or [`AsyncRouteGuideServicer`]; an `Arc` of one works too.
pub fn add_route_guide_servicer_to_server<M>(
    servicer: impl RouteGuideServicerKind<M>,
    server: &impl ::rpc_core::codegen::Server,
) {
    servicer.add_to_server(server)
}
/// The encoded `FileDescriptorSet` of this package's proto files and everything they import
/// (without source info), for reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = b"\x0a\xf7\x05\x0a\x11\x72\x6f\x75\x74\x65\x5f\x67\x75\x69\x64\x65\x2e\x70\x72\x6f\x74\x6f\x12\x0a\x72\x6f\x75\x74\x65\x67\x75\x69\x64\x65\x22\x41\x0a\x05\x50\x6f\x69\x6e\x74\x12\x1a\x0a\x08\x6c\x61\x74\x69\x74\x75\x64\x65\x18\x01\x20\x01\x28\x05\x52\x08\x6c\x61\x74\x69\x74\x75\x64\x65\x12\x1c\x0a\x09\x6c\x6f\x6e\x67\x69\x74\x75\x64\x65\x18\x02\x20\x01\x28\x05\x52\x09\x6c\x6f\x6e\x67\x69\x74\x75\x64\x65\x22\x51\x0a\x09\x52\x65\x63\x74\x61\x6e\x67\x6c\x65\x12\x21\x0a\x02\x6c\x6f\x18\x01\x20\x01\x28\x0b\x32\x11\x2e\x72\x6f\x75\x74\x65\x67\x75\x69\x64\x65\x2e\x50\x6f\x69\x6e\x74\x52\x02\x6c\x6f\x12\x21\x0a\x02\x68\x69\x18\x02\x20\x01\x28\x0b\x32\x11\x2e\x72\x6f\x75\x74\x65\x67\x75\x69\x64\x65\x2e\x50\x6f\x69\x6e\x74\x52\x02\x68\x69\x22\x4c\x0a\x07\x46\x65\x61\x74\x75\x72\x65\x12\x12\x0a\x04\x6e\x61\x6d\x65\x18\x01\x20\x01\x28\x09\x52\x04\x6e\x61\x6d\x65\x12\x2d\x0a\x08\x6c\x6f\x63\x61\x74\x69\x6f\x6e\x18\x02\x20\x01\x28\x0b\x32\x11\x2e\x72\x6f\x75\x74\x65\x67\x75\x69\x64\x65\x2e\x50\x6f\x69\x6e\x74\x52\x08\x6c\x6f\x63\x61\x74\x69\x6f\x6e\x22\x54\x0a\x09\x52\x6f\x75\x74\x65\x4e\x6f\x74\x65\x12\x2d\x0a\x08\x6c\x6f\x63\x61\x74\x69\x6f\x6e\x18\x01\x20\x01\x28\x0b\x32\x11\x2e\x72\x6f\x75\x74\x65\x67\x75\x69\x64\x65\x2e\x50\x6f\x69\x6e\x74\x52\x08\x6c\x6f\x63\x61\x74\x69\x6f\x6e\x12\x18\x0a\x07\x6d\x65\x73\x73\x61\x67\x65\x18\x02\x20\x01\x28\x09\x52\x07\x6d\x65\x73\x73\x61\x67\x65\x22\x93\x01\x0a\x0c\x52\x6f\x75\x74\x65\x53\x75\x6d\x6d\x61\x72\x79\x12\x1f\x0a\x0b\x70\x6f\x69\x6e\x74\x5f\x63\x6f\x75\x6e\x74\x18\x01\x20\x01\x28\x05\x52\x0a\x70\x6f\x69\x6e\x74\x43\x6f\x75\x6e\x74\x12\x23\x0a\x0d\x66\x65\x61\x74\x75\x72\x65\x5f\x63\x6f\x75\x6e\x74\x18\x02\x20\x01\x28\x05\x52\x0c\x66\x65\x61\x74\x75\x72\x65\x43\x6f\x75\x6e\x74\x12\x1a\x0a\x08\x64\x69\x73\x74\x61\x6e\x63\x65\x18\x03\x20\x01\x28\x05\x52\x08\x64\x69\x73\x74\x61\x6e\x63\x65\x12\x21\x0a\x0c\x65\x6c\x61\x70\x73\x65\x64\x5f\x74\x69\x6d\x65\x18\x04\x20\x01\x28\x05\x52\x0b\x65\x6c\x61\x70\x73\x65\x64\x54\x69\x6d\x65\x32\xfd\x01\x0a\x0a\x52\x6f\x75\x74\x65\x47\x75\x69\x64\x65\x12\x34\x0a\x0a\x47\x65\x74\x46\x65\x61\x74\x75\x72\x65\x12\x11\x2e\x72\x6f\x75\x74\x65\x67\x75\x69\x64\x65\x2e\x50\x6f\x69\x6e\x74\x1a\x13\x2e\x72\x6f\x75\x74\x65\x67\x75\x69\x64\x65\x2e\x46\x65\x61\x74\x75\x72\x65\x12\x3c\x0a\x0c\x4c\x69\x73\x74\x46\x65\x61\x74\x75\x72\x65\x73\x12\x15\x2e\x72\x6f\x75\x74\x65\x67\x75\x69\x64\x65\x2e\x52\x65\x63\x74\x61\x6e\x67\x6c\x65\x1a\x13\x2e\x72\x6f\x75\x74\x65\x67\x75\x69\x64\x65\x2e\x46\x65\x61\x74\x75\x72\x65\x30\x01\x12\x3c\x0a\x0b\x52\x65\x63\x6f\x72\x64\x52\x6f\x75\x74\x65\x12\x11\x2e\x72\x6f\x75\x74\x65\x67\x75\x69\x64\x65\x2e\x50\x6f\x69\x6e\x74\x1a\x18\x2e\x72\x6f\x75\x74\x65\x67\x75\x69\x64\x65\x2e\x52\x6f\x75\x74\x65\x53\x75\x6d\x6d\x61\x72\x79\x28\x01\x12\x3d\x0a\x09\x52\x6f\x75\x74\x65\x43\x68\x61\x74\x12\x15\x2e\x72\x6f\x75\x74\x65\x67\x75\x69\x64\x65\x2e\x52\x6f\x75\x74\x65\x4e\x6f\x74\x65\x1a\x15\x2e\x72\x6f\x75\x74\x65\x67\x75\x69\x64\x65\x2e\x52\x6f\x75\x74\x65\x4e\x6f\x74\x65\x28\x01\x30\x01\x62\x06\x70\x72\x6f\x74\x6f\x33";
