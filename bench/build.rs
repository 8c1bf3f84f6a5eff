//! Generates the rpc messages, stub and servicers of `proto/bench.proto` (with protox: no protoc).

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto");
    println!("cargo:rerun-if-changed={}", root.join("bench.proto").display());
    rpc_build::compile_protos(&[root.join("bench.proto")], &[root])
}
