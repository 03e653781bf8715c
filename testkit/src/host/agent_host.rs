//! `golem:agent/host@1.5.0`: the agent types of the environment's
//! components, and agent ids (`make-agent-id`, `parse-agent-id`). Calls to
//! other agents (`wasm-rpc`) are in [`super::rpc`]; webhooks and agent
//! configuration are not supported yet and trap with a message saying so.

use super::HostState;
use super::bindings::golem::agent::host::{
    AgentError, AgentType, DataValue, Host, RegisteredAgentType, Uuid, WitType, WitValue,
};
use super::bindings::golem::core::types::{ComponentId, ElementValue};
use super::golem_host::uuid_from_u128;
use crate::agent::{agent_id, constructor_types, kebab_case};
use crate::environment::LoadedComponent;
use crate::value::{Type, Value};

/// Whether `name` names `definition` (as defined, or in kebab-case as in ids).
fn names(definition: &AgentType, name: &str) -> bool {
    definition.type_name == name || kebab_case(&definition.type_name) == name
}

impl HostState {
    /// The newest revision of every component loaded into the environment.
    fn latest_components(&self) -> Vec<LoadedComponent> {
        let components = self.shared.components();
        let mut latest: std::collections::BTreeMap<u128, &LoadedComponent> = Default::default();
        for ((id, _), c) in components.iter() {
            if latest.get(id).is_none_or(|seen| seen.revision() < c.revision()) {
                latest.insert(*id, c);
            }
        }
        latest.into_values().cloned().collect()
    }

    /// Every agent type of the environment's components.
    fn registered_agent_types(&self) -> Vec<RegisteredAgentType> {
        self.latest_components()
            .iter()
            .flat_map(|c| {
                let implemented_by = ComponentId { uuid: uuid_from_u128(c.inner.id) };
                c.agent_types()
                    .unwrap_or_default()
                    .iter()
                    .map(move |t| RegisteredAgentType { agent_type: t.clone(), implemented_by })
            })
            .collect()
    }

    /// The agent type called `name`.
    fn find_agent_type(&self, name: &str) -> Option<AgentType> {
        self.registered_agent_types().into_iter().map(|r| r.agent_type).find(|t| names(t, name))
    }

    /// The component defining agent type `name` (its newest revision), and
    /// the type's name as defined.
    pub(crate) fn component_defining(&self, name: &str) -> Option<(LoadedComponent, String)> {
        self.latest_components().into_iter().find_map(|c| {
            let type_name = c.agent_types().ok()?.iter().find(|t| names(t, name))?.type_name.clone();
            Some((c, type_name))
        })
    }
}

