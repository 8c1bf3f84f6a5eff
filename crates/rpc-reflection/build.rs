//! Generates the grpc.reflection.v1 and v1alpha messages, stubs and servicer traits from the crate's own protos.

fn main() -> std::io::Result<()> {
    rpc_build::compile_protos(
        &[
            "proto/grpc/reflection/v1/reflection.proto",
            "proto/grpc/reflection/v1alpha/reflection.proto",
        ],
        &["proto"],
    )
}
