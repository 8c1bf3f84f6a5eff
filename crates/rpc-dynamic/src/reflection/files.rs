//! `FileSet`: the encoded proto files a reflection client has received, the files they
//! import that are still missing, and the pool they make.

use crate::error::Error;
use prost::Message;
use prost_reflect::DescriptorPool;
use prost_types::FileDescriptorProto;
use std::collections::{BTreeMap, BTreeSet};

/// Files received by name, kept encoded (decoding them into `prost_types` would drop the
/// custom options a pool can read from the bytes).
#[derive(Debug, Default)]
pub(crate) struct FileSet {
    files: BTreeMap<String, Received>,
    /// Files asked for by name and not sent; filled from the well-known types if possible.
    absent: BTreeSet<String>,
}

#[derive(Debug)]
struct Received {
    encoded: Vec<u8>,
    dependencies: Vec<String>,
}

impl FileSet {
    /// Adds encoded `FileDescriptorProto`s from a reflection response.
    pub(crate) fn add_encoded(&mut self, encoded: &[Vec<u8>]) -> Result<(), Error> {
        for bytes in encoded {
            let file = FileDescriptorProto::decode(bytes.as_slice())
                .map_err(|e| Error::reflection(format!("the server sent a file descriptor that does not decode: {e}")))?;
            let name = file.name().to_owned();
            if name.is_empty() {
                return Err(Error::reflection("the server sent a file descriptor without a name"));
            }
            self.files.entry(name).or_insert(Received {
                encoded: bytes.clone(),
                dependencies: file.dependency,
            });
        }
        Ok(())
    }

    /// Records that the server does not have file `name`.
    pub(crate) fn mark_absent(&mut self, name: &str) {
        self.absent.insert(name.to_owned());
    }

    /// Whether file `name` has been received.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.files.contains_key(name)
    }

    /// Files imported by received files that are neither received, nor in `known` (a pool
    /// being extended), nor known to be absent; sorted.
    pub(crate) fn missing(&self, known: Option<&DescriptorPool>) -> Vec<String> {
        let mut missing = BTreeSet::new();
        for file in self.files.values() {
            for dep in &file.dependencies {
                let known = known.is_some_and(|pool| pool.get_file_by_name(dep).is_some());
                if !known && !self.files.contains_key(dep) && !self.absent.contains(dep) {
                    missing.insert(dep.clone());
                }
            }
        }
        missing.into_iter().collect()
    }

    /// A pool of `base` (or an empty pool) plus every received file. Files the server did
    /// not have are taken from the well-known types when they are one of them.
    ///
    /// # Errors
    /// [`ErrorKind::Descriptor`](crate::ErrorKind::Descriptor) when a file imports one that
    /// nobody has, or the files do not link.
    pub(crate) fn into_pool(self, base: Option<&DescriptorPool>) -> Result<DescriptorPool, Error> {
        let mut pool = base.cloned().unwrap_or_default();
        let well_known = DescriptorPool::global();
        for name in &self.absent {
            if pool.get_file_by_name(name).is_some() {
                continue;
            }
            match well_known.get_file_by_name(name) {
                Some(file) => pool.add_file_descriptor_proto(file.file_descriptor_proto().clone())?,
                None => {
                    let importer = self
                        .files
                        .iter()
                        .find(|(_, f)| f.dependencies.contains(name))
                        .map_or("a file", |(n, _)| n.as_str());
                    return Err(Error::descriptor(format!(
                        "{importer} imports {name:?}, which the server's reflection does not have"
                    )));
                }
            }
        }
        // One FileDescriptorSet of the received files, in any order: the pool sorts them.
        let mut set = Vec::new();
        for (name, file) in &self.files {
            if pool.get_file_by_name(name).is_some() {
                continue;
            }
            prost::encoding::bytes::encode(1, &file.encoded, &mut set);
        }
        pool.decode_file_descriptor_set(set.as_slice())?;
        Ok(pool)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, deps: &[&str], message: &str) -> Vec<u8> {
        FileDescriptorProto {
            name: Some(name.into()),
            package: Some("t".into()),
            dependency: deps.iter().map(|d| (*d).to_owned()).collect(),
            message_type: vec![prost_types::DescriptorProto {
                name: Some(message.into()),
                ..Default::default()
            }],
            syntax: Some("proto3".into()),
            ..Default::default()
        }
        .encode_to_vec()
    }

    #[test]
    fn missing_files_are_the_unreceived_imports() {
        let mut set = FileSet::default();
        set.add_encoded(&[file("a.proto", &["b.proto", "google/protobuf/empty.proto"], "A")])
            .unwrap();
        assert_eq!(set.missing(None), ["b.proto", "google/protobuf/empty.proto"]);
        set.add_encoded(&[file("b.proto", &[], "B")]).unwrap();
        set.mark_absent("google/protobuf/empty.proto");
        assert!(set.missing(None).is_empty());
        let pool = set.into_pool(None).unwrap();
        assert!(pool.get_message_by_name("t.A").is_some());
        assert!(
            pool.get_message_by_name("google.protobuf.Empty").is_some(),
            "filled from the well-known types"
        );
    }

    #[test]
    fn an_import_nobody_has_is_a_clear_error() {
        let mut set = FileSet::default();
        set.add_encoded(&[file("a.proto", &["gone.proto"], "A")]).unwrap();
        set.mark_absent("gone.proto");
        let error = set.into_pool(None).unwrap_err();
        assert!(error.to_string().contains("a.proto imports \"gone.proto\""), "{error}");
    }

    #[test]
    fn garbage_is_refused() {
        assert!(FileSet::default().add_encoded(&[vec![0xff, 0xff]]).is_err());
    }
}
