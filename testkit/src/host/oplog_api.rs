//! `golem:api/oplog@1.5.0`: an agent reading its own oplog, page by page.
//!
//! The oplog grows while it is read, so every page is journaled (as
//! `read-local`, the page as JSON text) and replay returns the page the live
//! run saw.

use wasmtime::component::Resource;

use super::HostState;
use crate::bindings::OplogCursor;
use crate::bindings::golem::api::oplog::{
    AgentId, ComponentRevision, EnvironmentId, Host, HostGetOplog, HostSearchOplog, OplogEntry as RawEntry,
    WrappedFunctionType,
};
use crate::journal::Json;
use crate::oplog::{OplogEntry, describe, enrich};

/// Entries per page.
const PAGE: usize = 100;

/// Search matches the one-line description of an entry (kind, function
/// name, method, span, log message), case-insensitively.
fn matches(entry: &OplogEntry, text: &str) -> bool {
    describe(entry).to_lowercase().contains(text)
}

impl HostState {
    fn check_own(&self, agent_id: &AgentId) -> wasmtime::Result<()> {
        if agent_id.agent_id != self.agent.name {
            return Err(wasmtime::format_err!(
                "the testkit serves only the calling agent's own oplog (asked for `{}`, this is `{}`)",
                agent_id.agent_id,
                self.agent.name
            ));
        }
        Ok(())
    }

    /// The next page after `cursor`, journaled.
    fn next_page(
        &mut self,
        function: &str,
        cursor: &Resource<OplogCursor>,
    ) -> wasmtime::Result<Option<Vec<(u64, OplogEntry)>>> {
        let (start, end, text) = {
            let c = self.table.get(cursor)?;
            (c.next, c.end, c.text.clone())
        };
        // The page is recorded as JSON text with the index to read next.
        let (Json(entries), next) = self.journal.call(function, WrappedFunctionType::ReadLocal, &start, |journal| {
            let entries = &journal.oplog.entries()
                [..usize::try_from(end).unwrap_or(usize::MAX).min(journal.oplog.entries().len())];
            let from = usize::try_from(start.saturating_sub(1)).unwrap_or(usize::MAX);
            let mut page = Vec::new();
            let mut last = start.saturating_sub(1);
            for (pos, entry) in entries.iter().enumerate().skip(from) {
                last = pos as u64 + 1;
                if text.as_deref().is_none_or(|t| matches(entry, t)) {
                    page.push((last, entry.clone()));
                    if page.len() == PAGE {
                        break;
                    }
                }
            }
            (Json(page), last + 1)
        })?;
        self.table.get_mut(cursor)?.next = next;
        Ok((!entries.is_empty()).then_some(entries))
    }
}

impl Host for HostState {
    fn enrich_oplog_entries(
        &mut self,
        _environment_id: EnvironmentId,
        _agent_id: AgentId,
        entries: Vec<(u64, RawEntry)>,
        _component_revision: ComponentRevision,
    ) -> wasmtime::Result<Result<Vec<OplogEntry>, String>> {
        // A pure function of its input: nothing to journal.
        let lookup = |grant: &_| self.directory.plugin_installation(grant);
        Ok(entries
            .iter()
            .map(|(index, raw)| enrich(raw, lookup).map_err(|e| format!("oplog entry {index}: {e}")))
            .collect())
    }
}

impl HostGetOplog for HostState {
    fn new(&mut self, agent_id: AgentId, start: u64) -> wasmtime::Result<Resource<OplogCursor>> {
        self.check_own(&agent_id)?;
        let end = self.journal.position();
        Ok(self.table.push(OplogCursor { next: start.max(1), end, text: None })?)
    }

    fn get_next(&mut self, self_: Resource<OplogCursor>) -> wasmtime::Result<Option<Vec<OplogEntry>>> {
        Ok(self
            .next_page("golem:api/oplog::get-oplog.get-next", &self_)?
            .map(|p| p.into_iter().map(|(_, e)| e).collect()))
    }

    fn drop(&mut self, rep: Resource<OplogCursor>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

impl HostSearchOplog for HostState {
    fn new(&mut self, agent_id: AgentId, text: String) -> wasmtime::Result<Resource<OplogCursor>> {
        self.check_own(&agent_id)?;
        let end = self.journal.position();
        Ok(self.table.push(OplogCursor { next: 1, end, text: Some(text.to_lowercase()) })?)
    }

    fn get_next(&mut self, self_: Resource<OplogCursor>) -> wasmtime::Result<Option<Vec<(u64, OplogEntry)>>> {
        self.next_page("golem:api/oplog::search-oplog.get-next", &self_)
    }

    fn drop(&mut self, rep: Resource<OplogCursor>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}
