//! The SDK's values (those the typed calls `#[reprise::agent]` generates
//! carry) to and from the host's. Both are generated from the same WIT
//! (`golem:core/types@1.5.0`), once by wit-bindgen for guests and once by
//! wasmtime for the host, so the conversion is node for node.

use reprise::bindings::golem::core::types as sdk;

use crate::bindings::golem::core::types as host;
use crate::value::Value;

/// A guest-side value as the host's [`Value`].
pub fn value_from_sdk(value: &sdk::WitValue) -> Result<Value, String> {
    let nodes = value.nodes.iter().map(node_from_sdk).collect();
    Value::from_wit(&host::WitValue { nodes }).map_err(|e| e.to_string())
}

/// Guest-side values (a typed call's arguments or result) as the host's;
/// the first that does not convert is the error.
pub fn values_from_sdk(values: Vec<&sdk::WitValue>) -> Result<Vec<Value>, String> {
    values.into_iter().map(value_from_sdk).collect()
}

/// A host-side value as the guest-side one the SDK's `FromValue` reads.
pub fn value_to_sdk(value: &host::WitValue) -> sdk::WitValue {
    sdk::WitValue { nodes: value.nodes.iter().cloned().map(node_to_sdk).collect() }
}

/// A guest-side input as the host's.
pub fn data_from_sdk(data: &sdk::DataValue) -> Result<host::DataValue, String> {
    let element = |e: &sdk::ElementValue| match e {
        sdk::ElementValue::ComponentModel(v) => Ok(host::ElementValue::ComponentModel(host::WitValue {
            nodes: v.nodes.iter().map(node_from_sdk).collect(),
        })),
        _ => Err("typed calls carry component-model values only, not unstructured text or binary".to_string()),
    };
    Ok(match data {
        sdk::DataValue::Tuple(items) => host::DataValue::Tuple(items.iter().map(element).collect::<Result<_, _>>()?),
        sdk::DataValue::Multimodal(items) => host::DataValue::Multimodal(
            items.iter().map(|(name, e)| Ok((name.clone(), element(e)?))).collect::<Result<_, String>>()?,
        ),
    })
}

/// A host-side output as the guest-side value the SDK decodes; unstructured
/// elements, which no Rust result type reads, are an error naming them.
pub fn data_to_sdk(data: &host::DataValue) -> Result<sdk::DataValue, String> {
    let element = |e: &host::ElementValue| match e {
        host::ElementValue::ComponentModel(v) => Ok(sdk::ElementValue::ComponentModel(sdk::WitValue {
            nodes: v.nodes.iter().cloned().map(node_to_sdk).collect(),
        })),
        _ => Err("the output is unstructured text or binary, not a component-model value".to_string()),
    };
    Ok(match data {
        host::DataValue::Tuple(items) => sdk::DataValue::Tuple(items.iter().map(element).collect::<Result<_, _>>()?),
        host::DataValue::Multimodal(items) => sdk::DataValue::Multimodal(
            items.iter().map(|(name, e)| Ok((name.clone(), element(e)?))).collect::<Result<_, String>>()?,
        ),
    })
}

fn node_from_sdk(node: &sdk::WitNode) -> host::WitNode {
    use host::WitNode as H;
    use sdk::WitNode as S;
    match node {
        S::RecordValue(v) => H::RecordValue(v.clone()),
        S::VariantValue(v) => H::VariantValue(*v),
        S::EnumValue(v) => H::EnumValue(*v),
        S::FlagsValue(v) => H::FlagsValue(v.clone()),
        S::TupleValue(v) => H::TupleValue(v.clone()),
        S::ListValue(v) => H::ListValue(v.clone()),
        S::OptionValue(v) => H::OptionValue(*v),
        S::ResultValue(v) => H::ResultValue(*v),
        S::PrimU8(v) => H::PrimU8(*v),
        S::PrimU16(v) => H::PrimU16(*v),
        S::PrimU32(v) => H::PrimU32(*v),
        S::PrimU64(v) => H::PrimU64(*v),
        S::PrimS8(v) => H::PrimS8(*v),
        S::PrimS16(v) => H::PrimS16(*v),
        S::PrimS32(v) => H::PrimS32(*v),
        S::PrimS64(v) => H::PrimS64(*v),
        S::PrimFloat32(v) => H::PrimFloat32(*v),
        S::PrimFloat64(v) => H::PrimFloat64(*v),
        S::PrimChar(v) => H::PrimChar(*v),
        S::PrimBool(v) => H::PrimBool(*v),
        S::PrimString(v) => H::PrimString(v.clone()),
        S::Handle((uri, id)) => H::Handle((host::Uri { value: uri.value.clone() }, *id)),
    }
}

fn node_to_sdk(node: host::WitNode) -> sdk::WitNode {
    use host::WitNode as H;
    use sdk::WitNode as S;
    match node {
        H::RecordValue(v) => S::RecordValue(v),
        H::VariantValue(v) => S::VariantValue(v),
        H::EnumValue(v) => S::EnumValue(v),
        H::FlagsValue(v) => S::FlagsValue(v),
        H::TupleValue(v) => S::TupleValue(v),
        H::ListValue(v) => S::ListValue(v),
        H::OptionValue(v) => S::OptionValue(v),
        H::ResultValue(v) => S::ResultValue(v),
        H::PrimU8(v) => S::PrimU8(v),
        H::PrimU16(v) => S::PrimU16(v),
        H::PrimU32(v) => S::PrimU32(v),
        H::PrimU64(v) => S::PrimU64(v),
        H::PrimS8(v) => S::PrimS8(v),
        H::PrimS16(v) => S::PrimS16(v),
        H::PrimS32(v) => S::PrimS32(v),
        H::PrimS64(v) => S::PrimS64(v),
        H::PrimFloat32(v) => S::PrimFloat32(v),
        H::PrimFloat64(v) => S::PrimFloat64(v),
        H::PrimChar(v) => S::PrimChar(v),
        H::PrimBool(v) => S::PrimBool(v),
        H::PrimString(v) => S::PrimString(v),
        H::Handle((uri, id)) => S::Handle((sdk::Uri { value: uri.value }, id)),
    }
}

#[cfg(test)]
mod tests {
    use reprise::testing::Call;

    use super::*;
    use crate::data::values_of;

    #[test]
    fn rust_values_cross_to_the_host_and_back_unchanged() {
        type Answer = Result<Vec<(String, Option<u64>)>, char>;
        let original: Answer = Ok(vec![("a".into(), Some(7)), ("b".into(), None)]);
        let sdk_data = sdk::DataValue::Tuple(vec![reprise::rpc::arg(&original)]);
        let host = data_from_sdk(&sdk_data).expect("component-model values");
        let pair = |s: &str, n: Option<u64>| Value::Tuple(vec![Value::string(s), Value::option(n.map(Value::U64))]);
        let expected = Value::result(Ok(Value::List(vec![pair("a", Some(7)), pair("b", None)])));
        assert_eq!(values_of(&host).expect("values"), [expected]);
        let back = Call::<Answer>::returning("Store", "get", Vec::new()).decode(&data_to_sdk(&host).expect("converts"));
        assert_eq!(back, Ok(original));
        assert!(value_from_sdk(&sdk::WitValue { nodes: Vec::new() }).is_err());
    }
}
