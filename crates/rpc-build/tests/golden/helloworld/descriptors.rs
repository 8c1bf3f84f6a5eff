//! Golden copy of the service descriptors of what rpc-build generates for `proto/helloworld.proto`,
//! checked by `crates/rpc-build/tests/golden.rs`. Do not edit: rewrite it with
//! `UPDATE_GOLDEN=1 cargo test -p rpc-build --test golden`.
/// The full name of the `helloworld.Greeter` service.
pub const GREETER_SERVICE_NAME: &str = "helloworld.Greeter";
/// The `SayHello` method of `helloworld.Greeter` (unary-unary).
pub static GREETER_SAY_HELLO: ::rpc_core::codegen::MethodDescriptor = ::rpc_core::codegen::MethodDescriptor {
    service: GREETER_SERVICE_NAME,
    name: "SayHello",
    path: "/helloworld.Greeter/SayHello",
    kind: ::rpc_core::codegen::MethodKind::UnaryUnary,
};
/// The `helloworld.Greeter` service: its methods and the descriptors of its proto files.
pub static GREETER_SERVICE: ::rpc_core::codegen::ServiceDescriptor = ::rpc_core::codegen::ServiceDescriptor {
    name: GREETER_SERVICE_NAME,
    methods: &[&GREETER_SAY_HELLO],
    file_descriptor_set: FILE_DESCRIPTOR_SET,
};
