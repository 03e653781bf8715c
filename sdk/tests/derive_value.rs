//! `#[derive(Value)]` on records, tuples, newtypes, unit structs, enums and
//! variants with every kind of payload, including generics and nesting.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use reprise::bindings::golem::core::types::WitTypeNode;
use reprise::value::{FromValue, IntoValue, Schema};

#[derive(reprise::Value, Debug, Clone, PartialEq)]
struct OrderLine {
    product_id: String,
    quantity: u32,
    unit_price: Option<u64>,
}

#[derive(reprise::Value, Debug, Clone, PartialEq)]
struct Point(i32, i32);

#[derive(reprise::Value, Debug, Clone, PartialEq)]
struct Sku(String);

#[derive(reprise::Value, Debug, Clone, PartialEq)]
struct Marker;

#[derive(reprise::Value, Debug, Clone, Copy, PartialEq)]
enum Colour {
    Red,
    DarkGreen,
}

#[derive(reprise::Value, Debug, Clone, PartialEq)]
enum Event {
    Opened,
    Renamed(String),
    Resized(u32, u32),
    Moved { from: Point, to: Point },
    Tagged(Vec<Colour>),
}

#[derive(reprise::Value, Debug, Clone, PartialEq)]
struct Page<T> {
    items: Vec<T>,
    next: Option<String>,
}

#[derive(reprise::Value, Debug, Clone, PartialEq)]
struct Order {
    lines: Vec<OrderLine>,
    history: Vec<Event>,
    by_sku: BTreeMap<String, Sku>,
    marker: Marker,
}

fn round_trip<T: IntoValue + FromValue + PartialEq + std::fmt::Debug>(v: T) {
    assert_eq!(T::from_wit_value(&v.to_wit_value()).unwrap(), v);
}

#[test]
fn every_shape_round_trips() {
    round_trip(OrderLine { product_id: "p-1".into(), quantity: 2, unit_price: Some(150) });
    round_trip(Point(-3, 4));
    round_trip(Sku("abc".into()));
    round_trip(Marker);
    round_trip(Colour::DarkGreen);
    for e in [
        Event::Opened,
        Event::Renamed("x".into()),
        Event::Resized(3, 4),
        Event::Moved { from: Point(0, 0), to: Point(1, 1) },
        Event::Tagged(vec![Colour::Red, Colour::DarkGreen]),
    ] {
        round_trip(e);
    }
    round_trip(Page { items: vec![Sku("a".into())], next: Some("b".into()) });
    round_trip(Order {
        lines: vec![OrderLine { product_id: "p".into(), quantity: 1, unit_price: None }],
        history: vec![Event::Opened, Event::Moved { from: Point(1, 2), to: Point(3, 4) }],
        by_sku: [("k".to_string(), Sku("v".into()))].into(),
        marker: Marker,
    });
}

#[test]
fn types_use_kebab_case_names_and_the_expected_shapes() {
    let t = OrderLine::wit_type();
    assert_eq!(t.nodes[0].name.as_deref(), Some("order-line"));
    let WitTypeNode::RecordType(fields) = &t.nodes[0].type_ else { panic!("a record") };
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["product-id", "quantity", "unit-price"]);

    let WitTypeNode::EnumType(cases) = &Colour::wit_type().nodes[0].type_ else { panic!("an enum") };
    assert_eq!(cases, &["red", "dark-green"]);

    let t = Event::wit_type();
    let WitTypeNode::VariantType(cases) = &t.nodes[0].type_ else { panic!("a variant") };
    let summary: Vec<(String, bool)> = cases.iter().map(|(n, p)| (n.clone(), p.is_some())).collect();
    assert_eq!(
        summary,
        [
            ("opened".into(), false),
            ("renamed".into(), true),
            ("resized".into(), true),
            ("moved".into(), true),
            ("tagged".into(), true)
        ]
    );
    // A newtype is its inner type; a tuple struct a tuple.
    assert!(matches!(Sku::wit_type().nodes[0].type_, WitTypeNode::PrimStringType));
    assert!(matches!(Point::wit_type().nodes[0].type_, WitTypeNode::TupleType(_)));
}

#[test]
fn mismatches_name_the_path_inside_derived_types() {
    let v = Event::Moved { from: Point(0, 0), to: Point(1, 1) }.to_wit_value();
    let err = Event::from_wit_value(&Colour::Red.to_wit_value()).unwrap_err();
    assert!(err.to_string().starts_with("at $: expected variant `event`"), "{err}");

    // Read a `moved` payload as an order line: the path points into it.
    let wrong = OrderLine::from_wit_value(&v).unwrap_err();
    assert_eq!(wrong.to_string(), "at $: expected record `order-line` with 3 field(s), found variant case 3");

    let line = OrderLine { product_id: "p".into(), quantity: 1, unit_price: Some(5) }.to_wit_value();
    #[derive(reprise::Value, Debug)]
    struct Lookalike {
        product_id: String,
        quantity: u32,
        unit_price: Option<String>,
    }
    let err = Lookalike::from_wit_value(&line).unwrap_err();
    assert_eq!(err.to_string(), "at $.unit-price?: expected string, found u64 5");
}

fn any_event() -> impl Strategy<Value = Event> {
    prop_oneof![
        Just(Event::Opened),
        ".{0,6}".prop_map(Event::Renamed),
        (any::<u32>(), any::<u32>()).prop_map(|(a, b)| Event::Resized(a, b)),
        (any::<i32>(), any::<i32>(), any::<i32>(), any::<i32>())
            .prop_map(|(a, b, c, d)| Event::Moved { from: Point(a, b), to: Point(c, d) }),
        prop::collection::vec(prop_oneof![Just(Colour::Red), Just(Colour::DarkGreen)], 0..4).prop_map(Event::Tagged),
    ]
}

proptest! {
    #[test]
    fn derived_values_round_trip(events in prop::collection::vec(any_event(), 0..6), id: String, qty: u32, price: Option<u64>) {
        round_trip(events);
        round_trip(OrderLine { product_id: id, quantity: qty, unit_price: price });
    }
}
