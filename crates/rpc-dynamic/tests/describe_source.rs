//! Symbols shown as proto source, in grpcurl's `describe` layout: headings, fully
//! qualified types, doc comments, the order of a message's elements, labels of both
//! syntaxes, options (standard and custom), groups, extensions and reserved ranges.

use rpc_dynamic::{describe, find_symbol, load_protos, proto_source};
use std::path::Path;

fn show(file: &str, symbol: &str) -> String {
    let protos = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/protos");
    let pool = load_protos(&[file], &[protos]).unwrap();
    describe(&find_symbol(&pool, symbol).unwrap_or_else(|e| panic!("{symbol}: {e}")))
}

#[test]
fn a_service_with_comments_and_methods_sorted_by_name() {
    assert_eq!(
        show("dyntest/kitchen.proto", "dyntest.Kitchen"),
        "\
dyntest.Kitchen is a service:
// Serves every kind of method.
service Kitchen {
  // Bidirectional streaming.
  rpc Chat ( stream .dyntest.Order ) returns ( stream .dyntest.Dish ) {
    option deprecated = true;
  }
  // Unary.
  rpc Cook ( .dyntest.Order ) returns ( .dyntest.Dish );
  // Server streaming.
  rpc Courses ( .dyntest.Order ) returns ( stream .dyntest.Dish );
  rpc Nothing ( .google.protobuf.Empty ) returns ( .google.protobuf.Empty );
  // Client streaming.
  rpc Tasting ( stream .dyntest.Order ) returns ( .dyntest.Dish );
}
"
    );
    assert_eq!(
        show("dyntest/kitchen.proto", "dyntest.Kitchen.Courses"),
        "dyntest.Kitchen.Courses is a method:\n// Server streaming.\nrpc Courses ( .dyntest.Order ) returns ( stream .dyntest.Dish );\n"
    );
}

