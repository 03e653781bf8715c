//! Whatever bytes or text a guest, a file or a user hands the testkit's
//! readers, they answer with a value or an error naming the problem: no
//! panic, no hang.

use proptest::prelude::*;
use reprise_testkit::Environment;
use reprise_testkit::bindings::golem::core::types::{
    NamedWitTypeNode, ResourceMode, Uri, WitNode, WitType, WitTypeNode, WitValue,
};
use reprise_testkit::plugins::directory::ManifestOutcome;
use reprise_testkit::value::{Type, Value};
use reprise_testkit::wave;

/// A node index: mostly in range, sometimes not.
fn index(n: i32) -> impl Strategy<Value = i32> + Clone {
    prop_oneof![4 => 0..n.max(1), 1 => any::<i32>()]
}

fn node(n: i32) -> impl Strategy<Value = WitNode> {
    let ids = proptest::collection::vec(index(n), 0..4);
    prop_oneof![
        ids.clone().prop_map(WitNode::RecordValue),
        ids.clone().prop_map(WitNode::TupleValue),
        ids.prop_map(WitNode::ListValue),
        (any::<u32>(), proptest::option::of(index(n))).prop_map(WitNode::VariantValue),
        any::<u32>().prop_map(WitNode::EnumValue),
        proptest::collection::vec(any::<bool>(), 0..4).prop_map(WitNode::FlagsValue),
        proptest::option::of(index(n)).prop_map(WitNode::OptionValue),
        proptest::result::maybe_ok(proptest::option::of(index(n)), proptest::option::of(index(n)))
            .prop_map(WitNode::ResultValue),
        any::<u64>().prop_map(WitNode::PrimU64),
        any::<f64>().prop_map(WitNode::PrimFloat64),
        any::<char>().prop_map(WitNode::PrimChar),
        ".{0,8}".prop_map(WitNode::PrimString),
        any::<u64>().prop_map(|id| WitNode::Handle((Uri { value: "urn:x".into() }, id))),
    ]
}

fn type_node(n: i32) -> impl Strategy<Value = WitTypeNode> {
    prop_oneof![
        proptest::collection::vec(("[a-z]{0,3}", index(n)), 0..4).prop_map(WitTypeNode::RecordType),
        proptest::collection::vec(("[a-z]{0,3}", proptest::option::of(index(n))), 0..4)
            .prop_map(WitTypeNode::VariantType),
        proptest::collection::vec("[a-z]{0,3}", 0..4).prop_map(WitTypeNode::EnumType),
        proptest::collection::vec("[a-z]{0,3}", 0..4).prop_map(WitTypeNode::FlagsType),
        proptest::collection::vec(index(n), 0..4).prop_map(WitTypeNode::TupleType),
        index(n).prop_map(WitTypeNode::ListType),
        index(n).prop_map(WitTypeNode::OptionType),
        (proptest::option::of(index(n)), proptest::option::of(index(n))).prop_map(WitTypeNode::ResultType),
        Just(WitTypeNode::PrimU8Type),
        Just(WitTypeNode::PrimStringType),
        any::<u64>().prop_map(|id| WitTypeNode::HandleType((id, ResourceMode::Owned))),
    ]
}

/// Types a WAVE text is read as.
fn wave_types() -> Vec<Type> {
    vec![
        Type::String,
        Type::U64,
        Type::S8,
        Type::F64,
        Type::Char,
        Type::bytes(),
        Type::option(Type::String),
        Type::result(Some(Type::U32), Some(Type::String)),
        Type::Tuple(vec![Type::Bool, Type::String]),
        Type::Record(vec![("sku".into(), Type::String), ("qty".into(), Type::U32)]),
        Type::Variant(vec![("none".into(), None), ("some".into(), Some(Type::List(Box::new(Type::S64))))]),
        Type::Enum(vec!["red".into(), "green".into()]),
        Type::Flags(vec!["a".into(), "b".into()]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_value_nodes_decode_or_are_refused(nodes in (1i32..8).prop_flat_map(|n| proptest::collection::vec(node(n), n as usize))) {
        match Value::from_wit(&WitValue { nodes }) {
            // Whatever decodes encodes back to something that decodes the same.
            Ok(value) => prop_assert_eq!(Value::from_wit(&value.to_wit()).ok(), Some(value)),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn any_type_nodes_decode_or_are_refused(types in (1i32..8).prop_flat_map(|n| proptest::collection::vec(type_node(n), n as usize))) {
        let nodes = types.into_iter().map(|t| NamedWitTypeNode { name: None, owner: None, type_: t }).collect();
        match Type::from_wit(&WitType { nodes }) {
            Ok(ty) => prop_assert_eq!(Type::from_wit(&ty.to_wit()).ok(), Some(ty)),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn any_text_parses_as_wave_or_is_refused(text in ".{0,40}", which in 0usize..13) {
        let ty = &wave_types()[which];
        if let Ok(value) = wave::parse(&text, ty) {
            // What parses renders to text that parses to the same value.
            let again = wave::parse(&wave::render(&value, ty).expect("renders"), ty).expect("parses again");
            prop_assert_eq!(again, value);
        }
    }

    #[test]
    fn strings_survive_wave_whatever_they_hold(text in any::<String>()) {
        let value = Value::string(text);
        let rendered = wave::render(&value, &Type::String).expect("renders");
        prop_assert_eq!(wave::parse(&rendered, &Type::String).expect("parses"), value);
    }
}

#[test]
fn nodes_shared_at_every_level_are_refused_at_once() {
    // Each list holds the next node twice: 2^40 values if expanded.
    let nodes: Vec<WitNode> =
        (1..=40).map(|next| WitNode::ListValue(vec![next, next])).chain([WitNode::PrimU8(1)]).collect();
    // Without a bound on the nodes visited this would not return.
    let e = Value::from_wit(&WitValue { nodes }).expect_err("refused");
    assert!(e.to_string().contains("expand far beyond"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any manifest text is rejected with a reason (no component exists here
    /// to load) or, when it names one, refused for that; nothing panics.
    #[test]
    fn any_manifest_text_is_reported(text in prop_oneof![
        ".{0,200}",
        r#"\{"name": ".{0,6}", "version": ".{0,4}", "description": "", "component": ".{0,12}"(, "config": \{.{0,20}\})?\}"#,
    ]) {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("plugin.json"), &text).expect("write");
        let env = Environment::new().expect("environment");
        let (_, reports) = env.load_plugin_directory(dir.path()).expect("the folder is readable");
        prop_assert_eq!(reports.len(), 1);
        match &reports[0].outcome {
            ManifestOutcome::Rejected { reason } => prop_assert!(!reason.is_empty()),
            other => prop_assert!(false, "accepted without a component: {other:?}"),
        }
    }
}
