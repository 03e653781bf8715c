//! `golem:agent/host@1.5.0`: the agent types of the environment's
//! components, and agent ids (`make-agent-id`, `parse-agent-id`). Calls to
//! other agents (`wasm-rpc`) are in [`super::rpc`]; webhooks and agent
//! configuration are not supported yet and trap with a message saying so.

use super::HostState;
use crate::bindings::golem::agent::host::{
    AgentError, AgentType, DataValue, Host, RegisteredAgentType, Uuid, WitType, WitValue,
};
use crate::bindings::golem::core::types::{ComponentId, ElementValue};
use crate::data::{constructor_types, data_value};
use crate::ids::{
    agent_id, names_agent_type, parse_agent_id_params, parse_uuid, split_agent_id, uuid_from_u128, with_phantom,
};
use crate::value::Value;

impl HostState {
    /// Every agent type of the environment's components.
    fn registered_agent_types(&self) -> Vec<RegisteredAgentType> {
        self.directory
            .agent_types()
            .into_iter()
            .map(|t| RegisteredAgentType {
                agent_type: t.definition,
                implemented_by: ComponentId { uuid: uuid_from_u128(t.component.0) },
            })
            .collect()
    }

    /// The agent type called `name`.
    fn find_agent_type(&self, name: &str) -> Option<AgentType> {
        self.registered_agent_types().into_iter().map(|r| r.agent_type).find(|t| names_agent_type(t, name))
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
        Ok(Ok(with_phantom(agent_id(&definition, &values), phantom_id.as_ref())))
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
        let values = match parse_agent_id_params(params, &types) {
            Ok(v) => v,
            Err(e) => return invalid(e),
        };
        let phantom = match phantom.map(|p| parse_uuid(p).map_err(|_| p)) {
            Some(Err(p)) => return invalid(format!("`{p}` is not a UUID")),
            Some(Ok(u)) => Some(u),
            None => None,
        };
        Ok(Ok((definition.type_name, data_value(&values), phantom)))
    }

    fn create_webhook(
        &mut self,
        _promise_id: crate::bindings::golem::agent::host::PromiseId,
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
