//! Proto3 JSON through dynamic messages, checked against prost's own types: JSON parsed
//! into a `DynamicMessage` encodes to the bytes of the equal prost message, and the prost
//! message's bytes decoded dynamically print as the canonical JSON. The well-known types
//! (Timestamp, Duration, Any, Struct, Value, ListValue, wrappers) included; options,
//! streams of requests and the errors of bad input.
//!
//! The prost types are derived here for `tests/protos/dyntest/kitchen.proto`, field for
//! field as prost-build generates them (the well-known types are prost-types').

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, ReflectMessage};
use rpc_dynamic::{ErrorKind, JsonOptions, load_protos, message_from_json, message_to_json, messages_from_json, unresolved_any_types};
use std::collections::{BTreeMap, HashMap};

mod pb {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Point {
        #[prost(int32, tag = "1")]
        pub x: i32,
        #[prost(int32, tag = "2")]
        pub y: i32,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    pub enum Colour {
        Unspecified = 0,
        Red = 1,
        Green = 2,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Inner {
        #[prost(int32, tag = "1")]
        pub size: i32,
    }

    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Choice {
        #[prost(string, tag = "11")]
        Text(String),
        #[prost(int32, tag = "12")]
        Number(i32),
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Order {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(int64, tag = "2")]
        pub big: i64,
        #[prost(uint64, tag = "3")]
        pub bigger: u64,
        #[prost(double, tag = "4")]
        pub ratio: f64,
        #[prost(bool, tag = "5")]
        pub rush: bool,
        #[prost(bytes = "vec", tag = "6")]
        pub blob: Vec<u8>,
        #[prost(enumeration = "Colour", tag = "7")]
        pub colour: i32,
        #[prost(message, repeated, tag = "8")]
        pub points: Vec<Point>,
        #[prost(map = "string, int32", tag = "9")]
        pub counts: std::collections::HashMap<String, i32>,
        #[prost(int32, optional, tag = "10")]
        pub maybe: Option<i32>,
        #[prost(oneof = "Choice", tags = "11, 12")]
        pub choice: Option<Choice>,
        #[prost(message, optional, tag = "13")]
        pub inner: Option<Inner>,
        #[prost(int32, repeated, tag = "14")]
        pub packed: Vec<i32>,
        #[prost(int32, tag = "15")]
        pub renamed_field: i32,
        #[prost(sint32, tag = "16")]
        pub zigzag: i32,
        #[prost(fixed32, tag = "17")]
        pub fixed: u32,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Dish {
        #[prost(message, optional, tag = "1")]
        pub ready_at: Option<prost_types::Timestamp>,
        #[prost(message, optional, tag = "2")]
        pub took: Option<prost_types::Duration>,
        #[prost(message, optional, tag = "3")]
        pub extra: Option<prost_types::Any>,
        #[prost(message, optional, tag = "4")]
        pub notes: Option<prost_types::Struct>,
        #[prost(message, optional, tag = "5")]
        pub anything: Option<prost_types::Value>,
        #[prost(message, optional, tag = "6")]
        pub label: Option<String>,
        #[prost(message, optional, tag = "7")]
        pub calories: Option<i64>,
        #[prost(message, optional, tag = "8")]
        pub vegan: Option<bool>,
        #[prost(message, optional, tag = "9")]
        pub tags: Option<prost_types::ListValue>,
        #[prost(message, optional, tag = "10")]
        pub price: Option<f64>,
        #[prost(string, tag = "11")]
        pub name: String,
    }
}

fn pool() -> DescriptorPool {
    let protos = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/protos");
    load_protos(&["dyntest/kitchen.proto"], &[protos]).expect("the test protos load")
}

fn message(pool: &DescriptorPool, name: &str) -> MessageDescriptor {
    pool.get_message_by_name(name).unwrap_or_else(|| panic!("{name} is in the pool"))
}

/// JSON -> dynamic -> bytes -> prost equals `expected`; prost -> bytes -> dynamic -> JSON
/// equals `json` (compact, default options).
fn check_both_ways<M: Message + Default + PartialEq + std::fmt::Debug>(descriptor: &MessageDescriptor, json: &str, expected: &M) {
    let dynamic = message_from_json(descriptor, json, &JsonOptions::new()).unwrap();
    let decoded = M::decode(dynamic.encode_to_vec().as_slice()).unwrap();
    assert_eq!(&decoded, expected, "JSON {json} parsed to a different message");

    let from_prost = DynamicMessage::decode(descriptor.clone(), expected.encode_to_vec().as_slice()).unwrap();
    let printed = message_to_json(&from_prost, &JsonOptions::new().compact(true)).unwrap();
    assert_eq!(printed, json, "the prost message printed differently");
}

fn sample_order() -> pb::Order {
    pb::Order {
        name: "soup \"du jour\" \u{e9}".into(),
        big: -5_000_000_000,
        bigger: u64::MAX,
        ratio: 0.25,
        rush: true,
        blob: vec![0, 1, 2, 254, 255],
        colour: pb::Colour::Green as i32,
        points: vec![pb::Point { x: 1, y: -2 }, pb::Point { x: 0, y: 0 }],
        counts: HashMap::from([("a".to_owned(), 1)]),
        maybe: Some(0),
        choice: Some(pb::Choice::Text("t".into())),
        inner: Some(pb::Inner { size: 2 }),
        packed: vec![1, 2, 3],
        renamed_field: 7,
        zigzag: -3,
        fixed: 9,
    }
}

#[test]
fn every_field_shape_round_trips() {
    let pool = pool();
    let order = message(&pool, "dyntest.Order");
    let json = concat!(
        r#"{"name":"soup \"du jour\" é","big":"-5000000000","bigger":"18446744073709551615","ratio":0.25,"rush":true,"#,
        r#""blob":"AAEC/v8=","colour":"GREEN","points":[{"x":1,"y":-2},{}],"counts":{"a":1},"maybe":0,"text":"t","#,
        r#""inner":{"size":"LARGE"},"packed":[1,2,3],"otherName":7,"zigzag":-3,"fixed":9}"#
    );
    check_both_ways(&order, json, &sample_order());
}

#[test]
fn the_well_known_types_take_their_canonical_forms() {
    let pool = pool();
    let dish = message(&pool, "dyntest.Dish");
    let point = pb::Point { x: 3, y: 4 };
    let expected = pb::Dish {
        ready_at: Some(prost_types::Timestamp {
            seconds: 1_704_164_645,
            nanos: 123_000_000,
        }),
        took: Some(prost_types::Duration {
            seconds: 1,
            nanos: 500_000_000,
        }),
        extra: Some(prost_types::Any {
            type_url: "type.googleapis.com/dyntest.common.Point".into(),
            value: point.encode_to_vec(),
        }),
        notes: Some(prost_types::Struct {
            fields: BTreeMap::from([
                ("n".to_owned(), number(1.0)),
                ("half".to_owned(), number(0.5)),
                (
                    "list".to_owned(),
                    list(vec![
                        prost_types::Value {
                            kind: Some(prost_types::value::Kind::BoolValue(true)),
                        },
                        prost_types::Value {
                            kind: Some(prost_types::value::Kind::NullValue(0)),
                        },
                    ]),
                ),
            ]),
        }),
        anything: Some(prost_types::Value {
            kind: Some(prost_types::value::Kind::StringValue("hello".into())),
        }),
        label: Some("lbl".into()),
        calories: Some(1200),
        vegan: Some(false),
        tags: Some(prost_types::ListValue {
            values: vec![number(1.0), number(2.5)],
        }),
        price: Some(9.99),
        name: String::new(),
    };
    let json = concat!(
        r#"{"readyAt":"2024-01-02T03:04:05.123Z","took":"1.500s","#,
        r#""extra":{"@type":"type.googleapis.com/dyntest.common.Point","x":3,"y":4},"#,
        r#""notes":{"half":0.5,"list":[true,null],"n":1},"anything":"hello","label":"lbl","calories":"1200","#,
        r#""vegan":false,"tags":[1,2.5],"price":9.99}"#
    );
    check_both_ways(&dish, json, &expected);
}

fn number(x: f64) -> prost_types::Value {
    prost_types::Value {
        kind: Some(prost_types::value::Kind::NumberValue(x)),
    }
}

fn list(values: Vec<prost_types::Value>) -> prost_types::Value {
    prost_types::Value {
        kind: Some(prost_types::value::Kind::ListValue(prost_types::ListValue { values })),
    }
}

#[test]
fn an_any_holding_a_well_known_type_nests_it_under_value() {
    let pool = pool();
    let dish = message(&pool, "dyntest.Dish");
    let expected = pb::Dish {
        extra: Some(prost_types::Any {
            type_url: "type.googleapis.com/google.protobuf.Duration".into(),
            value: prost_types::Duration { seconds: 2, nanos: 0 }.encode_to_vec(),
        }),
        ..Default::default()
    };
    check_both_ways(
        &dish,
        r#"{"extra":{"@type":"type.googleapis.com/google.protobuf.Duration","value":"2s"}}"#,
        &expected,
    );
}

#[test]
fn parsing_accepts_proto_names_and_numbers_where_the_mapping_allows() {
    let pool = pool();
    let order = message(&pool, "dyntest.Order");
    let lenient = r#"{"renamed_field": 7, "big": -5000000000, "colour": 2, "maybe": 0, "inner": {"size": 2}}"#;
    let expected = pb::Order {
        renamed_field: 7,
        big: -5_000_000_000,
        colour: 2,
        maybe: Some(0),
        inner: Some(pb::Inner { size: 2 }),
        ..Default::default()
    };
    let dynamic = message_from_json(&order, lenient, &JsonOptions::new()).unwrap();
    assert_eq!(pb::Order::decode(dynamic.encode_to_vec().as_slice()).unwrap(), expected);
}

#[test]
fn output_options_emit_defaults_proto_names_enum_numbers_and_indentation() {
    let pool = pool();
    let order = message(&pool, "dyntest.Order");
    let small = pb::Order {
        renamed_field: 7,
        colour: 1,
        ..Default::default()
    };
    let dynamic = DynamicMessage::decode(order, small.encode_to_vec().as_slice()).unwrap();
    assert_eq!(
        message_to_json(&dynamic, &JsonOptions::new()).unwrap(),
        "{\n  \"colour\": \"RED\",\n  \"otherName\": 7\n}",
        "grpcurl's layout: two spaces, defaults left out"
    );
    assert_eq!(
        message_to_json(
            &dynamic,
            &JsonOptions::new().compact(true).use_proto_names(true).enums_as_numbers(true)
        )
        .unwrap(),
        r#"{"colour":1,"renamed_field":7}"#
    );
    let empty = DynamicMessage::decode(
        dynamic.descriptor(),
        pb::Order {
            inner: Some(pb::Inner::default()),
            ..Default::default()
        }
        .encode_to_vec()
        .as_slice(),
    )
    .unwrap();
    assert_eq!(
        message_to_json(&empty, &JsonOptions::new()).unwrap(),
        "{\n  \"inner\": {\n    \n  }\n}",
        "grpcurl's layout of an empty object: an indented blank line"
    );
    assert_eq!(
        message_to_json(&DynamicMessage::new(dynamic.descriptor()), &JsonOptions::new()).unwrap(),
        "{\n  \n}"
    );
    assert_eq!(
        message_to_json(&empty, &JsonOptions::new().compact(true)).unwrap(),
        r#"{"inner":{}}"#
    );
    let all = message_to_json(&dynamic, &JsonOptions::new().compact(true).emit_defaults(true)).unwrap();
    assert_eq!(
        all,
        concat!(
            r#"{"name":"","big":"0","bigger":"0","ratio":0,"rush":false,"blob":"","colour":"RED","points":[],"counts":{},"#,
            r#""packed":[],"otherName":7,"zigzag":0,"fixed":0}"#
        ),
        "fields with presence (optional, oneof, messages) stay out when unset"
    );
}

#[test]
fn bad_json_is_a_clear_error() {
    let pool = pool();
    let order = message(&pool, "dyntest.Order");
    let options = JsonOptions::new();
    for (json, says) in [
        (r#"{"name": "x""#, "EOF"),
        (r#"{"nme": "x"}"#, "nme"),
        (r#"{"big": "ten"}"#, "column 13"),
        (r#"{"colour": "PURPLE"}"#, "PURPLE"),
        (r#"{"name": 3}"#, "expected a string"),
        (r#"{"name": "x"} trailing"#, "trailing"),
        (r#"[1]"#, "dyntest.Order"),
    ] {
        let error = message_from_json(&order, json, &options).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Json, "{json}");
        let text = error.to_string();
        assert!(text.contains("dyntest.Order"), "{json}: {text}");
        assert!(
            text.contains(says) || text.to_lowercase().contains(&says.to_lowercase()),
            "{json}: {text}"
        );
    }
    let dish = message(&pool, "dyntest.Dish");
    let unknown_any = r#"{"extra": {"@type": "type.googleapis.com/no.Such", "x": 1}}"#;
    let error = message_from_json(&dish, unknown_any, &options).unwrap_err();
    assert!(error.to_string().contains("no.Such"), "{error}");

    let unknown_field = r#"{"nme": "x", "name": "y"}"#;
    let parsed = message_from_json(&order, unknown_field, &options.allow_unknown_fields(true)).unwrap();
    assert_eq!(pb::Order::decode(parsed.encode_to_vec().as_slice()).unwrap().name, "y");
}

#[test]
fn a_stream_of_requests_is_split_on_value_boundaries() {
    let pool = pool();
    let point = message(&pool, "dyntest.common.Point");
    let input = "{\"x\": 1}\n{\"x\": 2} {\"y\": 3}{\"x\":4}\n\n";
    let xs: Vec<(i32, i32)> = messages_from_json(&point, input.as_bytes(), &JsonOptions::new())
        .map(|m| {
            let p = pb::Point::decode(m.unwrap().encode_to_vec().as_slice()).unwrap();
            (p.x, p.y)
        })
        .collect();
    assert_eq!(xs, [(1, 0), (2, 0), (0, 3), (4, 0)]);

    let empty: Vec<_> = messages_from_json(&point, "  \n".as_bytes(), &JsonOptions::new()).collect();
    assert!(empty.is_empty());

    let mut broken = messages_from_json(&point, "{\"x\": 1}\n{\"x\": }\n{\"x\": 3}".as_bytes(), &JsonOptions::new());
    assert!(broken.next().unwrap().is_ok());
    let error = broken.next().unwrap().unwrap_err();
    assert!(error.to_string().starts_with("request 2: "), "{error}");
    assert!(broken.next().is_none(), "nothing after an error");
}

#[test]
fn an_any_of_an_unknown_type_is_reported_before_printing() {
    let pool = pool();
    let dish_type = message(&pool, "dyntest.Dish");
    let dish = pb::Dish {
        extra: Some(prost_types::Any {
            type_url: "type.googleapis.com/elsewhere.Thing".into(),
            value: vec![8, 1],
        }),
        ..Default::default()
    };
    let dynamic = DynamicMessage::decode(dish_type, dish.encode_to_vec().as_slice()).unwrap();
    assert_eq!(unresolved_any_types(&dynamic).into_iter().collect::<Vec<_>>(), ["elsewhere.Thing"]);
    let error = message_to_json(&dynamic, &JsonOptions::new()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Json);
    assert!(error.to_string().contains("elsewhere.Thing"), "{error}");
}

#[test]
fn generated_types_of_the_examples_agree_too() {
    // helloworld.HelloRequest as rpc-build generated it for the examples.
    use examples::pb::helloworld::HelloRequest;
    let pool = DescriptorPool::decode(examples::pb::helloworld::GREETER_SERVICE.file_descriptor_set).unwrap();
    let request = message(&pool, "helloworld.HelloRequest");
    check_both_ways(&request, r#"{"name":"ada"}"#, &HelloRequest { name: "ada".into() });
}
