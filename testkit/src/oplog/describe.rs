//! One-line descriptions of entries and function types, for messages.

use super::OplogEntry;
use crate::bindings::golem::api::oplog::WrappedFunctionType;

/// A one-line description of an entry for messages.
pub fn describe(entry: &OplogEntry) -> String {
    use crate::bindings::golem::api::oplog::AgentInvocation as I;
    use OplogEntry as E;
    match entry {
        E::HostCall(p) => format!("host call `{}` ({})", p.function_name, function_type_name(&p.durable_function_type)),
        E::AgentInvocationStarted(p) => match &p.invocation {
            I::AgentInitialization(_) => "the start of agent initialization".into(),
            I::AgentMethodInvocation(m) => format!("the start of method `{}`", m.method_name),
            _ => "the start of an invocation".into(),
        },
        E::AgentInvocationFinished(_) => "the end of the invocation".into(),
        E::NoOp(_) => "an oplog-index read (no-op)".into(),
        E::BeginAtomicRegion(_) => "the start of an atomic region".into(),
        E::EndAtomicRegion(p) => format!("the end of the atomic region begun at {}", p.begin_index),
        E::BeginRemoteWrite(_) => "the start of a remote write".into(),
        E::EndRemoteWrite(p) => format!("the end of the remote write begun at {}", p.begin_index),
        E::ChangePersistenceLevel(p) => {
            format!("a change of persistence level to {}", persistence_level_name(&p.persistence_level))
        }
        E::StartSpan(p) => format!("the start of span {}", p.span_id),
        E::FinishSpan(p) => format!("the end of span {}", p.span_id),
        E::SetSpanAttribute(p) => format!("setting span attribute `{}`", p.key),
        E::Jump(p) => format!("a jump over {}..={}", p.jump.start, p.jump.end),
        E::Log(p) => format!("log [{}] {}", p.context, p.message),
        E::Create(p) => format!("creation of agent `{}`", p.agent_id.agent_id),
        E::Error(p) => format!("error: {}", p.error),
        other => format!("the `{}` entry", kind_name(other)),
    }
}

/// The entry's kind as WIT spells it: `host-call`, `pending-update`, ...
pub fn kind_name(entry: &OplogEntry) -> String {
    match serde_json::to_value(entry) {
        Ok(serde_json::Value::Object(map)) => map.keys().next().map(|k| crate::ids::kebab_case(k)),
        _ => None,
    }
    .unwrap_or_else(|| "entry".into())
}

/// When the entry was written.
pub fn timestamp(entry: &OplogEntry) -> crate::bindings::wasi::clocks::wall_clock::Datetime {
    use OplogEntry as E;
    match entry {
        E::Create(p) => p.timestamp,
        E::HostCall(p) => p.timestamp,
        E::AgentInvocationStarted(p) => p.timestamp,
        E::AgentInvocationFinished(p) => p.timestamp,
        E::Suspend(t) => t.timestamp,
        E::Error(p) => p.timestamp,
        E::NoOp(t) => t.timestamp,
        E::Jump(p) => p.timestamp,
        E::Interrupted(t) => t.timestamp,
        E::Exited(t) => t.timestamp,
        E::BeginAtomicRegion(t) => t.timestamp,
        E::EndAtomicRegion(p) => p.timestamp,
        E::BeginRemoteWrite(t) => t.timestamp,
        E::EndRemoteWrite(p) => p.timestamp,
        E::PendingAgentInvocation(p) => p.timestamp,
        E::PendingUpdate(p) => p.timestamp,
        E::SuccessfulUpdate(p) => p.timestamp,
        E::FailedUpdate(p) => p.timestamp,
        E::GrowMemory(p) => p.timestamp,
        E::FilesystemStorageUsageUpdate(p) => p.timestamp,
        E::CreateResource(p) => p.timestamp,
        E::DropResource(p) => p.timestamp,
        E::Log(p) => p.timestamp,
        E::Restart(t) => t.timestamp,
        E::ActivatePlugin(p) => p.timestamp,
        E::DeactivatePlugin(p) => p.timestamp,
        E::Revert(p) => p.timestamp,
        E::CancelPendingInvocation(p) => p.timestamp,
        E::StartSpan(p) => p.timestamp,
        E::FinishSpan(p) => p.timestamp,
        E::SetSpanAttribute(p) => p.timestamp,
        E::ChangePersistenceLevel(p) => p.timestamp,
        E::BeginRemoteTransaction(p) => p.timestamp,
        E::PreCommitRemoteTransaction(p) => p.timestamp,
        E::PreRollbackRemoteTransaction(p) => p.timestamp,
        E::CommittedRemoteTransaction(p) => p.timestamp,
        E::RolledBackRemoteTransaction(p) => p.timestamp,
        E::Snapshot(p) => p.timestamp,
        E::OplogProcessorCheckpoint(p) => p.timestamp,
        E::SetRetryPolicy(p) => p.timestamp,
        E::RemoveRetryPolicy(p) => p.timestamp,
    }
}

/// `persist-nothing`, `persist-remote-side-effects`, `smart`, as in WIT.
pub fn persistence_level_name(level: &crate::bindings::golem::api::oplog::PersistenceLevel) -> &'static str {
    use crate::bindings::golem::api::oplog::PersistenceLevel as L;
    match level {
        L::PersistNothing => "persist-nothing",
        L::PersistRemoteSideEffects => "persist-remote-side-effects",
        L::Smart => "smart",
    }
}

/// `read-local`, `write-remote`, ... as in WIT.
pub fn function_type_name(t: &WrappedFunctionType) -> &'static str {
    match t {
        WrappedFunctionType::ReadLocal => "read-local",
        WrappedFunctionType::WriteLocal => "write-local",
        WrappedFunctionType::ReadRemote => "read-remote",
        WrappedFunctionType::WriteRemote => "write-remote",
        WrappedFunctionType::WriteRemoteBatched(_) => "write-remote-batched",
        WrappedFunctionType::WriteRemoteTransaction(_) => "write-remote-transaction",
    }
}

/// Whether a crash between performing and persisting a call of this type
/// leaves a side effect outside the agent.
pub fn is_remote_write(t: &WrappedFunctionType) -> bool {
    matches!(
        t,
        WrappedFunctionType::WriteRemote
            | WrappedFunctionType::WriteRemoteBatched(_)
            | WrappedFunctionType::WriteRemoteTransaction(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::golem::api::oplog::{ChangePersistenceLevelParameters, PersistenceLevel, Timestamp};
    use crate::bindings::wasi::clocks::wall_clock::Datetime;

    #[test]
    fn entries_are_named_as_wit_names_them() {
        let timestamp = Datetime { seconds: 0, nanoseconds: 0 };
        let level = OplogEntry::ChangePersistenceLevel(ChangePersistenceLevelParameters {
            timestamp,
            persistence_level: PersistenceLevel::PersistNothing,
        });
        assert_eq!(describe(&level), "a change of persistence level to persist-nothing");
        let interrupted = OplogEntry::Interrupted(Timestamp { timestamp });
        assert_eq!(describe(&interrupted), "the `interrupted` entry");
    }
}
