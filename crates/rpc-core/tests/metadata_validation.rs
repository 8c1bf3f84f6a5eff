//! Metadata validation and ordered-multimap behaviour: every invalid key or value class gives its exact `MetadataError`.

use rpc_core::{Metadata, MetadataError, MetadataValue};

fn key_error(key: &str) -> MetadataError {
    Metadata::new().add(key, "v").expect_err(key)
}

#[test]
fn invalid_keys_give_the_exact_error() {
    let owned = |s: &str| s.to_owned();
    let cases: Vec<(&str, MetadataError)> = vec![
        ("", MetadataError::EmptyKey),
        ("X-User", MetadataError::UppercaseKey { key: owned("X-User") }),
        ("x-usEr", MetadataError::UppercaseKey { key: owned("x-usEr") }),
        (
            "x user",
            MetadataError::InvalidKeyCharacter {
                key: owned("x user"),
                ch: ' ',
            },
        ),
        (
            "x:user",
            MetadataError::InvalidKeyCharacter {
                key: owned("x:user"),
                ch: ':',
            },
        ),
        (
            ":path",
            MetadataError::InvalidKeyCharacter {
                key: owned(":path"),
                ch: ':',
            },
        ),
        (
            "x/user",
            MetadataError::InvalidKeyCharacter {
                key: owned("x/user"),
                ch: '/',
            },
        ),
        (
            "x-usé",
            MetadataError::InvalidKeyCharacter {
                key: owned("x-usé"),
                ch: 'é',
            },
        ),
        (
            "x\tuser",
            MetadataError::InvalidKeyCharacter {
                key: owned("x\tuser"),
                ch: '\t',
            },
        ),
        (
            "grpc-timeout",
            MetadataError::ReservedKey {
                key: owned("grpc-timeout"),
            },
        ),
        ("grpc-status", MetadataError::ReservedKey { key: owned("grpc-status") }),
        (
            "grpc-custom-bin",
            MetadataError::ReservedKey {
                key: owned("grpc-custom-bin"),
            },
        ),
        (
            "content-type",
            MetadataError::TransportKey {
                key: owned("content-type"),
            },
        ),
        ("te", MetadataError::TransportKey { key: owned("te") }),
        ("connection", MetadataError::TransportKey { key: owned("connection") }),
        (
            "transfer-encoding",
            MetadataError::TransportKey {
                key: owned("transfer-encoding"),
            },
        ),
        ("host", MetadataError::TransportKey { key: owned("host") }),
        ("upgrade", MetadataError::TransportKey { key: owned("upgrade") }),
    ];
    for (key, expected) in cases {
        assert_eq!(key_error(key), expected, "key {key:?}");
        assert_eq!(rpc_core::metadata::validate_key(key), Err(expected), "validate_key {key:?}");
    }
}

#[test]
fn invalid_values_give_the_exact_error_with_index_and_byte() {
    let mut md = Metadata::new();
    assert_eq!(
        md.add("x-text", "ab\ncd"),
        Err(MetadataError::InvalidTextValue {
            key: "x-text".into(),
            byte: b'\n',
            index: 2
        })
    );
    assert_eq!(
        md.add("x-text", "\x7f"),
        Err(MetadataError::InvalidTextValue {
            key: "x-text".into(),
            byte: 0x7f,
            index: 0
        })
    );
    // 'é' is two bytes in UTF-8; the first (0xc3) is reported.
    assert_eq!(
        md.add("x-text", "caf\u{e9}"),
        Err(MetadataError::InvalidTextValue {
            key: "x-text".into(),
            byte: 0xc3,
            index: 3
        })
    );
    assert_eq!(
        md.add("x-data-bin", "text"),
        Err(MetadataError::TextValueForBinaryKey { key: "x-data-bin".into() })
    );
    assert_eq!(
        md.add("x-data", &b"\x00\x01"[..]),
        Err(MetadataError::BinaryValueForTextKey { key: "x-data".into() })
    );
    assert_eq!(
        md.add("x-data", vec![1u8]),
        Err(MetadataError::BinaryValueForTextKey { key: "x-data".into() })
    );
    assert!(md.is_empty(), "a refused entry must not be added");
}

#[test]
fn valid_keys_and_values_are_accepted() {
    let mut md = Metadata::new();
    for key in [
        "x",
        "x-user",
        "a_b.c-d",
        "0123456789",
        "grpcx",
        "grpc",
        "content-types",
        "x-grpc-thing",
    ] {
        md.add(key, "value with spaces ~!").unwrap_or_else(|e| panic!("{key}: {e}"));
    }
    md.add("x-data-bin", &b"\x00\xff\x80"[..]).unwrap();
    md.add("x-empty", "").unwrap();
    md.add("x-printable", " !\"#~").unwrap();
    assert_eq!(md.len(), 11);
}

