//! The file descriptor sets embedded in generated code: per package, the package's files
//! and everything they import, encoded, for reflection.

use prost::Message;
use prost_types::{FileDescriptorProto, FileDescriptorSet};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;

/// The encoded `FileDescriptorSet` of each package of `fds`: its files and their
/// transitive imports, dependencies first, without source info (to keep it small).
pub(crate) fn per_package(fds: &FileDescriptorSet) -> BTreeMap<String, Vec<u8>> {
    let by_name: HashMap<&str, &FileDescriptorProto> = fds.file.iter().map(|f| (f.name(), f)).collect();
    let mut packages: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let names: HashSet<&str> = fds.file.iter().map(|f| f.package()).collect();
    for package in names {
        let mut wanted = HashSet::new();
        for file in fds.file.iter().filter(|f| f.package() == package) {
            collect(file.name(), &by_name, &mut wanted);
        }
        // `fds` is in dependency order already (protox sorts it topologically); keep that order.
        let file = fds
            .file
            .iter()
            .filter(|f| wanted.contains(f.name()))
            .map(|f| FileDescriptorProto {
                source_code_info: None,
                ..f.clone()
            })
            .collect();
        packages.insert(package.to_owned(), FileDescriptorSet { file }.encode_to_vec());
    }
    packages
}

fn collect<'a>(name: &'a str, by_name: &HashMap<&str, &'a FileDescriptorProto>, wanted: &mut HashSet<&'a str>) {
    if !wanted.insert(name) {
        return;
    }
    if let Some(file) = by_name.get(name) {
        for dep in &file.dependency {
            collect(dep, by_name, wanted);
        }
    }
}

/// Bytes as a Rust byte-string literal, `b"\x0a\x10..."`.
pub(crate) fn byte_string_literal(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 4 + 3);
    out.push_str("b\"");
    for b in bytes {
        let _ = write!(out, "\\x{b:02x}");
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, package: &str, deps: &[&str]) -> FileDescriptorProto {
        FileDescriptorProto {
            name: Some(name.into()),
            package: Some(package.into()),
            dependency: deps.iter().map(|d| d.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn package_sets_hold_imports_in_order() {
        let fds = FileDescriptorSet {
            file: vec![
                file("common.proto", "common", &[]),
                file("a.proto", "a", &["common.proto"]),
                file("b.proto", "b", &[]),
            ],
        };
        let sets = per_package(&fds);
        let a = FileDescriptorSet::decode(sets["a"].as_slice()).unwrap();
        let names: Vec<&str> = a.file.iter().map(|f| f.name()).collect();
        assert_eq!(names, ["common.proto", "a.proto"]);
        let b = FileDescriptorSet::decode(sets["b"].as_slice()).unwrap();
        assert_eq!(b.file.len(), 1);
    }

    #[test]
    fn literal() {
        assert_eq!(byte_string_literal(&[0, 255, b'a']), r#"b"\x00\xff\x61""#);
    }
}