#[test]
fn a_proto3_message_with_every_field_shape() {
    assert_eq!(
        show("dyntest/kitchen.proto", "dyntest.Order"),
        "\
dyntest.Order is a message:
// An order with fields of every shape.
message Order {
  string name = 1;
  int64 big = 2;
  uint64 bigger = 3;
  double ratio = 4;
  bool rush = 5;
  bytes blob = 6;
  .dyntest.common.Colour colour = 7;
  repeated .dyntest.common.Point points = 8;
  map<string, int32> counts = 9;
  optional int32 maybe = 10;
  oneof choice {
    string text = 11;
    int32 number = 12;
  }
  .dyntest.Order.Inner inner = 13;
  repeated int32 packed = 14;
  int32 renamed_field = 15 [json_name = \"otherName\"];
  sint32 zigzag = 16 [deprecated = true];
  fixed32 fixed = 17;
  // A nested message.
  message Inner {
    .dyntest.Order.Inner.Size size = 1;
    // A nested enum.
    enum Size {
      SIZE_UNSPECIFIED = 0;
      SMALL = 1;
      LARGE = 2;
    }
  }
  reserved 100, 200 to 300;
  reserved \"old\";
}
"
    );
}

#[test]
fn parts_of_a_message_on_their_own() {
    let kitchen = "dyntest/kitchen.proto";
    assert_eq!(
        show(kitchen, "dyntest.Order.counts"),
        "dyntest.Order.counts is a field:\nmap<string, int32> counts = 9;\n"
    );
    assert_eq!(
        show(kitchen, "dyntest.Order.maybe"),
        "dyntest.Order.maybe is a field:\noptional int32 maybe = 10;\n"
    );
    assert_eq!(
        show(kitchen, "dyntest.Order.choice"),
        "dyntest.Order.choice is a one-of:\noneof choice {\n  string text = 11;\n  int32 number = 12;\n}\n"
    );
    assert_eq!(
        show(kitchen, "dyntest.common.Colour"),
        "dyntest.common.Colour is an enum:\n// A colour.\nenum Colour {\n  COLOUR_UNSPECIFIED = 0;\n  RED = 1;\n  GREEN = 2;\n}\n"
    );
    assert_eq!(
        show(kitchen, "dyntest.common.GREEN"),
        "dyntest.common.Colour.GREEN is an enum value:\nGREEN = 2;\n"
    );
    let dish = show(kitchen, "dyntest.Dish");
    for line in [
        "  .google.protobuf.Timestamp ready_at = 1;",
        "  .google.protobuf.Any extra = 3;",
        "  .google.protobuf.Struct notes = 4;",
        "  .google.protobuf.StringValue label = 6;",
    ] {
        assert!(dish.lines().any(|l| l == line), "{line:?} in\n{dish}");
    }
}

#[test]
fn proto2_labels_defaults_groups_extensions_and_ranges() {
    assert_eq!(
        show("legacy.proto", "legacy.Old"),
        "\
legacy.Old is a message:
message Old {
  required string id = 1;
  optional int32 count = 2 [default = 7];
  repeated string tags = 3;
  optional string motto = 4 [default = \"hi \\\"there\\\"\"];
  optional bool flag = 5 [default = true];
  optional .legacy.Old.Kind kind = 6 [default = B];
  enum Kind {
    A = 0;
    B = 1;
  }
  extensions 100 to 199;
}
"
    );
    assert_eq!(
        show("legacy.proto", "legacy.note"),
        "legacy.note is an extension:\nextend .legacy.Old {\n  optional string note = 100;\n}\n"
    );
    assert_eq!(
        show("legacy.proto", "legacy.Holder"),
        "legacy.Holder is a message:\nmessage Holder {\n  optional .legacy.Old old = 1;\n  extend .legacy.Old {\n    optional int32 level = 101;\n  }\n}\n"
    );
}

#[test]
fn elements_are_sorted_by_kind_then_name_or_number() {
    assert_eq!(
        show("sorting.proto", "s.M"),
        "\
s.M is a message:
message M {
  option deprecated = true;
  optional int32 f1 = 1 [deprecated = true, packed = false];
  optional group Gr = 2 {
    optional int32 g = 1;
  }
  optional int32 f3 = 3;
  map<int64, .s.M> mm = 4;
  oneof o {
    int32 o2 = 5;
    string o1 = 6;
  }
  optional bytes bb = 10 [default = \"\\001\\002abc\"];
  optional double d = 11 [default = inf];
  optional float fl = 12 [default = -1.5];
  message ANested {
    optional int32 q = 1;
  }
  message BNested {
    optional int32 q = 1;
  }
  enum AEnum {
    option allow_alias = true;
    A0 = 0;
    A1 = 1;
    A2 = 1 [deprecated = true];
  }
  enum ZEnum {
    Z = 0;
  }
  extensions 100 to 199, 1000 to max;
  extend .s.M {
    optional int32 zz = 150;
  }
  reserved 7 to 8, 9, 300 to 400;
  reserved \"a\", \"b\";
}
"
    );
    assert_eq!(
        show("sorting.proto", "s.A"),
        "s.A is a service:\nservice A {\n  option deprecated = true;\n  rpc Y ( .s.M ) returns ( .s.M ) {\n    option idempotency_level = NO_SIDE_EFFECTS;\n  }\n}\n"
    );
    assert_eq!(
        show("sorting.proto", "s.M.Gr"),
        "s.M.Gr is the type of a group field:\noptional group Gr = 2 {\n  optional int32 g = 1;\n}\n"
    );
}

#[test]
fn custom_options_and_block_comments() {
    assert_eq!(
        show("custom_options.proto", "opts.Reading"),
        "\
opts.Reading is a message:
// A reading,
// with a block comment.
message Reading {
  option (.opts.meta) = { owner:\"ops\" level:2 };
  // The value.
  double value = 1 [deprecated = true, (.opts.unit) = \"celsius\"];
  string where = 2;
}
"
    );
    let protos = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/protos");
    let pool = load_protos(&["custom_options.proto"], &[protos]).unwrap();
    let unit = find_symbol(&pool, "opts.unit").unwrap();
    assert_eq!(
        proto_source(&unit),
        "extend .google.protobuf.FieldOptions {\n  string unit = 50001;\n}\n"
    );
}
