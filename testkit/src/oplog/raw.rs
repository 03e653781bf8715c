//! Raw oplog entries: the form an executor stores and hands to oplog
//! processors, with payloads (requests, responses, invocation inputs,
//! snapshots) still serialized and plugins named by their grant id. The
//! testkit keeps public entries and derives raw ones from them; enriching
//! turns them back.
//!
//! Payloads are stored inline. Structured payloads are serialized as JSON
//! (the testkit's own choice: Golem uses its own binary format, and only the
//! host that wrote a payload reads it back, through `enrich-oplog-entries`);
//! snapshot payloads are the snapshot's bytes.

use crate::bindings::golem::api::host::Snapshot;
use crate::bindings::golem::api::oplog::{
    ActivatePluginParameters, AgentInvocationFinishedParameters, AgentInvocationStartedParameters,
    BeginRemoteTransactionParameters, CreateResourceParameters, DeactivatePluginParameters, HostCallParameters,
    OplogProcessorCheckpointParameters, SnapshotParameters, SuccessfulUpdateParameters,
};
use crate::bindings::golem::api::oplog::{
    AgentInvocation, CreateParameters, DropResourceParameters, EnvironmentPluginGrantId, ErrorParameters,
    OplogEntry as RawEntry, OplogPayload, PendingAgentInvocationParameters, PendingUpdateParameters,
    PluginInstallationDescription, PublicOplogEntry, RawActivatePluginParameters, RawAgentInvocationFinishedParameters,
    RawAgentInvocationStartedParameters, RawBeginRemoteTransactionParameters, RawCreateParameters,
    RawCreateResourceParameters, RawDeactivatePluginParameters, RawDropResourceParameters, RawErrorParameters,
    RawHostCallParameters, RawLocalAgentConfigEntry, RawOplogProcessorCheckpointParameters,
    RawPendingAgentInvocationParameters, RawPendingUpdateParameters, RawSnapshotBasedUpdate, RawSnapshotParameters,
    RawSuccessfulUpdateParameters, RawUpdateDescription, ResourceTypeId, SnapshotData, SpanData, UpdateDescription,
    WorkerError,
};

/// Looks up what a plugin grant id stands for.
pub(crate) type PluginLookup<'a> = &'a dyn Fn(&EnvironmentPluginGrantId) -> Option<PluginInstallationDescription>;

fn json_payload<T: serde::Serialize>(value: &T) -> OplogPayload {
    // Serializing the generated types cannot fail: they are plain data.
    OplogPayload::Inline(serde_json::to_vec(value).unwrap_or_default())
}

fn from_payload<T: serde::de::DeserializeOwned>(payload: &OplogPayload, what: &str) -> Result<T, String> {
    serde_json::from_slice(&inline(payload, what)?).map_err(|e| format!("the {what} payload does not decode: {e}"))
}

fn inline(payload: &OplogPayload, what: &str) -> Result<Vec<u8>, String> {
    match payload {
        OplogPayload::Inline(bytes) => Ok(bytes.clone()),
        OplogPayload::External(_) => {
            Err(format!("the {what} payload is stored externally, which the testkit does not do"))
        }
    }
}

fn grant(plugin: &PluginInstallationDescription) -> EnvironmentPluginGrantId {
    plugin.environment_plugin_grant_id
}

fn describe(id: &EnvironmentPluginGrantId, plugins: PluginLookup<'_>) -> Result<PluginInstallationDescription, String> {
    plugins(id).ok_or_else(|| {
        format!("plugin grant {:016x}{:016x} is not installed in this environment", id.uuid.high_bits, id.uuid.low_bits)
    })
}

fn invocation_key(invocation: &AgentInvocation) -> (String, String, Vec<String>, Vec<SpanData>) {
    match invocation {
        AgentInvocation::AgentInitialization(p) => (
            p.idempotency_key.clone(),
            p.trace_id.clone(),
            p.trace_states.clone(),
            p.invocation_context.first().cloned().unwrap_or_default(),
        ),
        AgentInvocation::AgentMethodInvocation(p) => (
            p.idempotency_key.clone(),
            p.trace_id.clone(),
            p.trace_states.clone(),
            p.invocation_context.first().cloned().unwrap_or_default(),
        ),
        AgentInvocation::ProcessOplogEntries(p) => (p.idempotency_key.clone(), String::new(), Vec::new(), Vec::new()),
        _ => Default::default(),
    }
}

