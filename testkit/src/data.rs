//! Agent inputs and outputs: `data-value`s and `data-schema`s to and from
//! component-model [`Value`]s and [`Type`]s.

use crate::bindings::golem::agent::common::{AgentError, AgentType};
use crate::bindings::golem::core::types::{DataSchema, DataValue, ElementSchema, ElementValue};
use crate::error::Error;
use crate::value::{Type, Value};

/// Agent input: one component-model element per argument.
pub fn data_value(args: &[Value]) -> DataValue {
    DataValue::Tuple(args.iter().map(|v| ElementValue::ComponentModel(v.to_wit())).collect())
}

/// The component-model elements of an agent output.
pub fn values_of(data: &DataValue) -> Result<Vec<Value>, Error> {
    let elements: Vec<&ElementValue> = match data {
        DataValue::Tuple(items) => items.iter().collect(),
        DataValue::Multimodal(items) => items.iter().map(|(_, e)| e).collect(),
    };
    elements
        .into_iter()
        .map(|e| match e {
            ElementValue::ComponentModel(v) => Value::from_wit(v).map_err(|e| Error::Guest(e.to_string())),
            other => Err(Error::Guest(format!("unstructured output elements are not supported yet: {other:?}"))),
        })
        .collect()
}

/// The named parameters of an agent constructor's or method's input schema
/// (or the elements of an output schema) as component-model types; an error
/// names an element that is not a component-model value (text, binary,
/// multimodal), which tools cannot write as WAVE.
pub fn schema_parameters(schema: &DataSchema) -> Result<Vec<(String, Type)>, String> {
    match schema {
        DataSchema::Tuple(elements) => elements
            .iter()
            .map(|(name, e)| match e {
                ElementSchema::ComponentModel(t) => {
                    Type::from_wit(t).map(|t| (name.clone(), t)).map_err(|e| format!("parameter `{name}`: {e}"))
                }
                _ => Err(format!("parameter `{name}` is unstructured text or binary, not a component-model value")),
            })
            .collect(),
        DataSchema::Multimodal(_) => Err("the schema is multimodal, not a list of component-model values".into()),
    }
}

/// The types of the constructor's parameters, when they are all
/// component-model values.
pub(crate) fn constructor_types(definition: &AgentType) -> Option<Vec<Type>> {
    schema_parameters(&definition.constructor.input_schema)
        .ok()
        .map(|params| params.into_iter().map(|(_, t)| t).collect())
}

/// An agent error as one readable line; a custom error shows its value (a
/// string as itself).
pub fn describe_agent_error(e: &AgentError) -> String {
    match e {
        AgentError::InvalidInput(m) => format!("invalid input: {m}"),
        AgentError::InvalidMethod(m) => format!("invalid method: {m}"),
        AgentError::InvalidType(m) => format!("invalid agent type: {m}"),
        AgentError::InvalidAgentId(m) => format!("invalid agent id: {m}"),
        AgentError::CustomError(vt) => match Value::from_wit(&vt.value) {
            Ok(Value::String(s)) => s,
            Ok(other) => format!("{other:?}"),
            Err(e) => format!("a custom error that does not decode: {e}"),
        },
    }
}
