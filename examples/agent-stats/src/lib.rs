//! An oplog-processor plugin that keeps statistics per agent (entries,
//! invocations by method, host calls by function, errors) and publishes
//! them after every batch as JSON under the agent's id in the bucket named
//! by the installation's `bucket` parameter (default `agent-stats`).
//!
//! The statistics live in the plugin's memory; after a crash they are
//! rebuilt by replaying the batches the plugin had processed, so the
//! published figures neither skip nor double-count an entry.

use std::collections::BTreeMap;

use reprise::bindings::golem::api::oplog::{AgentInvocation, PublicOplogEntry};
use reprise::keyvalue::Bucket;
use reprise::plugin::{Batch, OplogProcessor};

/// The figures kept for one agent.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AgentStats {
    /// Oplog entries seen.
    pub entries: u64,
    /// Method invocations, by method (the constructor as `(constructor)`).
    pub invocations: BTreeMap<String, u64>,
    /// Host calls, by function.
    pub host_calls: BTreeMap<String, u64>,
    /// Error entries (failed invocations, failed updates).
    pub errors: u64,
    /// Index of the last entry seen.
    pub last_index: u64,
}

impl AgentStats {
    fn count(&mut self, index: u64, entry: &PublicOplogEntry) {
        self.entries += 1;
        self.last_index = index;
        match entry {
            PublicOplogEntry::AgentInvocationStarted(p) => {
                let method = match &p.invocation {
                    AgentInvocation::AgentMethodInvocation(m) => m.method_name.clone(),
                    AgentInvocation::AgentInitialization(_) => "(constructor)".to_string(),
                    _ => return,
                };
                *self.invocations.entry(method).or_default() += 1;
            }
            PublicOplogEntry::HostCall(p) => *self.host_calls.entry(p.function_name.clone()).or_default() += 1,
            PublicOplogEntry::Error(_) | PublicOplogEntry::FailedUpdate(_) => self.errors += 1,
            _ => {}
        }
    }
}

/// The plugin's state: statistics by agent id.
#[derive(Debug, Default)]
pub struct Statistics {
    agents: BTreeMap<String, AgentStats>,
}

impl OplogProcessor for Statistics {
    fn process(&mut self, batch: &Batch) -> Result<(), String> {
        let agent = batch.agent_id().agent_id.clone();
        let stats = self.agents.entry(agent.clone()).or_default();
        if batch.first_index() != stats.last_index + 1 {
            return Err(format!(
                "agent {agent}: after entry {} came a batch starting at {}",
                stats.last_index,
                batch.first_index()
            ));
        }
        let mut updated = stats.clone();
        for (index, entry) in batch.enrich().map_err(|e| e.to_string())? {
            updated.count(index, &entry);
        }
        let bucket = Bucket::open(batch.config_value("bucket").unwrap_or("agent-stats"))
            .map_err(|e| e.to_string())?
            .typed::<AgentStats>();
        bucket.set(&agent, &updated).map_err(|e| e.to_string())?;
        // Counted only once published: a refused batch leaves no trace.
        *stats = updated;
        Ok(())
    }
}

reprise::export_oplog_processor!(Statistics);
