//! Generates helloworld, route_guide and the awkward names of `keywords.proto` with the
//! default codegen path, so this crate compiles exactly what users get.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let protos = manifest.join("../../proto");
    let awkward = manifest.join("../rpc-build/tests/protos");
    rpc_build::compile_protos(
        &[
            protos.join("helloworld.proto"),
            protos.join("route_guide.proto"),
            awkward.join("keywords.proto"),
        ],
        &[protos, awkward],
    )
}
