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
