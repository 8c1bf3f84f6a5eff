//! Generates the test service's message, stub and servicer traits from `proto/testkit.proto`.

fn main() -> std::io::Result<()> {
    println!("cargo:rerun-if-changed=proto/testkit.proto");
    rpc_build::compile_protos(&["proto/testkit.proto"], &["proto"])
}
