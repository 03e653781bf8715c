//! What replay matches entry by entry.

use crate::oplog::OplogEntry;

/// The kinds of entries replay checks one by one. Everything else (creation,
/// logs, errors, plugin bookkeeping, ...) is passed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strict {
    HostCall,
    NoOp,
    BeginAtomicRegion,
    EndAtomicRegion,
    BeginRemoteWrite,
    EndRemoteWrite,
    StartSpan,
    FinishSpan,
    SetSpanAttribute,
    InvocationStarted,
    InvocationFinished,
    ChangePersistenceLevel,
}

pub(crate) fn strict_kind(entry: &OplogEntry) -> Option<Strict> {
    use OplogEntry as E;
    Some(match entry {
        E::HostCall(_) => Strict::HostCall,
        E::NoOp(_) => Strict::NoOp,
        E::BeginAtomicRegion(_) => Strict::BeginAtomicRegion,
        E::EndAtomicRegion(_) => Strict::EndAtomicRegion,
        E::BeginRemoteWrite(_) => Strict::BeginRemoteWrite,
        E::EndRemoteWrite(_) => Strict::EndRemoteWrite,
        E::StartSpan(_) => Strict::StartSpan,
        E::FinishSpan(_) => Strict::FinishSpan,
        E::SetSpanAttribute(_) => Strict::SetSpanAttribute,
        E::AgentInvocationStarted(_) => Strict::InvocationStarted,
        E::AgentInvocationFinished(_) => Strict::InvocationFinished,
        E::ChangePersistenceLevel(_) => Strict::ChangePersistenceLevel,
        _ => return None,
    })
}

/// Whether a Golem executor commits the oplog as it adds `entry`
/// (`add_and_commit_oplog` and `add` followed by `commit(Always)` in
/// golem-worker-executor/src/durable_host/mod.rs, golem/v1x.rs and
/// worker/mod.rs at v1.5.9). Host calls, logs, spans, atomic-region markers
/// and end-remote-write are buffered.
pub(crate) fn commits_at_once(entry: &OplogEntry) -> bool {
    use OplogEntry as E;
    matches!(
        entry,
        E::Create(_)
            | E::AgentInvocationStarted(_)
            | E::AgentInvocationFinished(_)
            | E::Error(_)
            | E::Interrupted(_)
            | E::Exited(_)
            | E::Suspend(_)
            | E::BeginRemoteWrite(_)
            | E::Jump(_)
            | E::ChangePersistenceLevel(_)
            | E::PendingUpdate(_)
            | E::PendingAgentInvocation(_)
            | E::SuccessfulUpdate(_)
            | E::FailedUpdate(_)
            | E::Revert(_)
            // Plugin bookkeeping: `Worker::activate_plugin` /
            // `deactivate_plugin` add and commit; the forwarding oplog
            // commits each checkpoint as it writes it.
            | E::ActivatePlugin(_)
            | E::DeactivatePlugin(_)
            | E::OplogProcessorCheckpoint(_)
    )
}
