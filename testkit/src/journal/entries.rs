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
        _ => return None,
    })
}
