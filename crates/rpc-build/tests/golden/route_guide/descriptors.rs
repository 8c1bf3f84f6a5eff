//! Golden copy of the service descriptors of what rpc-build generates for `proto/route_guide.proto`,
//! checked by `crates/rpc-build/tests/golden.rs`. Do not edit: rewrite it with
//! `UPDATE_GOLDEN=1 cargo test -p rpc-build --test golden`.
/// The full name of the `routeguide.RouteGuide` service.
pub const ROUTE_GUIDE_SERVICE_NAME: &str = "routeguide.RouteGuide";
/// The `GetFeature` method of `routeguide.RouteGuide` (unary-unary).
pub static ROUTE_GUIDE_GET_FEATURE: ::rpc_core::codegen::MethodDescriptor = ::rpc_core::codegen::MethodDescriptor {
    service: ROUTE_GUIDE_SERVICE_NAME,
    name: "GetFeature",
    path: "/routeguide.RouteGuide/GetFeature",
    kind: ::rpc_core::codegen::MethodKind::UnaryUnary,
};
/// The `ListFeatures` method of `routeguide.RouteGuide` (unary-stream).
pub static ROUTE_GUIDE_LIST_FEATURES: ::rpc_core::codegen::MethodDescriptor = ::rpc_core::codegen::MethodDescriptor {
    service: ROUTE_GUIDE_SERVICE_NAME,
    name: "ListFeatures",
    path: "/routeguide.RouteGuide/ListFeatures",
    kind: ::rpc_core::codegen::MethodKind::UnaryStream,
};
/// The `RecordRoute` method of `routeguide.RouteGuide` (stream-unary).
pub static ROUTE_GUIDE_RECORD_ROUTE: ::rpc_core::codegen::MethodDescriptor = ::rpc_core::codegen::MethodDescriptor {
    service: ROUTE_GUIDE_SERVICE_NAME,
    name: "RecordRoute",
    path: "/routeguide.RouteGuide/RecordRoute",
    kind: ::rpc_core::codegen::MethodKind::StreamUnary,
};
/// The `RouteChat` method of `routeguide.RouteGuide` (stream-stream).
pub static ROUTE_GUIDE_ROUTE_CHAT: ::rpc_core::codegen::MethodDescriptor = ::rpc_core::codegen::MethodDescriptor {
    service: ROUTE_GUIDE_SERVICE_NAME,
    name: "RouteChat",
    path: "/routeguide.RouteGuide/RouteChat",
    kind: ::rpc_core::codegen::MethodKind::StreamStream,
};
/// The `routeguide.RouteGuide` service: its methods and the descriptors of its proto files.
pub static ROUTE_GUIDE_SERVICE: ::rpc_core::codegen::ServiceDescriptor = ::rpc_core::codegen::ServiceDescriptor {
    name: ROUTE_GUIDE_SERVICE_NAME,
    methods: &[
        &ROUTE_GUIDE_GET_FEATURE,
        &ROUTE_GUIDE_LIST_FEATURES,
        &ROUTE_GUIDE_RECORD_ROUTE,
        &ROUTE_GUIDE_ROUTE_CHAT,
    ],
    file_descriptor_set: FILE_DESCRIPTOR_SET,
};
