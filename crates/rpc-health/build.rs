//! Generates the grpc.health.v1 messages, stub and servicer traits from the crate's own copy of health.proto.

fn main() -> std::io::Result<()> {
    rpc_build::compile_protos(&["proto/grpc/health/v1/health.proto"], &["proto"])
}
