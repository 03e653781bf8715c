//! Reading oplogs (`golem:api/oplog@1.5.0`): an agent's entries from an
//! index on, or those matching a text search, as lazy iterators that fetch
//! one page at a time.
//!
//! Entries are the interface's public (self-describing) entries, each with
//! its 1-based oplog index.
//!
//! ```no_run
//! use reprise::oplog::{self, PublicOplogEntry};
//!
//! let me = reprise::host::self_metadata().agent_id;
//! let host_calls = oplog::entries(&me, 1)
//!     .filter(|(_, e)| matches!(e, PublicOplogEntry::HostCall(_)))
//!     .count();
//! for (index, entry) in oplog::search(&me, "charge").take(10) {
//!     println!("{index}: {entry:?}");
//! }
//! # let _ = host_calls;
//! ```

pub use crate::bindings::golem::api::oplog::PublicOplogEntry;
use crate::bindings::golem::api::oplog::{GetOplog, SearchOplog};
use crate::bindings::golem::core::types::AgentId;
use crate::paging::{PageSource, Pages};

/// The entry's kind as Golem names it in WIT (`host-call`,
/// `agent-invocation-started`, ...).
pub fn kind(entry: &PublicOplogEntry) -> &'static str {
    use PublicOplogEntry as E;
    match entry {
        E::Create(_) => "create",
        E::HostCall(_) => "host-call",
        E::AgentInvocationStarted(_) => "agent-invocation-started",
        E::AgentInvocationFinished(_) => "agent-invocation-finished",
        E::Suspend(_) => "suspend",
        E::Error(_) => "error",
        E::NoOp(_) => "no-op",
        E::Jump(_) => "jump",
        E::Interrupted(_) => "interrupted",
        E::Exited(_) => "exited",
        E::BeginAtomicRegion(_) => "begin-atomic-region",
        E::EndAtomicRegion(_) => "end-atomic-region",
        E::BeginRemoteWrite(_) => "begin-remote-write",
        E::EndRemoteWrite(_) => "end-remote-write",
        E::PendingAgentInvocation(_) => "pending-agent-invocation",
        E::PendingUpdate(_) => "pending-update",
        E::SuccessfulUpdate(_) => "successful-update",
        E::FailedUpdate(_) => "failed-update",
        E::GrowMemory(_) => "grow-memory",
        E::FilesystemStorageUsageUpdate(_) => "filesystem-storage-usage-update",
        E::CreateResource(_) => "create-resource",
        E::DropResource(_) => "drop-resource",
        E::Log(_) => "log",
        E::Restart(_) => "restart",
        E::ActivatePlugin(_) => "activate-plugin",
        E::DeactivatePlugin(_) => "deactivate-plugin",
        E::Revert(_) => "revert",
        E::CancelPendingInvocation(_) => "cancel-pending-invocation",
        E::StartSpan(_) => "start-span",
        E::FinishSpan(_) => "finish-span",
        E::SetSpanAttribute(_) => "set-span-attribute",
        E::ChangePersistenceLevel(_) => "change-persistence-level",
        E::BeginRemoteTransaction(_) => "begin-remote-transaction",
        E::PreCommitRemoteTransaction(_) => "pre-commit-remote-transaction",
        E::PreRollbackRemoteTransaction(_) => "pre-rollback-remote-transaction",
        E::CommittedRemoteTransaction(_) => "committed-remote-transaction",
        E::RolledBackRemoteTransaction(_) => "rolled-back-remote-transaction",
        E::Snapshot(_) => "snapshot",
        E::OplogProcessorCheckpoint(_) => "oplog-processor-checkpoint",
        E::SetRetryPolicy(_) => "set-retry-policy",
        E::RemoveRetryPolicy(_) => "remove-retry-policy",
    }
}

/// The entries of `agent`'s oplog from index `from` (1-based) on.
pub fn entries(agent: &AgentId, from: u64) -> Entries {
    let from = from.max(1);
    Entries { pages: Pages::new(GetOplog::new(agent, from)), next_index: from }
}

/// The calling agent's own entries from index `from` on.
pub fn own_entries(from: u64) -> Entries {
    entries(&crate::host::self_metadata().agent_id, from)
}

/// The entries of `agent`'s oplog matching `text`.
pub fn search(agent: &AgentId, text: &str) -> Search {
    Search { pages: Pages::new(SearchOplog::new(agent, text)) }
}

impl PageSource for GetOplog {
    type Item = PublicOplogEntry;

    fn next_page(&mut self) -> Option<Vec<PublicOplogEntry>> {
        self.get_next()
    }
}

impl PageSource for SearchOplog {
    type Item = (u64, PublicOplogEntry);

    fn next_page(&mut self) -> Option<Vec<(u64, PublicOplogEntry)>> {
        self.get_next()
    }
}

/// Entries with their indexes, page by page; see [`entries`].
#[derive(Debug)]
pub struct Entries {
    pages: Pages<GetOplog>,
    next_index: u64,
}

impl Iterator for Entries {
    type Item = (u64, PublicOplogEntry);

    fn next(&mut self) -> Option<Self::Item> {
        let entry = self.pages.next()?;
        let index = self.next_index;
        self.next_index += 1;
        Some((index, entry))
    }
}

/// Matching entries with their indexes, page by page; see [`search`].
#[derive(Debug)]
pub struct Search {
    pages: Pages<SearchOplog>,
}

impl Iterator for Search {
    type Item = (u64, PublicOplogEntry);

    fn next(&mut self) -> Option<Self::Item> {
        self.pages.next()
    }
}
