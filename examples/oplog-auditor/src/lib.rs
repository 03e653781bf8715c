//! An agent that reads its own oplog (`reprise::oplog`): it does some
//! journaled work, then summarises what its oplog recorded and searches it.

use std::collections::BTreeMap;

use reprise::keyvalue::Bucket;
use reprise::oplog::{self, PublicOplogEntry};

/// A summary of an oplog range.
#[derive(reprise::Value, Debug, Clone, PartialEq)]
pub struct Audit {
    /// Index of the first entry read.
    pub first: u64,
    /// Index of the last entry read.
    pub last: u64,
    /// How many entries were read.
    pub entries: u64,
    /// Invocations started in the range.
    pub invocations: u32,
    /// Log lines.
    pub logs: u32,
    /// Host calls per function name.
    pub host_calls: BTreeMap<String, u32>,
}

/// The auditor.
#[derive(Debug)]
pub struct Auditor {
    notes: Bucket,
    count: u32,
}

/// Keeps notes and audits its own oplog.
#[reprise::agent]
impl Auditor {
    /// An auditor called `name`.
    pub fn new(name: String) -> Result<Self, String> {
        let notes = Bucket::open(&format!("notes-{name}")).map_err(|e| e.to_string())?;
        Ok(Auditor { notes, count: 0 })
    }

    /// Store a note (a key-value write and a log line); returns the count.
    pub fn note(&mut self, text: String) -> Result<u32, String> {
        self.count += 1;
        self.notes.set(&format!("note-{}", self.count), text.as_bytes()).map_err(|e| e.to_string())?;
        reprise::log::info!(target: "auditor", "note {}: {text}", self.count);
        Ok(self.count)
    }

    /// Summarise this agent's oplog from index `from` on.
    pub fn audit(&self, from: u64) -> Audit {
        let mut audit = Audit { first: 0, last: 0, entries: 0, invocations: 0, logs: 0, host_calls: BTreeMap::new() };
        for (index, entry) in oplog::own_entries(from) {
            if audit.entries == 0 {
                audit.first = index;
            }
            audit.last = index;
            audit.entries += 1;
            match entry {
                PublicOplogEntry::AgentInvocationStarted(_) => audit.invocations += 1,
                PublicOplogEntry::Log(_) => audit.logs += 1,
                PublicOplogEntry::HostCall(call) => *audit.host_calls.entry(call.function_name).or_default() += 1,
                _ => {}
            }
        }
        audit
    }

    /// The indexes of the entries matching `text`.
    pub fn find(&self, text: String) -> Vec<u64> {
        let me = reprise::host::self_metadata().agent_id;
        oplog::search(&me, &text).map(|(index, _)| index).collect()
    }
}

reprise::export_agents!(Auditor);