fn format_uuid(u: &Uuid) -> String {
    let v = (u128::from(u.high_bits) << 64) | u128::from(u.low_bits);
    let h = format!("{v:032x}");
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

fn parse_uuid(text: &str) -> Option<Uuid> {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || text.len() != 36 {
        return None;
    }
    u128::from_str_radix(&hex, 16).ok().map(uuid_from_u128)
}

/// Split `type(params)[uuid]` into its parts.
fn split_agent_id(id: &str) -> Result<(&str, &str, Option<&str>), String> {
    let id = id.trim();
    let open = id.find('(').ok_or("an agent id looks like `type(args)` or `type(args)[uuid]`")?;
    // A phantom id follows the argument list in brackets.
    let phantom_split = id.strip_suffix(']').and_then(|s| s.rfind(")[").map(|at| (&s[..=at], &s[at + 2..])));
    let (body, phantom) = match phantom_split {
        Some((body, uuid)) => (body, Some(uuid)),
        None => (id, None),
    };
    let params = body[open + 1..].strip_suffix(')').ok_or("the argument list is not closed with `)`")?;
    let name = id[..open].trim();
    if name.is_empty() {
        return Err("the agent type name is empty".into());
    }
    Ok((name, params, phantom))
}

/// Parse the compact WAVE argument list of an agent id.
fn parse_params(params: &str, types: &[Type]) -> Result<Vec<Value>, String> {
    match types.len() {
        0 if params.trim().is_empty() => Ok(Vec::new()),
        0 => Err(format!("the constructor takes no arguments, got `{params}`")),
        // Several arguments read as one tuple.
        1 => Ok(vec![crate::wave::parse(params, &types[0]).map_err(|e| e.to_string())?]),
        _ => match crate::wave::parse(&format!("({params})"), &Type::Tuple(types.to_vec())) {
            Ok(Value::Tuple(values)) => Ok(values),
            Ok(other) => Err(format!("unexpected arguments {other:?}")),
            Err(e) => Err(e.to_string()),
        },
    }
}

impl Host for HostState {
    fn get_all_agent_types(&mut self) -> wasmtime::Result<Vec<RegisteredAgentType>> {
        Ok(self.registered_agent_types())
    }

    fn get_agent_type(&mut self, agent_type_name: String) -> wasmtime::Result<Option<RegisteredAgentType>> {
        Ok(self.registered_agent_types().into_iter().find(|r| r.agent_type.type_name == agent_type_name))
    }

    fn make_agent_id(
        &mut self,
        agent_type_name: String,
        input: DataValue,
        phantom_id: Option<Uuid>,
    ) -> wasmtime::Result<Result<String, AgentError>> {
        let Some(definition) = self.find_agent_type(&agent_type_name) else {
            return Ok(Err(AgentError::InvalidType(format!("no agent type `{agent_type_name}` in this environment"))));
        };
        let values: Result<Vec<Value>, String> = match &input {
            DataValue::Tuple(elements) => elements
                .iter()
                .map(|e| match e {
                    ElementValue::ComponentModel(v) => Value::from_wit(v).map_err(|e| e.to_string()),
                    _ => Err("unstructured arguments are not supported in agent ids yet".to_string()),
                })
                .collect(),
            DataValue::Multimodal(_) => Err("multimodal arguments are not supported in agent ids yet".to_string()),
        };
        let values = match values {
            Ok(v) => v,
            Err(e) => return Ok(Err(AgentError::InvalidInput(e))),
        };
        let mut id = agent_id(&definition, &values);
        if let Some(uuid) = &phantom_id {
            id.push_str(&format!("[{}]", format_uuid(uuid)));
        }
        Ok(Ok(id))
    }

    fn parse_agent_id(
        &mut self,
        agent_id: String,
    ) -> wasmtime::Result<Result<(String, DataValue, Option<Uuid>), AgentError>> {
        let invalid = |reason: String| Ok(Err(AgentError::InvalidAgentId(format!("`{agent_id}`: {reason}"))));
        let (name, params, phantom) = match split_agent_id(&agent_id) {
            Ok(parts) => parts,
            Err(e) => return invalid(e),
        };
        let Some(definition) = self.find_agent_type(name) else {
            return invalid(format!("no agent type `{name}` in this environment"));
        };
        let Some(types) = constructor_types(&definition) else {
            return invalid("its constructor takes unstructured input, which ids cannot carry yet".into());
        };
        let values = match parse_params(params, &types) {
            Ok(v) => v,
            Err(e) => return invalid(e),
        };
        let phantom = match phantom.map(|p| parse_uuid(p).ok_or(p)) {
            Some(Err(p)) => return invalid(format!("`{p}` is not a UUID")),
            Some(Ok(u)) => Some(u),
            None => None,
        };
        Ok(Ok((definition.type_name, crate::agent::data_value(&values), phantom)))
    }

    fn create_webhook(
        &mut self,
        _promise_id: super::bindings::golem::agent::host::PromiseId,
    ) -> wasmtime::Result<String> {
        Err(wasmtime::format_err!("`golem:agent/host.create-webhook` is not supported by the Reprise testkit yet"))
    }

    fn get_config_value(&mut self, key: Vec<String>, _expected_type: WitType) -> wasmtime::Result<WitValue> {
        Err(wasmtime::format_err!(
            "agent configuration (`{}`) is not supported by the Reprise testkit yet",
            key.join(".")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_ids_split_into_parts() {
        assert_eq!(split_agent_id(r#"counter("a")"#), Ok(("counter", r#""a""#, None)));
        assert_eq!(
            split_agent_id(r#"cart("a",2)[0195e3a4-1b2c-4d5e-8f90-a1b2c3d4e5f6]"#),
            Ok(("cart", r#""a",2"#, Some("0195e3a4-1b2c-4d5e-8f90-a1b2c3d4e5f6")))
        );
        assert!(split_agent_id("counter").is_err());
        assert!(split_agent_id("(1)").is_err());
        assert!(split_agent_id("counter(1").is_err());
    }

    #[test]
    fn parameters_parse_with_their_types() {
        assert_eq!(parse_params(r#""a""#, &[Type::String]), Ok(vec![Value::string("a")]));
        assert_eq!(parse_params(r#""a",2"#, &[Type::String, Type::U32]), Ok(vec![Value::string("a"), Value::U32(2)]));
        assert_eq!(parse_params("", &[]), Ok(vec![]));
        assert!(parse_params("1", &[]).is_err());
        assert!(parse_params("x", &[Type::U8]).is_err());
    }

    #[test]
    fn uuids_round_trip() {
        let u = parse_uuid("0195e3a4-1b2c-4d5e-8f90-a1b2c3d4e5f6").unwrap();
        assert_eq!(format_uuid(&u), "0195e3a4-1b2c-4d5e-8f90-a1b2c3d4e5f6");
        assert!(parse_uuid("not-a-uuid").is_none());
    }
}
