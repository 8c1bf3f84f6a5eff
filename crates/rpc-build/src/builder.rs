//! [`Builder`]: the options of a code generation run and the run itself (protox parses,
//! prost-build writes the messages, our service generator writes the rest).

use crate::descriptor_set;
use crate::generator::RpcServiceGenerator;
use std::io;
use std::path::{Path, PathBuf};

/// The default path generated code imports the codegen contract from.
pub const DEFAULT_CODEGEN_PATH: &str = "::rpc_core::codegen";

/// The default name of the include file, written in the output directory.
pub const DEFAULT_INCLUDE_FILE: &str = "_includes.rs";

/// Options of a code generation run; made by [`configure`](crate::configure).
///
/// ```no_run
/// // build.rs
/// fn main() -> std::io::Result<()> {
///     rpc_build::configure()
///         .file_descriptor_set_path(std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("all.bin"))
///         .compile(&["proto/helloworld.proto"], &["proto"])
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    out_dir: Option<PathBuf>,
    codegen_path: String,
    file_descriptor_set_path: Option<PathBuf>,
    include_file: Option<PathBuf>,
    emit_rerun_if_changed: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            out_dir: None,
            codegen_path: DEFAULT_CODEGEN_PATH.to_owned(),
            file_descriptor_set_path: None,
            include_file: Some(PathBuf::from(DEFAULT_INCLUDE_FILE)),
            emit_rerun_if_changed: true,
        }
    }
}

impl Builder {
    /// Where to write the generated files; by default `$OUT_DIR` (set by cargo for build scripts).
    pub fn out_dir(mut self, out_dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(out_dir.into());
        self
    }

    /// The path generated code imports everything from (default `::rpc_core::codegen`).
    /// Messages use `<path>::prost` and `<path>::prost_types`, so the user crate needs no
    /// direct prost dependency. Set it when rpc-core is renamed or re-exported elsewhere.
    pub fn codegen_path(mut self, path: impl Into<String>) -> Self {
        self.codegen_path = path.into();
        self
    }

    /// Also writes the encoded `FileDescriptorSet` of all the protos and their imports
    /// (with source info) to `path`.
    pub fn file_descriptor_set_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.file_descriptor_set_path = Some(path.into());
        self
    }

    /// The name of the include file written in the output directory, which nests one
    /// module per proto package (default `_includes.rs`); `None` writes none.
    pub fn include_file(mut self, name: Option<impl Into<PathBuf>>) -> Self {
        self.include_file = name.map(Into::into);
        self
    }

    /// Whether to print `cargo:rerun-if-changed` for every proto file read (default true).
    pub fn emit_rerun_if_changed(mut self, yes: bool) -> Self {
        self.emit_rerun_if_changed = yes;
        self
    }

    /// Parses `protos` (looking up imports in `includes`) and writes the generated code.
    pub fn compile(self, protos: &[impl AsRef<Path>], includes: &[impl AsRef<Path>]) -> io::Result<()> {
        self.compile_with_config(prost_build::Config::new(), protos, includes)
    }

    /// Like [`compile`](Self::compile), with a prost-build `Config` for message options
    /// (attributes, `bytes`, `btree_map`, ...). Its service generator, prost paths, output
    /// directory and include file are set from this builder.
    pub fn compile_with_config(
        self,
        mut config: prost_build::Config,
        protos: &[impl AsRef<Path>],
        includes: &[impl AsRef<Path>],
    ) -> io::Result<()> {
        let mut compiler = protox::Compiler::new(includes.iter().map(AsRef::as_ref)).map_err(protox_error)?;
        compiler.include_imports(true).include_source_info(true);
        compiler.open_files(protos.iter().map(AsRef::as_ref)).map_err(protox_error)?;
        if self.emit_rerun_if_changed {
            for proto in protos {
                println!("cargo:rerun-if-changed={}", proto.as_ref().display());
            }
            for file in compiler.files() {
                if let Some(path) = file.path() {
                    println!("cargo:rerun-if-changed={}", path.display());
                }
            }
        }
        let fds = compiler.file_descriptor_set();
        let generator = RpcServiceGenerator::new(self.codegen_path.clone(), descriptor_set::per_package(&fds));
        config
            .service_generator(Box::new(generator))
            .prost_path(format!("{}::prost", self.codegen_path))
            .prost_types_path(format!("{}::prost_types", self.codegen_path));
        if let Some(out_dir) = &self.out_dir {
            std::fs::create_dir_all(out_dir)?;
            config.out_dir(out_dir);
        }
        if let Some(path) = &self.file_descriptor_set_path {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, compiler.encode_file_descriptor_set())?;
        }
        if let Some(include) = &self.include_file {
            config.include_file(include);
        }
        config.compile_fds(fds)
    }
}

fn protox_error(error: protox::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("protox: {error}"))
}
