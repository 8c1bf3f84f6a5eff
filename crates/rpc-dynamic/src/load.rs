//! Loading `.proto` files at run time with protox (no `protoc`), into a [`DescriptorPool`].

use crate::error::{Error, ErrorKind};
use prost_reflect::DescriptorPool;
use std::path::{Path, PathBuf};

/// Parses `files` and everything they import into one pool, looking imports up in
/// `import_paths` in the order given; the well-known types (`google/protobuf/*.proto`)
/// are always available.
///
/// A file is named either by a path under one of the import paths (absolute, or relative
/// to the current directory) or by its name relative to an import path, as in an
/// `import` statement. With no import paths, the current directory is the import path,
/// and the directory of each file outside it is added (so a lone file and its siblings
/// load without `-I`), as `protoc` and grpcurl do.
///
/// ```
/// # fn main() -> Result<(), rpc_dynamic::Error> {
/// let dir = std::env::temp_dir().join("rpc-dynamic-doc-load");
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("echo.proto"), r#"
///     syntax = "proto3";
///     package echo;
///     import "google/protobuf/timestamp.proto";
///     message Ping { string text = 1; google.protobuf.Timestamp at = 2; }
///     service Echo { rpc Say(Ping) returns (Ping); }
/// "#).unwrap();
/// let pool = rpc_dynamic::load_protos(&["echo.proto"], &[&dir])?;
/// assert!(pool.get_service_by_name("echo.Echo").is_some());
/// assert!(pool.get_message_by_name("google.protobuf.Timestamp").is_some());
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`ErrorKind::Load`] with protox's message (file not found, syntax error with its line
/// and column, unresolved type, ...).
pub fn load_protos<F, I>(files: &[F], import_paths: &[I]) -> Result<DescriptorPool, Error>
where
    F: AsRef<Path>,
    I: AsRef<Path>,
{
    if files.is_empty() {
        return Err(Error::new(ErrorKind::Load, "no .proto files given"));
    }
    let mut includes: Vec<PathBuf> = import_paths.iter().map(|p| p.as_ref().to_owned()).collect();
    if includes.is_empty() {
        includes.push(PathBuf::from("."));
        for file in files {
            let file = file.as_ref();
            let under_cwd = file.is_relative() && !file.components().any(|c| matches!(c, std::path::Component::ParentDir));
            if !under_cwd && let Some(parent) = file.parent() {
                let parent = parent.to_owned();
                if !includes.contains(&parent) {
                    includes.push(parent);
                }
            }
        }
    }
    let load_error = |e: protox::Error| Error::new(ErrorKind::Load, format!("loading proto files: {}", located(&e)));
    let mut compiler = protox::Compiler::new(&includes).map_err(load_error)?;
    compiler.include_imports(true).include_source_info(true);
    for file in files {
        compiler.open_file(file).map_err(load_error)?;
    }
    Ok(compiler.descriptor_pool())
}

/// protox's message preceded by `file:line:column` where the error has a position, or by
/// the file's name.
fn located(error: &protox::Error) -> String {
    use miette::Diagnostic;
    let position = error
        .source_code()
        .zip(error.labels().and_then(|mut labels| labels.next()))
        .and_then(|(source, label)| {
            let contents = source.read_span(label.inner(), 0, 0).ok()?;
            let file = contents.name().map(str::to_owned).or_else(|| error.file().map(str::to_owned))?;
            Some(format!("{file}:{}:{}", contents.line() + 1, contents.column() + 1))
        });
    match position.or_else(|| error.file().map(str::to_owned)) {
        Some(place) if !error.to_string().contains(&place) => format!("{place}: {error}"),
        _ => error.to_string(),
    }
}

/// Decodes an encoded `FileDescriptorSet` (such as `protoc --descriptor_set_out`, grpcurl's
/// `-protoset`, or rpc-build's `file_descriptor_set_path`) into a pool.
///
/// # Errors
/// [`ErrorKind::Descriptor`] when the bytes do not decode or the files do not link.
pub fn decode_file_descriptor_set(bytes: &[u8]) -> Result<DescriptorPool, Error> {
    Ok(DescriptorPool::decode(bytes)?)
}
