//! Generates the messages, stubs and servicers of every proto under `../proto`.

use std::path::{Path, PathBuf};

fn protos_under(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            protos_under(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "proto") {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto");
    let mut protos = Vec::new();
    protos_under(&root, &mut protos)?;
    protos.sort();
    println!("cargo:rerun-if-changed={}", root.display());
    rpc_build::compile_protos(&protos, &[root])?;

    // Awkward names (keywords, clashes with the stub's own functions, a service without
    // methods), generated against a renamed codegen path, for `tests/codegen_keywords.rs`.
    let awkward = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/rpc-build/tests/protos");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("keywords");
    rpc_build::configure()
        .out_dir(out)
        .codegen_path("crate::cg")
        .compile(&[awkward.join("keywords.proto")], &[awkward])
}
