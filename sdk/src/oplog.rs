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

use std::collections::VecDeque;

pub use crate::bindings::golem::api::oplog::PublicOplogEntry;
use crate::bindings::golem::api::oplog::{GetOplog, SearchOplog};
use crate::bindings::golem::core::types::AgentId;

/// The entries of `agent`'s oplog from index `from` (1-based) on.
pub fn entries(agent: &AgentId, from: u64) -> Entries {
    let from = from.max(1);
    Entries { pages: GetOplog::new(agent, from), page: VecDeque::new(), next_index: from, done: false }
}

/// The calling agent's own entries from index `from` on.
pub fn own_entries(from: u64) -> Entries {
    entries(&crate::host::self_metadata().agent_id, from)
}

/// The entries of `agent`'s oplog matching `text`.
pub fn search(agent: &AgentId, text: &str) -> Search {
    Search { pages: SearchOplog::new(agent, text), page: VecDeque::new(), done: false }
}

/// Entries with their indexes, page by page; see [`entries`].
#[derive(Debug)]
pub struct Entries {
    pages: GetOplog,
    page: VecDeque<PublicOplogEntry>,
    next_index: u64,
    done: bool,
}

impl Iterator for Entries {
    type Item = (u64, PublicOplogEntry);

    fn next(&mut self) -> Option<Self::Item> {
        while self.page.is_empty() && !self.done {
            match self.pages.get_next() {
                Some(page) if !page.is_empty() => self.page = page.into(),
                _ => self.done = true,
            }
        }
        let entry = self.page.pop_front()?;
        let index = self.next_index;
        self.next_index += 1;
        Some((index, entry))
    }
}

/// Matching entries with their indexes, page by page; see [`search`].
#[derive(Debug)]
pub struct Search {
    pages: SearchOplog,
    page: VecDeque<(u64, PublicOplogEntry)>,
    done: bool,
}

impl Iterator for Search {
    type Item = (u64, PublicOplogEntry);

    fn next(&mut self) -> Option<Self::Item> {
        while self.page.is_empty() && !self.done {
            match self.pages.get_next() {
                Some(page) if !page.is_empty() => self.page = page.into(),
                _ => self.done = true,
            }
        }
        self.page.pop_front()
    }
}
