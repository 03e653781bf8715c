//! Property tests: every supported shape survives a round trip through
//! Golem's node form, and arbitrary node lists never make reading panic.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;
use reprise::bindings::golem::core::types::{WitNode, WitTypeNode, WitValue};
use reprise::value::{FromValue, IntoValue, Json, Schema};

fn round_trip<T: IntoValue + FromValue + PartialEq + std::fmt::Debug>(v: &T) {
    let wit = v.to_wit_value();
    let back = T::from_wit_value(&wit).unwrap_or_else(|e| panic!("{v:?}: {e}"));
    assert_eq!(&back, v);
    // The value and its type have the same root shape.
    let typ = T::wit_type();
    let shapes_match = matches!(
        (&wit.nodes[0], &typ.nodes[0].type_),
        (WitNode::ListValue(_), WitTypeNode::ListType(_))
            | (WitNode::TupleValue(_), WitTypeNode::TupleType(_))
            | (WitNode::OptionValue(_), WitTypeNode::OptionType(_))
            | (WitNode::ResultValue(_), WitTypeNode::ResultType(_))
            | (WitNode::RecordValue(_), WitTypeNode::RecordType(_))
            | (WitNode::PrimString(_), WitTypeNode::PrimStringType)
            | (WitNode::PrimU64(_), WitTypeNode::PrimU64Type)
            | (WitNode::PrimBool(_), WitTypeNode::PrimBoolType)
    );
    assert!(shapes_match, "{:?} vs {:?}", wit.nodes[0], typ.nodes[0].type_);
}

proptest! {
    #[test]
    fn primitives(b: bool, x8: u8, x16: u16, x32: u32, x64: u64, i8_: i8, i16_: i16, i32_: i32, i64_: i64, c: char, s: String) {
        round_trip(&(b, x8, x16, x32, x64, i8_, i16_, i32_));
        round_trip(&(i64_, c, s));
    }

    #[test]
    fn floats(f in any::<f32>().prop_filter("not NaN", |f| !f.is_nan()), d in any::<f64>().prop_filter("not NaN", |d| !d.is_nan())) {
        round_trip(&(f, d));
    }

    #[test]
    fn collections(list: Vec<(String, Option<u32>)>, bytes: Vec<u8>, nested: Vec<Vec<i16>>, array: [u8; 4]) {
        round_trip(&list);
        round_trip(&bytes);
        round_trip(&nested);
        round_trip(&array);
    }

    #[test]
    fn options_and_results(o: Option<Option<String>>, r: Result<u64, String>, rr: Vec<Result<(), bool>>) {
        round_trip(&o);
        round_trip(&r);
        round_trip(&rr);
    }

    #[test]
    fn maps(bm: BTreeMap<String, Vec<u8>>, hm: HashMap<u32, bool>) {
        round_trip(&bm);
        round_trip(&hm);
    }

    #[test]
    fn uuids_and_json(hi: u64, lo: u64, settings: BTreeMap<String, u32>) {
        round_trip(&uuid::Uuid::from_u64_pair(hi, lo));
        let v = Json(settings.clone()).to_wit_value();
        prop_assert_eq!(Json::<BTreeMap<String, u32>>::from_wit_value(&v).unwrap().0, settings);
    }

    /// Any node list at all: reading returns a value or an error, never panics or loops.
    #[test]
    fn arbitrary_nodes_never_panic(nodes in prop::collection::vec(any_node(), 0..12)) {
        let value = WitValue { nodes };
        let _ = <Vec<(String, Option<u32>)>>::from_wit_value(&value);
        let _ = <Result<BTreeMap<String, u64>, ()>>::from_wit_value(&value);
        let _ = <Option<Box<Vec<bool>>>>::from_wit_value(&value);
        let _ = uuid::Uuid::from_wit_value(&value);
    }
}

fn any_node() -> impl Strategy<Value = WitNode> {
    let idx = -2i32..14;
    prop_oneof![
        prop::collection::vec(idx.clone(), 0..4).prop_map(WitNode::RecordValue),
        prop::collection::vec(idx.clone(), 0..4).prop_map(WitNode::TupleValue),
        prop::collection::vec(idx.clone(), 0..4).prop_map(WitNode::ListValue),
        prop::option::of(idx.clone()).prop_map(WitNode::OptionValue),
        prop::option::of(idx.clone()).prop_map(|i| WitNode::ResultValue(Ok(i))),
        prop::option::of(idx).prop_map(|i| WitNode::ResultValue(Err(i))),
        any::<u32>().prop_map(WitNode::PrimU32),
        any::<u64>().prop_map(WitNode::PrimU64),
        any::<bool>().prop_map(WitNode::PrimBool),
        ".{0,8}".prop_map(WitNode::PrimString),
    ]
}

#[test]
fn mismatches_name_the_path_and_both_types() {
    let value = vec![(String::from("a"), Some(1u32)), (String::from("b"), Some(2))].to_wit_value();
    let err = <Vec<(String, Option<String>)>>::from_wit_value(&value).unwrap_err();
    assert_eq!(err.to_string(), "at $[0].1?: expected string, found u32 1");

    let err = <[u8; 3]>::from_wit_value(&vec![1u8, 2].to_wit_value()).unwrap_err();
    assert_eq!(err.to_string(), "at $: expected a list of 3, found a list of 2");

    let cyclic = WitValue { nodes: vec![WitNode::OptionValue(Some(0))] };
    let err = <Option<Box<Option<u8>>>>::from_wit_value(&cyclic).unwrap_err();
    assert!(err.to_string().contains("cyclic"), "{err}");

    let dangling = WitValue { nodes: vec![WitNode::ListValue(vec![5])] };
    let err = <Vec<u8>>::from_wit_value(&dangling).unwrap_err();
    assert_eq!(err.to_string(), "at $[0]: expected a node index below 1, found index 5");

    let err = Json::<Vec<u8>>::from_wit_value(&String::from("{not json").to_wit_value()).unwrap_err();
    assert!(err.expected.starts_with("JSON of alloc::vec::Vec<u8>"), "{err}");
}

#[test]
fn uuid_types_are_named_like_golem_s() {
    let t = uuid::Uuid::wit_type();
    assert_eq!(t.nodes[0].name.as_deref(), Some("uuid"));
    assert_eq!(t.nodes[0].owner.as_deref(), Some("golem:core/types@1.5.0"));
}

#[test]
fn unit_result_cases_carry_no_payload_as_in_wit() {
    use reprise::value::__private::{WitNode, WitTypeNode};
    use reprise::value::{FromValue, IntoValue, Schema};
    let t = <Result<(), String>>::wit_type();
    assert!(matches!(&t.nodes[0].type_, WitTypeNode::ResultType((None, Some(_)))), "{t:?}");
    let v = Ok::<(), String>(()).to_wit_value();
    assert!(matches!(&v.nodes[0], WitNode::ResultValue(Ok(None))), "{v:?}");
    assert_eq!(<Result<(), String>>::from_wit_value(&v).unwrap(), Ok(()));
    // A missing payload where one is needed is an error, not a panic.
    let missing = Ok::<(), ()>(()).to_wit_value();
    let err = <Result<u32, ()>>::from_wit_value(&missing).unwrap_err().to_string();
    assert!(err.contains("ok payload"), "{err}");
}