/// The raw form of a public entry.
pub(crate) fn to_raw(entry: &PublicOplogEntry) -> RawEntry {
    use PublicOplogEntry as P;
    match entry {
        P::Create(p) => RawEntry::Create(RawCreateParameters {
            timestamp: p.timestamp,
            agent_id: p.agent_id.clone(),
            agent_mode: p.agent_mode,
            component_revision: p.component_revision,
            env: p.env.clone(),
            environment_id: p.environment_id,
            created_by: p.created_by,
            parent: p.parent.clone(),
            component_size: p.component_size,
            initial_total_linear_memory_size: p.initial_total_linear_memory_size,
            initial_active_plugins: p.initial_active_plugins.iter().map(grant).collect(),
            local_agent_config: p
                .local_agent_config
                .iter()
                .map(|c| RawLocalAgentConfigEntry { path: c.path.clone(), value: c.value.value.clone() })
                .collect(),
            original_phantom_id: p.original_phantom_id,
            instance_id: p.instance_id,
        }),
        P::HostCall(p) => RawEntry::HostCall(RawHostCallParameters {
            timestamp: p.timestamp,
            function_name: p.function_name.clone(),
            request: json_payload(&p.request),
            response: json_payload(&p.response),
            durable_function_type: p.durable_function_type,
        }),
        P::AgentInvocationStarted(p) => {
            let (idempotency_key, trace_id, trace_states, invocation_context) = invocation_key(&p.invocation);
            RawEntry::AgentInvocationStarted(RawAgentInvocationStartedParameters {
                timestamp: p.timestamp,
                idempotency_key,
                payload: json_payload(&p.invocation),
                trace_id,
                trace_states,
                invocation_context,
            })
        }
        P::AgentInvocationFinished(p) => RawEntry::AgentInvocationFinished(RawAgentInvocationFinishedParameters {
            timestamp: p.timestamp,
            result: json_payload(&p.result),
            consumed_fuel: p.consumed_fuel,
            component_revision: p.component_revision,
        }),
        P::Suspend(t) => RawEntry::Suspend(*t),
        P::Error(p) => RawEntry::Error(RawErrorParameters {
            timestamp: p.timestamp,
            error: WorkerError::Unknown(p.error.clone()),
            retry_from: p.retry_from,
            inside_atomic_region: p.inside_atomic_region,
            retry_policy_state: p.retry_policy_state.clone(),
        }),
        P::NoOp(t) => RawEntry::NoOp(*t),
        P::Jump(p) => RawEntry::Jump(*p),
        P::Interrupted(t) => RawEntry::Interrupted(*t),
        P::Exited(t) => RawEntry::Exited(*t),
        P::BeginAtomicRegion(t) => RawEntry::BeginAtomicRegion(*t),
        P::EndAtomicRegion(p) => RawEntry::EndAtomicRegion(*p),
        P::BeginRemoteWrite(t) => RawEntry::BeginRemoteWrite(*t),
        P::EndRemoteWrite(p) => RawEntry::EndRemoteWrite(*p),
        P::PendingAgentInvocation(p) => {
            let (idempotency_key, trace_id, trace_states, invocation_context) = invocation_key(&p.invocation);
            RawEntry::PendingAgentInvocation(RawPendingAgentInvocationParameters {
                timestamp: p.timestamp,
                idempotency_key,
                payload: json_payload(&p.invocation),
                trace_id,
                trace_states,
                invocation_context,
            })
        }
        P::PendingUpdate(p) => RawEntry::PendingUpdate(RawPendingUpdateParameters {
            timestamp: p.timestamp,
            description: match &p.description {
                UpdateDescription::AutoUpdate => RawUpdateDescription::Automatic(p.target_revision),
                UpdateDescription::SnapshotBased(s) => RawUpdateDescription::SnapshotBased(RawSnapshotBasedUpdate {
                    target_revision: p.target_revision,
                    payload: OplogPayload::Inline(s.payload.clone()),
                    mime_type: s.mime_type.clone(),
                }),
            },
        }),
        P::SuccessfulUpdate(p) => RawEntry::SuccessfulUpdate(RawSuccessfulUpdateParameters {
            timestamp: p.timestamp,
            target_revision: p.target_revision,
            new_component_size: p.new_component_size,
            new_active_plugins: p.new_active_plugins.iter().map(grant).collect(),
        }),
        P::FailedUpdate(p) => RawEntry::FailedUpdate(p.clone()),
        P::GrowMemory(p) => RawEntry::GrowMemory(*p),
        P::FilesystemStorageUsageUpdate(p) => RawEntry::FilesystemStorageUsageUpdate(*p),
        P::CreateResource(p) => RawEntry::CreateResource(RawCreateResourceParameters {
            timestamp: p.timestamp,
            id: p.id,
            resource_type_id: ResourceTypeId { name: p.name.clone(), owner: p.owner.clone() },
        }),
        P::DropResource(p) => RawEntry::DropResource(RawDropResourceParameters {
            timestamp: p.timestamp,
            id: p.id,
            resource_type_id: ResourceTypeId { name: p.name.clone(), owner: p.owner.clone() },
        }),
        P::Log(p) => RawEntry::Log(p.clone()),
        P::Restart(t) => RawEntry::Restart(*t),
        P::ActivatePlugin(p) => RawEntry::ActivatePlugin(RawActivatePluginParameters {
            timestamp: p.timestamp,
            plugin_grant_id: grant(&p.plugin),
        }),
        P::DeactivatePlugin(p) => RawEntry::DeactivatePlugin(RawDeactivatePluginParameters {
            timestamp: p.timestamp,
            plugin_grant_id: grant(&p.plugin),
        }),
        P::Revert(p) => RawEntry::Revert(*p),
        P::CancelPendingInvocation(p) => RawEntry::CancelPendingInvocation(p.clone()),
        P::StartSpan(p) => RawEntry::StartSpan(p.clone()),
        P::FinishSpan(p) => RawEntry::FinishSpan(p.clone()),
        P::SetSpanAttribute(p) => RawEntry::SetSpanAttribute(p.clone()),
        P::ChangePersistenceLevel(p) => RawEntry::ChangePersistenceLevel(*p),
        P::BeginRemoteTransaction(p) => RawEntry::BeginRemoteTransaction(RawBeginRemoteTransactionParameters {
            timestamp: p.timestamp,
            transaction_id: p.transaction_id.clone(),
            original_begin_index: None,
        }),
        P::PreCommitRemoteTransaction(p) => RawEntry::PreCommitRemoteTransaction(*p),
        P::PreRollbackRemoteTransaction(p) => RawEntry::PreRollbackRemoteTransaction(*p),
        P::CommittedRemoteTransaction(p) => RawEntry::CommittedRemoteTransaction(*p),
        P::RolledBackRemoteTransaction(p) => RawEntry::RolledBackRemoteTransaction(*p),
        P::Snapshot(p) => RawEntry::Snapshot(RawSnapshotParameters {
            timestamp: p.timestamp,
            data: OplogPayload::Inline(p.data.data.clone()),
            mime_type: p.data.mime_type.clone(),
        }),
        P::OplogProcessorCheckpoint(p) => RawEntry::OplogProcessorCheckpoint(RawOplogProcessorCheckpointParameters {
            timestamp: p.timestamp,
            plugin_grant_id: grant(&p.plugin),
            target_agent_id: p.target_agent_id.clone(),
            confirmed_up_to: p.confirmed_up_to,
            sending_up_to: p.sending_up_to,
            last_batch_start: p.last_batch_start,
        }),
        P::SetRetryPolicy(p) => RawEntry::SetRetryPolicy(p.clone()),
        P::RemoveRetryPolicy(p) => RawEntry::RemoveRetryPolicy(p.clone()),
    }
}

