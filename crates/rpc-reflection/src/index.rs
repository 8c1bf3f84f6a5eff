//! `DescriptorIndex`: the proto files of a set of services, decoded once, with every symbol
//! and extension they define mapped to the file that defines it.

use prost::Message;
use prost_types::{DescriptorProto, FieldDescriptorProto, FileDescriptorProto, FileDescriptorSet};
use rpc_core::codegen::ServiceDescriptor;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// One proto file: its encoded `FileDescriptorProto` and the names of the files it imports.
#[derive(Debug)]
struct File {
    encoded: Vec<u8>,
    dependencies: Vec<String>,
}

/// The files, symbols and extensions of the services a reflection servicer describes.
#[derive(Debug, Default)]
pub(crate) struct DescriptorIndex {
    services: BTreeSet<String>,
    files: HashMap<String, File>,
    /// Fully qualified symbol (no leading dot) -> the name of the file that defines it.
    symbols: HashMap<String, String>,
    /// Fully qualified message names.
    messages: HashSet<String>,
    /// Extended type -> extension number -> the file that defines the extension.
    extensions: HashMap<String, BTreeMap<i32, String>>,
}

impl DescriptorIndex {
    /// Indexes the files of `services`. A file that several services share (or that two
    /// crates both compiled) is kept once, the first copy seen; descriptor sets that do not
    /// decode contribute no files (their services are still listed).
    pub(crate) fn new<'a>(services: impl IntoIterator<Item = &'a ServiceDescriptor>) -> DescriptorIndex {
        let mut index = DescriptorIndex::default();
        let mut seen_sets: HashSet<*const u8> = HashSet::new();
        for service in services {
            index.services.insert(service.name.to_owned());
            if !seen_sets.insert(service.file_descriptor_set.as_ptr()) {
                continue;
            }
            if let Ok(set) = FileDescriptorSet::decode(service.file_descriptor_set) {
                for file in &set.file {
                    index.add_file(file);
                }
            }
        }
        index
    }

    /// The full names of the services, sorted.
    pub(crate) fn services(&self) -> impl Iterator<Item = &str> {
        self.services.iter().map(String::as_str)
    }

    /// The name of the file that defines `symbol` (a leading dot is allowed).
    pub(crate) fn file_containing_symbol(&self, symbol: &str) -> Option<&str> {
        self.symbols.get(symbol.trim_start_matches('.')).map(String::as_str)
    }

    /// The name of the file that defines extension `number` of `containing_type`.
    pub(crate) fn file_containing_extension(&self, containing_type: &str, number: i32) -> Option<&str> {
        self.extensions
            .get(containing_type.trim_start_matches('.'))
            .and_then(|numbers| numbers.get(&number))
            .map(String::as_str)
    }

    /// The extension numbers known for message type `name`, sorted; `None` for an unknown type.
    pub(crate) fn extension_numbers(&self, name: &str) -> Option<Vec<i32>> {
        let name = name.trim_start_matches('.');
        if !self.messages.contains(name) {
            return None;
        }
        Some(self.extensions.get(name).map(|n| n.keys().copied().collect()).unwrap_or_default())
    }

    /// The encoded file `name` followed by its transitive dependencies that are not in
    /// `sent`, each once; every file returned is added to `sent`. `None` for an unknown file.
    ///
    /// The file asked for is always returned, even if sent before: the client asked for it.
    pub(crate) fn file_with_dependencies(&self, name: &str, sent: &mut HashSet<String>) -> Option<Vec<Vec<u8>>> {
        let file = self.files.get(name)?;
        let mut out = vec![file.encoded.clone()];
        sent.insert(name.to_owned());
        let mut todo: Vec<&str> = file.dependencies.iter().rev().map(String::as_str).collect();
        while let Some(dep) = todo.pop() {
            if sent.contains(dep) {
                continue;
            }
            // A dependency missing from the sets is left out; the client reports it by name.
            if let Some(file) = self.files.get(dep) {
                sent.insert(dep.to_owned());
                out.push(file.encoded.clone());
                todo.extend(file.dependencies.iter().rev().map(String::as_str));
            }
        }
        Some(out)
    }

    fn add_file(&mut self, file: &FileDescriptorProto) {
        let name = file.name();
        if self.files.contains_key(name) {
            return;
        }
        let package = file.package();
        for message in &file.message_type {
            self.add_message(package, message, name);
        }
        for enumeration in &file.enum_type {
            self.add_symbol(package, enumeration.name(), name);
        }
        for service in &file.service {
            let full = self.add_symbol(package, service.name(), name);
            for method in &service.method {
                self.add_symbol(&full, method.name(), name);
            }
        }
        for extension in &file.extension {
            self.add_extension(package, extension, name);
        }
        self.files.insert(
            name.to_owned(),
            File {
                encoded: file.encode_to_vec(),
                dependencies: file.dependency.clone(),
            },
        );
    }

    fn add_message(&mut self, scope: &str, message: &DescriptorProto, file: &str) {
        let full = self.add_symbol(scope, message.name(), file);
        self.messages.insert(full.clone());
        for field in &message.field {
            self.add_symbol(&full, field.name(), file);
        }
        for oneof in &message.oneof_decl {
            self.add_symbol(&full, oneof.name(), file);
        }
        for nested in &message.nested_type {
            self.add_message(&full, nested, file);
        }
        for enumeration in &message.enum_type {
            self.add_symbol(&full, enumeration.name(), file);
        }
        for extension in &message.extension {
            self.add_extension(&full, extension, file);
        }
    }

    fn add_extension(&mut self, scope: &str, extension: &FieldDescriptorProto, file: &str) {
        self.add_symbol(scope, extension.name(), file);
        let extendee = extension.extendee().trim_start_matches('.').to_owned();
        self.extensions
            .entry(extendee)
            .or_default()
            .entry(extension.number())
            .or_insert_with(|| file.to_owned());
    }

    /// Records `scope.name` as defined in `file` (the first definition wins) and returns it.
    fn add_symbol(&mut self, scope: &str, name: &str, file: &str) -> String {
        let full = if scope.is_empty() {
            name.to_owned()
        } else {
            format!("{scope}.{name}")
        };
        self.symbols.entry(full.clone()).or_insert_with(|| file.to_owned());
        full
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost_types::field_descriptor_proto::{Label, Type};
    use prost_types::{MethodDescriptorProto, ServiceDescriptorProto};

    fn file(name: &str, package: &str, deps: &[&str]) -> FileDescriptorProto {
        FileDescriptorProto {
            name: Some(name.into()),
            package: Some(package.into()),
            dependency: deps.iter().map(|d| (*d).to_owned()).collect(),
            ..Default::default()
        }
    }

    fn set() -> &'static [u8] {
        let base = FileDescriptorProto {
            message_type: vec![DescriptorProto {
                name: Some("Base".into()),
                nested_type: vec![DescriptorProto {
                    name: Some("Inner".into()),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..file("base.proto", "pkg.base", &[])
        };
        let ext = FileDescriptorProto {
            extension: vec![FieldDescriptorProto {
                name: Some("tag".into()),
                number: Some(100),
                label: Some(Label::Optional as i32),
                r#type: Some(Type::String as i32),
                extendee: Some(".pkg.base.Base".into()),
                ..Default::default()
            }],
            ..file("ext.proto", "pkg", &["base.proto"])
        };
        let svc = FileDescriptorProto {
            service: vec![ServiceDescriptorProto {
                name: Some("Svc".into()),
                method: vec![MethodDescriptorProto {
                    name: Some("Call".into()),
                    input_type: Some(".pkg.base.Base".into()),
                    output_type: Some(".pkg.base.Base".into()),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..file("svc.proto", "pkg", &["ext.proto", "base.proto", "missing.proto"])
        };
        let bytes = FileDescriptorSet {
            file: vec![base, ext, svc],
        }
        .encode_to_vec();
        Box::leak(bytes.into_boxed_slice())
    }

    fn index() -> DescriptorIndex {
        let service = Box::leak(Box::new(ServiceDescriptor {
            name: "pkg.Svc",
            methods: &[],
            file_descriptor_set: set(),
        }));
        DescriptorIndex::new([
            &*service,
            &ServiceDescriptor {
                name: "bad.Set",
                methods: &[],
                file_descriptor_set: b"\xff\xff",
            },
        ])
    }

    fn names(encoded: &[Vec<u8>]) -> Vec<String> {
        encoded
            .iter()
            .map(|b| FileDescriptorProto::decode(b.as_slice()).unwrap().name().to_owned())
            .collect()
    }

    #[test]
    fn symbols_of_every_kind_map_to_their_file() {
        let index = index();
        assert_eq!(index.services().collect::<Vec<_>>(), ["bad.Set", "pkg.Svc"]);
        assert_eq!(index.file_containing_symbol("pkg.Svc"), Some("svc.proto"));
        assert_eq!(index.file_containing_symbol(".pkg.Svc.Call"), Some("svc.proto"));
        assert_eq!(index.file_containing_symbol("pkg.base.Base.Inner"), Some("base.proto"));
        assert_eq!(index.file_containing_symbol("pkg.tag"), Some("ext.proto"));
        assert_eq!(index.file_containing_symbol("pkg.Nope"), None);
        assert_eq!(index.file_containing_extension("pkg.base.Base", 100), Some("ext.proto"));
        assert_eq!(index.file_containing_extension("pkg.base.Base", 101), None);
        assert_eq!(index.extension_numbers("pkg.base.Base"), Some(vec![100]));
        assert_eq!(index.extension_numbers("pkg.base.Base.Inner"), Some(vec![]));
        assert_eq!(index.extension_numbers("pkg.Svc"), None);
    }

    #[test]
    fn files_come_with_transitive_dependencies_once_per_stream() {
        let index = index();
        let mut sent = HashSet::new();
        let first = index.file_with_dependencies("svc.proto", &mut sent).unwrap();
        assert_eq!(names(&first), ["svc.proto", "ext.proto", "base.proto"]);
        let again = index.file_with_dependencies("ext.proto", &mut sent).unwrap();
        assert_eq!(names(&again), ["ext.proto"], "dependencies already sent are not sent again");
        assert!(index.file_with_dependencies("missing.proto", &mut sent).is_none());
        let fresh = index.file_with_dependencies("ext.proto", &mut HashSet::new()).unwrap();
        assert_eq!(names(&fresh), ["ext.proto", "base.proto"]);
    }
}
