//! The entries the runtime writes around invocations (creation, start,
//! finish), and reading invocations back from them.

use super::LoadedComponent;
use super::call::{Answer, Call};
use crate::bindings::golem::agent::common::AgentType;
use crate::bindings::golem::api::host::EnvironmentId;
use crate::bindings::golem::api::oplog::{
    AgentInitializationParameters, AgentInvocation, AgentInvocationFinishedParameters, AgentInvocationOutputParameters,
    AgentInvocationResult, AgentInvocationStartedParameters, AgentMethodInvocationParameters, AgentMode,
    CreateParameters, FallibleResultParameters, ProcessOplogEntriesParameters, SpanData, TypedDataValue,
};
use crate::bindings::golem::core::types::{AccountId, AgentId, ComponentId, DataSchema, DataValue};
use crate::bindings::wasi::clocks::wall_clock::Datetime;
use crate::data::{describe_agent_error, values_of};
use crate::host::AgentIdentity;
use crate::host::invocation_context::InvocationContext;
use crate::ids::uuid_from_u128;
use crate::journal::Journal;
use crate::oplog::OplogEntry;
use crate::oplog::describe;

pub(super) fn call_of(started: &AgentInvocationStartedParameters, agent_type: &str, plain: bool) -> Option<Call> {
    match &started.invocation {
        AgentInvocation::AgentMethodInvocation(p) if plain => {
            Some(Call::Export { function: p.method_name.clone(), input: p.function_input.value.clone() })
        }
        AgentInvocation::AgentInitialization(p) => Some(Call::Initialize {
            agent_type: agent_type.to_string(),
            input: p.constructor_parameters.value.clone(),
            incoming: None,
        }),
        AgentInvocation::AgentMethodInvocation(p) => Some(Call::Method {
            name: p.method_name.clone(),
            input: p.function_input.value.clone(),
            key: p.idempotency_key.clone(),
            incoming: None,
        }),
        _ => None,
    }
}

/// The input and output schemas of `call` under `definition` (empty for
/// plain components and unknown methods, whose calls fail anyway).
pub(super) fn schemas(definition: Option<&AgentType>, call: &Call) -> (DataSchema, DataSchema) {
    let empty = || DataSchema::Tuple(Vec::new());
    match (definition, call) {
        (Some(d), Call::Initialize { .. }) => (d.constructor.input_schema.clone(), empty()),
        (Some(d), Call::Method { name, .. }) => d
            .methods
            .iter()
            .find(|m| &m.name == name)
            .map_or_else(|| (empty(), empty()), |m| (m.input_schema.clone(), m.output_schema.clone())),
        _ => (empty(), empty()),
    }
}

fn typed(value: DataValue, schema: DataSchema) -> TypedDataValue {
    TypedDataValue { value, schema }
}

/// The started entry of `call`: its key and its invocation context as
/// Golem writes them.
pub(super) fn started_entry(
    call: &Call,
    key: &str,
    context: InvocationContext,
    schema: DataSchema,
    timestamp: Datetime,
) -> OplogEntry {
    let InvocationContext { trace_id, trace_states, chains: invocation_context } = context;
    let invocation = match call {
        Call::Initialize { input, .. } => AgentInvocation::AgentInitialization(AgentInitializationParameters {
            idempotency_key: key.to_string(),
            constructor_parameters: typed(input.clone(), schema),
            trace_id,
            trace_states,
            invocation_context,
        }),
        Call::Method { name, input, .. } | Call::Export { function: name, input } => {
            AgentInvocation::AgentMethodInvocation(AgentMethodInvocationParameters {
                idempotency_key: key.to_string(),
                method_name: name.clone(),
                function_input: typed(input.clone(), schema),
                trace_id,
                trace_states,
                invocation_context,
            })
        }
        Call::Process { key, .. } => {
            AgentInvocation::ProcessOplogEntries(ProcessOplogEntriesParameters { idempotency_key: key.clone() })
        }
    };
    OplogEntry::AgentInvocationStarted(AgentInvocationStartedParameters { timestamp, invocation })
}

/// A recorded invocation context, borrowed: trace id, trace states, span chains.
pub(super) type ContextParts<'a> = (&'a str, &'a [String], &'a [Vec<SpanData>]);

/// The invocation context a started entry records (`None` for kinds that
/// record none).
pub(super) fn recorded_context(entry: &OplogEntry) -> Option<ContextParts<'_>> {
    let OplogEntry::AgentInvocationStarted(p) = entry else { return None };
    match &p.invocation {
        AgentInvocation::AgentInitialization(p) => Some((&p.trace_id, &p.trace_states, &p.invocation_context)),
        AgentInvocation::AgentMethodInvocation(p) => Some((&p.trace_id, &p.trace_states, &p.invocation_context)),
        _ => None,
    }
}

pub(super) fn finished_entry(result: &Answer, call: &Call, schema: DataSchema, timestamp: Datetime) -> OplogEntry {
    if let Call::Process { .. } = call {
        let error = result.as_ref().err().map(describe_agent_error);
        return OplogEntry::AgentInvocationFinished(AgentInvocationFinishedParameters {
            timestamp,
            result: AgentInvocationResult::ProcessOplogEntries(FallibleResultParameters { error }),
            consumed_fuel: 0,
            component_revision: 0,
        });
    }
    let (output, schema) = match result {
        Ok(v) => (v.clone(), schema),
        // Agent errors are recomputed on replay; the entry marks the end.
        Err(_) => (DataValue::Tuple(vec![]), DataSchema::Tuple(vec![])),
    };
    OplogEntry::AgentInvocationFinished(AgentInvocationFinishedParameters {
        timestamp,
        result: AgentInvocationResult::AgentMethod(AgentInvocationOutputParameters { output: typed(output, schema) }),
        consumed_fuel: 0,
        component_revision: 0,
    })
}

pub(super) fn same_result(a: &OplogEntry, b: &OplogEntry) -> bool {
    match (a, b) {
        (OplogEntry::AgentInvocationFinished(x), OplogEntry::AgentInvocationFinished(y)) => x.result == y.result,
        _ => false,
    }
}

pub(super) fn result_summary(entry: &OplogEntry) -> String {
    match entry {
        OplogEntry::AgentInvocationFinished(p) => match &p.result {
            AgentInvocationResult::AgentMethod(o) => match values_of(&o.output.value) {
                Ok(v) => format!("{v:?}"),
                Err(_) => "an unreadable output".into(),
            },
            _ => "another kind of result".into(),
        },
        other => describe(other),
    }
}

pub(super) fn create_entry(identity: &AgentIdentity, component: &LoadedComponent) -> OplogEntry {
    OplogEntry::Create(CreateParameters {
        timestamp: Journal::time_at(1),
        agent_id: AgentId {
            component_id: ComponentId { uuid: uuid_from_u128(identity.component_id) },
            agent_id: identity.name.clone(),
        },
        agent_mode: AgentMode::Durable,
        component_revision: 0,
        env: Vec::new(),
        created_by: AccountId { uuid: uuid_from_u128(0) },
        environment_id: EnvironmentId { uuid: uuid_from_u128(0) },
        parent: None,
        component_size: component.inner.info.size as u64,
        initial_total_linear_memory_size: 0,
        initial_active_plugins: component.plugins().to_vec(),
        local_agent_config: Vec::new(),
        // A phantom's id ends in its phantom id: `type(args)[uuid]`.
        original_phantom_id: crate::ids::split_agent_id(&identity.name)
            .ok()
            .and_then(|(_, _, phantom)| crate::ids::parse_uuid(phantom?).ok()),
        instance_id: uuid_from_u128(0),
    })
}