#[test]
fn error_messages_name_the_key() {
    let cases = [
        key_error("X-User"),
        key_error("x user"),
        key_error("grpc-x"),
        key_error("te"),
        Metadata::new().add("x-k", "\n").unwrap_err(),
        Metadata::new().add("x-k-bin", "t").unwrap_err(),
        Metadata::new().add("x-k", &b"b"[..]).unwrap_err(),
    ];
    for err in cases {
        let msg = err.to_string();
        assert!(
            msg.contains("\"X-User\"")
                || msg.contains("\"x user\"")
                || msg.contains("\"grpc-x\"")
                || msg.contains("\"te\"")
                || msg.contains("\"x-k"),
            "{msg}"
        );
        assert!(!msg.contains('\n'), "{msg}");
    }
    assert!(Metadata::new().add("x-k", "a\x01").unwrap_err().to_string().contains("index 1"));
    assert_eq!(MetadataError::EmptyKey.to_string(), "metadata key is empty");
}

#[test]
fn set_all_validates_everything_before_changing_anything() {
    let mut md = Metadata::from_pairs([("x-a", "1"), ("x-b", "2"), ("x-a", "3")]).unwrap();
    let before = md.clone();
    assert_eq!(
        md.set_all("x-a", ["ok", "bad\n", "ok2"]),
        Err(MetadataError::InvalidTextValue {
            key: "x-a".into(),
            byte: b'\n',
            index: 3
        })
    );
    assert_eq!(md, before);
    assert_eq!(md.set_all("X-A", ["ok"]), Err(MetadataError::UppercaseKey { key: "X-A".into() }));
    assert_eq!(md, before);
    md.set_all("x-a", ["new1", "new2"]).unwrap();
    let entries: Vec<_> = md.iter().map(|(k, v)| (k.to_owned(), v.as_str().unwrap().to_owned())).collect();
    assert_eq!(
        entries,
        [
            ("x-b".into(), "2".into()),
            ("x-a".into(), "new1".into()),
            ("x-a".into(), "new2".into())
        ] as [(String, String); 3]
    );
    md.set_all("x-a", Vec::<&str>::new()).unwrap();
    assert!(!md.contains_key("x-a"));
}

#[test]
fn multimap_keeps_order_and_repeats() {
    let mut md = Metadata::new();
    md.add("x-a", "1").unwrap();
    md.add("x-b", "2").unwrap();
    md.add("x-a", "3").unwrap();
    md.add("x-c-bin", &b"\x00"[..]).unwrap();
    assert_eq!(md.len(), 4);
    assert_eq!(md.get("x-a"), Some(&MetadataValue::from("1")));
    assert_eq!(md.get_str("x-a"), Some("1"));
    assert_eq!(md.get_str("x-c-bin"), None);
    assert_eq!(md.get("x-c-bin").unwrap().as_bytes(), b"\x00");
    assert!(md.get("x-c-bin").unwrap().is_binary());
    assert_eq!(md.get("x-missing"), None);
    let all: Vec<_> = md.get_all("x-a").filter_map(MetadataValue::as_str).collect();
    assert_eq!(all, ["1", "3"]);
    let keys: Vec<_> = md.iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["x-a", "x-b", "x-a", "x-c-bin"]);

    assert_eq!(md.remove("x-a"), 2);
    assert_eq!(md.remove("x-a"), 0);
    let keys: Vec<_> = md.iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["x-b", "x-c-bin"]);

    let mut other = Metadata::new().with("x-z", "9").unwrap().with("x-b", "8").unwrap();
    other.add("x-b", "7").unwrap();
    md.extend(other);
    let flat: Vec<_> = md
        .iter()
        .map(|(k, v)| format!("{k}={}", String::from_utf8_lossy(v.as_bytes())))
        .collect();
    assert_eq!(flat, ["x-b=2", "x-c-bin=\u{0}", "x-z=9", "x-b=8", "x-b=7"]);
}

#[test]
fn from_pairs_stops_at_the_first_invalid_pair() {
    let err = Metadata::from_pairs([("x-a", "1"), ("grpc-x", "2")]).unwrap_err();
    assert_eq!(err, MetadataError::ReservedKey { key: "grpc-x".into() });
}

#[test]
fn metadata_error_becomes_internal_rpc_error_naming_the_key() {
    let err: rpc_core::RpcError = Metadata::new().add("Bad", "v").unwrap_err().into();
    assert_eq!(err.code(), rpc_core::StatusCode::Internal);
    assert!(err.details().contains("\"Bad\""), "{err}");
}
