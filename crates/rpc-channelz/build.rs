//! Generates the grpc.channelz.v1 messages, stub and servicer traits from the crate's own copy of channelz.proto.

fn main() -> std::io::Result<()> {
    rpc_build::compile_protos(&["proto/grpc/channelz/v1/channelz.proto"], &["proto"])
}
