//! An oplog-processor plugin: counts the entries of every agent it observes
//! by kind and publishes the counts to a key-value bucket, one key per agent.
//!
//! Golem delivers each agent's entries to the plugin exactly once and in
//! order, in batches; the plugin is itself durable, so the counts it keeps in
//! memory survive its crashes (they are rebuilt by replay).

use std::collections::BTreeMap;

use reprise::keyvalue::Bucket;
use reprise::oplog::kind;
use reprise::plugin::{Batch, OplogProcessor};

/// Entry counts by kind, per agent.
#[derive(Debug, Default)]
pub struct EntryCounter {
    counts: BTreeMap<String, BTreeMap<&'static str, u64>>,
}

impl OplogProcessor for EntryCounter {
    fn process(&mut self, batch: &Batch) -> Result<(), String> {
        let agent = batch.agent_id().agent_id.clone();
        let entries = batch.enrich().map_err(|e| e.to_string())?;
        let counts = self.counts.entry(agent.clone()).or_default();
        for (_, entry) in &entries {
            *counts.entry(kind(entry)).or_default() += 1;
        }
        // One line per kind: `host-call 4`.
        let text: Vec<String> = counts.iter().map(|(kind, n)| format!("{kind} {n}")).collect();
        let bucket = Bucket::open(batch.config_value("bucket").unwrap_or("entry-counts")).map_err(|e| e.to_string())?;
        bucket.set(&agent, text.join("\n").as_bytes()).map_err(|e| e.to_string())
    }
}

reprise::export_oplog_processor!(EntryCounter);