/// A worker error as the text public entries carry.
fn worker_error_text(e: &WorkerError) -> String {
    match e {
        WorkerError::Unknown(m)
        | WorkerError::InvalidRequest(m)
        | WorkerError::InternalError(m)
        | WorkerError::DeterministicTrap(m)
        | WorkerError::TransientError(m)
        | WorkerError::PermanentError(m) => m.clone(),
        WorkerError::StackOverflow => "stack overflow".into(),
        WorkerError::OutOfMemory => "out of memory".into(),
        WorkerError::ExceededMemoryLimit => "exceeded the memory limit".into(),
        WorkerError::ExceededTableLimit => "exceeded the table limit".into(),
        WorkerError::ExceededHttpCallLimit => "exceeded the HTTP call limit".into(),
        WorkerError::ExceededRpcCallLimit => "exceeded the RPC call limit".into(),
        WorkerError::NodeOutOfFilesystemStorage => "the node is out of filesystem storage".into(),
        WorkerError::AgentExceededFilesystemStorageLimit => "exceeded the filesystem storage limit".into(),
        WorkerError::AgentTerminatedByQuota(q) => format!("terminated by quota `{}`", q.resource_name),
        WorkerError::EphemeralSleepTooLong(s) => {
            format!("ephemeral sleep too long ({} ns, at most {} ns)", s.requested_nanos, s.max_nanos)
        }
        WorkerError::EphemeralFuelExhausted(f) => {
            format!("ephemeral fuel exhausted (overdraft limit {})", f.overdraft_limit)
        }
        WorkerError::EphemeralCannotSuspend(c) => format!("ephemeral agent cannot suspend: {}", c.reason),
    }
}

