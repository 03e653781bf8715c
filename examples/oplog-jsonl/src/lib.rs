//! An oplog-processor plugin that writes every entry of every agent it is
//! active on as a JSON line, one key-value entry per batch:
//! `<agent id>/<first index>-<last index>` in the bucket named by the
//! installation's `bucket` parameter (default `oplog`).
//!
//! It checks the delivery contract as it goes: each agent's batches must
//! follow one another without overlap, or the batch is refused (Golem
//! reports it and does not send it again). Gaps forward are accepted: Golem
//! passes over a batch holding nothing but checkpoints. Its memory
//! of where each agent is, the `next` map, is rebuilt by replay after the
//! plugin crashes.
//!
//! An installation may name a key with the `trap-when` parameter: while that
//! key exists in the bucket, the plugin traps on every batch, standing in
//! for a bug an operator fixes. The tests use it to watch Golem restart the
//! plugin with backoff and resume from its checkpoint.

use std::collections::BTreeMap;

use reprise::bindings::golem::api::oplog::PublicOplogEntry;
use reprise::keyvalue::Bucket;
use reprise::oplog::kind;
use reprise::plugin::{Batch, OplogProcessor};

/// The plugin's state: the next index expected from each agent.
#[derive(Debug, Default)]
pub struct JsonLines {
    next: BTreeMap<String, u64>,
}

/// What a JSON line says about an entry besides its kind.
fn detail(entry: &PublicOplogEntry) -> serde_json::Value {
    use reprise::bindings::golem::api::oplog::AgentInvocation;
    match entry {
        PublicOplogEntry::HostCall(p) => serde_json::json!({ "function": p.function_name }),
        PublicOplogEntry::AgentInvocationStarted(p) => match &p.invocation {
            AgentInvocation::AgentMethodInvocation(m) => serde_json::json!({ "method": m.method_name }),
            AgentInvocation::AgentInitialization(_) => serde_json::json!({ "method": "(constructor)" }),
            _ => serde_json::Value::Null,
        },
        PublicOplogEntry::Log(p) => serde_json::json!({ "message": p.message }),
        PublicOplogEntry::ActivatePlugin(p) => serde_json::json!({ "plugin": p.plugin.plugin_name }),
        PublicOplogEntry::DeactivatePlugin(p) => serde_json::json!({ "plugin": p.plugin.plugin_name }),
        _ => serde_json::Value::Null,
    }
}

impl OplogProcessor for JsonLines {
    fn process(&mut self, batch: &Batch) -> Result<(), String> {
        let agent = batch.agent_id().agent_id.clone();
        // Batches never overlap. Any gap forward is accepted: Golem passes
        // over a batch of nothing but checkpoints (the tests check that
        // gaps hold only those).
        let expected = self.next.get(&agent).copied().unwrap_or(1);
        if batch.first_index() < expected {
            return Err(format!(
                "agent {agent}: expected a batch starting at entry {expected} or later, got {}..={}",
                batch.first_index(),
                batch.last_index()
            ));
        }
        let bucket = Bucket::open(batch.config_value("bucket").unwrap_or("oplog")).map_err(|e| e.to_string())?;
        if let Some(key) = batch.config_value("trap-when")
            && bucket.exists(key).map_err(|e| e.to_string())?
        {
            // A deliberate trap: this is what the option is for.
            #[allow(clippy::panic)]
            {
                panic!("`{key}` is set: trapping as asked");
            }
        }
        let entries = batch.enrich().map_err(|e| e.to_string())?;
        let lines: Vec<String> = entries
            .iter()
            .map(|(index, entry)| {
                let mut line =
                    serde_json::json!({ "agent": agent, "index": index, "kind": kind(entry), "detail": detail(entry) });
                if cfg!(feature = "format-v2") {
                    line["format"] = serde_json::json!(2);
                }
                line.to_string()
            })
            .collect();
        let key = format!("{agent}/{:08}-{:08}", batch.first_index(), batch.last_index());
        bucket.set(&key, lines.join("\n").as_bytes()).map_err(|e| e.to_string())?;
        self.next.insert(agent, batch.last_index() + 1);
        Ok(())
    }
}

reprise::export_oplog_processor!(JsonLines);