/// The public form of a raw entry: payloads decoded, plugins described.
pub(crate) fn enrich(entry: &RawEntry, plugins: PluginLookup<'_>) -> Result<PublicOplogEntry, String> {
    use PublicOplogEntry as P;
    let describe = |id: &EnvironmentPluginGrantId| describe(id, plugins);
    Ok(match entry {
        RawEntry::Create(p) => {
            if !p.local_agent_config.is_empty() {
                return Err("local agent configuration cannot be enriched by the testkit yet".into());
            }
            P::Create(CreateParameters {
                timestamp: p.timestamp,
                agent_id: p.agent_id.clone(),
                agent_mode: p.agent_mode,
                component_revision: p.component_revision,
                env: p.env.clone(),
                created_by: p.created_by,
                environment_id: p.environment_id,
                parent: p.parent.clone(),
                component_size: p.component_size,
                initial_total_linear_memory_size: p.initial_total_linear_memory_size,
                initial_active_plugins: p.initial_active_plugins.iter().map(describe).collect::<Result<_, _>>()?,
                local_agent_config: Vec::new(),
                original_phantom_id: p.original_phantom_id,
                instance_id: p.instance_id,
            })
        }
        RawEntry::HostCall(p) => P::HostCall(HostCallParameters {
            timestamp: p.timestamp,
            function_name: p.function_name.clone(),
            request: from_payload(&p.request, "request")?,
            response: from_payload(&p.response, "response")?,
            durable_function_type: p.durable_function_type,
        }),
        RawEntry::AgentInvocationStarted(p) => P::AgentInvocationStarted(AgentInvocationStartedParameters {
            timestamp: p.timestamp,
            invocation: from_payload(&p.payload, "invocation")?,
        }),
        RawEntry::AgentInvocationFinished(p) => P::AgentInvocationFinished(AgentInvocationFinishedParameters {
            timestamp: p.timestamp,
            result: from_payload(&p.result, "invocation result")?,
            consumed_fuel: p.consumed_fuel,
            component_revision: p.component_revision,
        }),
        RawEntry::Suspend(t) => P::Suspend(*t),
        RawEntry::Error(p) => P::Error(ErrorParameters {
            timestamp: p.timestamp,
            error: worker_error_text(&p.error),
            retry_from: p.retry_from,
            inside_atomic_region: p.inside_atomic_region,
            retry_policy_state: p.retry_policy_state.clone(),
        }),
        RawEntry::NoOp(t) => P::NoOp(*t),
        RawEntry::Jump(p) => P::Jump(*p),
        RawEntry::Interrupted(t) => P::Interrupted(*t),
        RawEntry::Exited(t) => P::Exited(*t),
        RawEntry::BeginAtomicRegion(t) => P::BeginAtomicRegion(*t),
        RawEntry::EndAtomicRegion(p) => P::EndAtomicRegion(*p),
        RawEntry::BeginRemoteWrite(t) => P::BeginRemoteWrite(*t),
        RawEntry::EndRemoteWrite(p) => P::EndRemoteWrite(*p),
        RawEntry::PendingAgentInvocation(p) => P::PendingAgentInvocation(PendingAgentInvocationParameters {
            timestamp: p.timestamp,
            invocation: from_payload(&p.payload, "invocation")?,
        }),
        RawEntry::PendingUpdate(p) => P::PendingUpdate(match &p.description {
            RawUpdateDescription::Automatic(revision) => PendingUpdateParameters {
                timestamp: p.timestamp,
                target_revision: *revision,
                description: UpdateDescription::AutoUpdate,
            },
            RawUpdateDescription::SnapshotBased(s) => PendingUpdateParameters {
                timestamp: p.timestamp,
                target_revision: s.target_revision,
                description: UpdateDescription::SnapshotBased(Snapshot {
                    payload: inline(&s.payload, "snapshot")?,
                    mime_type: s.mime_type.clone(),
                }),
            },
        }),
        RawEntry::SuccessfulUpdate(p) => P::SuccessfulUpdate(SuccessfulUpdateParameters {
            timestamp: p.timestamp,
            target_revision: p.target_revision,
            new_component_size: p.new_component_size,
            new_active_plugins: p.new_active_plugins.iter().map(describe).collect::<Result<_, _>>()?,
        }),
        RawEntry::FailedUpdate(p) => P::FailedUpdate(p.clone()),
        RawEntry::GrowMemory(p) => P::GrowMemory(*p),
        RawEntry::FilesystemStorageUsageUpdate(p) => P::FilesystemStorageUsageUpdate(*p),
        RawEntry::CreateResource(p) => P::CreateResource(CreateResourceParameters {
            timestamp: p.timestamp,
            id: p.id,
            name: p.resource_type_id.name.clone(),
            owner: p.resource_type_id.owner.clone(),
        }),
        RawEntry::DropResource(p) => P::DropResource(DropResourceParameters {
            timestamp: p.timestamp,
            id: p.id,
            name: p.resource_type_id.name.clone(),
            owner: p.resource_type_id.owner.clone(),
        }),
        RawEntry::Log(p) => P::Log(p.clone()),
        RawEntry::Restart(t) => P::Restart(*t),
        RawEntry::ActivatePlugin(p) => P::ActivatePlugin(ActivatePluginParameters {
            timestamp: p.timestamp,
            plugin: describe(&p.plugin_grant_id)?,
        }),
        RawEntry::DeactivatePlugin(p) => P::DeactivatePlugin(DeactivatePluginParameters {
            timestamp: p.timestamp,
            plugin: describe(&p.plugin_grant_id)?,
        }),
        RawEntry::Revert(p) => P::Revert(*p),
        RawEntry::CancelPendingInvocation(p) => P::CancelPendingInvocation(p.clone()),
        RawEntry::StartSpan(p) => P::StartSpan(p.clone()),
        RawEntry::FinishSpan(p) => P::FinishSpan(p.clone()),
        RawEntry::SetSpanAttribute(p) => P::SetSpanAttribute(p.clone()),
        RawEntry::ChangePersistenceLevel(p) => P::ChangePersistenceLevel(*p),
        RawEntry::BeginRemoteTransaction(p) => P::BeginRemoteTransaction(BeginRemoteTransactionParameters {
            timestamp: p.timestamp,
            transaction_id: p.transaction_id.clone(),
        }),
        RawEntry::PreCommitRemoteTransaction(p) => P::PreCommitRemoteTransaction(*p),
        RawEntry::PreRollbackRemoteTransaction(p) => P::PreRollbackRemoteTransaction(*p),
        RawEntry::CommittedRemoteTransaction(p) => P::CommittedRemoteTransaction(*p),
        RawEntry::RolledBackRemoteTransaction(p) => P::RolledBackRemoteTransaction(*p),
        RawEntry::Snapshot(p) => P::Snapshot(SnapshotParameters {
            timestamp: p.timestamp,
            data: SnapshotData { data: inline(&p.data, "snapshot")?, mime_type: p.mime_type.clone() },
        }),
        RawEntry::OplogProcessorCheckpoint(p) => P::OplogProcessorCheckpoint(OplogProcessorCheckpointParameters {
            timestamp: p.timestamp,
            plugin: describe(&p.plugin_grant_id)?,
            target_agent_id: p.target_agent_id.clone(),
            confirmed_up_to: p.confirmed_up_to,
            sending_up_to: p.sending_up_to,
            last_batch_start: p.last_batch_start,
        }),
        RawEntry::SetRetryPolicy(p) => P::SetRetryPolicy(p.clone()),
        RawEntry::RemoveRetryPolicy(p) => P::RemoveRetryPolicy(p.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::golem::api::oplog::OplogExternalPayload;
    use crate::bindings::golem::core::types::{AgentId, ComponentId, Uuid};
    use crate::bindings::wasi::clocks::wall_clock::Datetime;

    const AT: Datetime = Datetime { seconds: 1_767_225_600, nanoseconds: 0 };

    fn plugin() -> PluginInstallationDescription {
        PluginInstallationDescription {
            environment_plugin_grant_id: EnvironmentPluginGrantId { uuid: Uuid { high_bits: 7, low_bits: 9 } },
            plugin_priority: 0,
            plugin_name: "auditor".into(),
            plugin_version: "1.0.0".into(),
            parameters: vec![("bucket".into(), "audit".into())],
        }
    }

    fn agent() -> AgentId {
        AgentId {
            component_id: ComponentId { uuid: Uuid { high_bits: 1, low_bits: 2 } },
            agent_id: "counter(\"a\")".into(),
        }
    }

    #[test]
    fn plugin_entries_name_grants_and_are_described_back() {
        let entries = [
            PublicOplogEntry::ActivatePlugin(ActivatePluginParameters { timestamp: AT, plugin: plugin() }),
            PublicOplogEntry::OplogProcessorCheckpoint(OplogProcessorCheckpointParameters {
                timestamp: AT,
                plugin: plugin(),
                target_agent_id: agent(),
                confirmed_up_to: 4,
                sending_up_to: 9,
                last_batch_start: 5,
            }),
        ];
        let known = |g: &EnvironmentPluginGrantId| (*g == plugin().environment_plugin_grant_id).then(plugin);
        for entry in &entries {
            let raw = to_raw(entry);
            assert_eq!(enrich(&raw, &known).as_ref(), Ok(entry));
            let unknown = enrich(&raw, &|_| None).unwrap_err();
            assert!(unknown.contains("is not installed in this environment"), "{unknown}");
        }
        let RawEntry::ActivatePlugin(raw) = to_raw(&entries[0]) else { panic!() };
        assert_eq!(raw.plugin_grant_id, plugin().environment_plugin_grant_id);
    }

    #[test]
    fn undecodable_and_external_payloads_are_errors() {
        let mut raw = RawHostCallParameters {
            timestamp: AT,
            function_name: "f".into(),
            request: OplogPayload::Inline(b"{not json".to_vec()),
            response: OplogPayload::Inline(Vec::new()),
            durable_function_type: crate::bindings::golem::api::oplog::WrappedFunctionType::ReadLocal,
        };
        let e = enrich(&RawEntry::HostCall(raw.clone()), &|_| None).unwrap_err();
        assert!(e.starts_with("the request payload does not decode"), "{e}");
        raw.request = OplogPayload::External(OplogExternalPayload {
            payload_id: Uuid { high_bits: 0, low_bits: 1 },
            md5_hash: Vec::new(),
        });
        let e = enrich(&RawEntry::HostCall(raw), &|_| None).unwrap_err();
        assert!(e.contains("stored externally"), "{e}");
    }

    use proptest::prelude::Strategy as _;

    proptest::proptest! {
        /// Payload bytes an oplog processor or a damaged store hands over:
        /// decoded, or refused with a message naming the payload.
        #[test]
        fn any_payload_bytes_enrich_or_are_refused(
            request in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
            response in proptest::prelude::prop_oneof![
                proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
                "[\\[\\]{}\"a-z0-9:,]{0,40}".prop_map(String::into_bytes),
            ],
        ) {
            let raw = RawHostCallParameters {
                timestamp: AT,
                function_name: "f".into(),
                request: OplogPayload::Inline(request),
                response: OplogPayload::Inline(response),
                durable_function_type: crate::bindings::golem::api::oplog::WrappedFunctionType::ReadLocal,
            };
            match enrich(&RawEntry::HostCall(raw), &|_| None) {
                Ok(entry) => proptest::prop_assert_eq!(enrich(&to_raw(&entry), &|_| None), Ok(entry)),
                Err(e) => proptest::prop_assert!(e.contains("payload does not decode"), "{}", e),
            }
        }
    }
}
