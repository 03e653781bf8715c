//! The source side of delivery: an agent's commits counted, and its
//! committed entries sent to each plugin active on it in batches, with
//! checkpoints in the agent's own oplog, as Golem's forwarding oplog does
//! (golem-worker-executor/src/services/oplog/plugin.rs at v1.5.9,
//! `ForwardingOplog`, `try_flush`, `flush_one_plugin`).

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{delivery, key};
use crate::bindings::golem::api::oplog::{OplogProcessorCheckpointParameters, PluginInstallationDescription};
use crate::bindings::golem::core::types::AgentId;
use crate::environment::Environment;
use crate::journal::{Forwarding, Journal};
use crate::oplog::OplogEntry;
use crate::runtime::follow_plugin_changes;

/// The forwarding state of one agent instance.
pub(crate) struct Forwarder {
    env: Environment,
    source: AgentId,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Commits since the last flush.
    commits: usize,
    /// Entries folded into `active` and `folded` so far.
    scanned: usize,
    active: Vec<PluginInstallationDescription>,
    /// Each installation's progress as the oplog records it, by grant.
    folded: BTreeMap<(u64, u64), Live>,
    /// Regions reverts dropped (1-based, inclusive): not folded.
    dropped: Vec<(u64, u64)>,
    /// What this instance knows of each installation it serves: seeded from
    /// `folded`, then kept here (a batch of checkpoints only moves the
    /// cursor without a checkpoint of its own).
    live: BTreeMap<(u64, u64), Live>,
}

#[derive(Clone)]
struct Live {
    plugin: PluginInstallationDescription,
    target: Option<AgentId>,
    confirmed: u64,
    sending: u64,
    last_start: u64,
}

impl Live {
    fn in_flight(&self) -> bool {
        self.sending > self.confirmed
    }

    /// Nothing sent yet, from the entry after `index` on.
    fn from(plugin: &PluginInstallationDescription, index: u64) -> Live {
        Live { plugin: plugin.clone(), target: None, confirmed: index, sending: index, last_start: index }
    }
}

impl Forwarder {
    pub(crate) fn new(env: Environment, source: AgentId) -> Self {
        Forwarder { env, source, state: Mutex::default() }
    }
}

impl Forwarding for Forwarder {
    fn committed(&self, journal: &mut Journal) -> wasmtime::Result<()> {
        let max = self.env.plugin_settings().max_commit_count.max(1);
        let due = {
            let mut state = crate::sync::lock(&self.state);
            state.commits += 1;
            state.commits >= max
        };
        if due { self.flush(journal) } else { Ok(()) }
    }

    fn flush(&self, journal: &mut Journal) -> wasmtime::Result<()> {
        journal.flushing(|journal| {
            let mut state = crate::sync::lock(&self.state);
            state.commits = 0;
            state.reconcile(journal.oplog.entries());
            let tail = journal.oplog.committed_index();
            let grants: Vec<_> = state.live.keys().copied().collect();
            let mut enqueued = Vec::new();
            let mut outcome = Ok(());
            for grant in grants {
                match self.flush_one(&mut state, journal, grant, tail) {
                    Ok(Some(target)) => enqueued.push(target),
                    Ok(None) => {}
                    // A crash at a checkpoint: what was enqueued still runs.
                    Err(crash) => {
                        outcome = Err(crash);
                        break;
                    }
                }
            }
            drop(state);
            // The plugin workers run beside the agent on Golem: what they
            // do with the batches never reaches it.
            for (plugin, target) in enqueued {
                delivery::run_queue(&self.env, &plugin, &target);
            }
            outcome
        })
    }
}

impl State {
    /// Fold the entries not seen yet, then serve every active installation
    /// and every one with a batch in flight (a deactivated plugin gets the
    /// batch it was being sent); forget the others.
    fn reconcile(&mut self, entries: &[OplogEntry]) {
        let unseen = |scanned: usize| entries.get(scanned..).unwrap_or_default();
        // A revert drops a region already folded: fold again from the start.
        if unseen(self.scanned).iter().any(|e| matches!(e, OplogEntry::Revert(_))) {
            (self.scanned, self.active, self.folded, self.dropped) = (0, Vec::new(), BTreeMap::new(), Vec::new());
        }
        self.dropped.extend(unseen(self.scanned).iter().filter_map(|e| match e {
            OplogEntry::Revert(p) => Some((p.dropped_region.start, p.dropped_region.end)),
            _ => None,
        }));
        for (pos, entry) in entries.iter().enumerate().skip(self.scanned) {
            let index = pos as u64 + 1;
            if self.dropped.iter().any(|(start, end)| (*start..=*end).contains(&index)) {
                continue;
            }
            follow_plugin_changes(&mut self.active, entry);
            fold_checkpoint(&mut self.folded, index, entry);
            // As Golem's status keeps them, commit by commit (each of these
            // entries is its own commit): a deactivated plugin's progress is
            // forgotten once nothing is in flight, so a later activation
            // starts after its own entry.
            let active = &self.active;
            self.folded.retain(|grant, folded| {
                active.iter().any(|p| key(&p.environment_plugin_grant_id) == *grant) || folded.in_flight()
            });
        }
        self.scanned = entries.len();
        for plugin in &self.active {
            let grant = key(&plugin.environment_plugin_grant_id);
            if !self.live.contains_key(&grant) {
                // Active from the agent's creation: from its first entry.
                let live = self.folded.get(&grant).cloned().unwrap_or_else(|| Live::from(plugin, 0));
                self.live.insert(grant, live);
            }
        }
        for (grant, folded) in &self.folded {
            if folded.in_flight() && !self.live.contains_key(grant) {
                self.live.insert(*grant, folded.clone());
            }
        }
        let active = &self.active;
        self.live.retain(|grant, live| {
            active.iter().any(|p| key(&p.environment_plugin_grant_id) == *grant) || live.in_flight()
        });
    }
}

/// What `entry` (at `index`) changes in the installations' progress, as
/// Golem computes it from the oplog (golem-worker-executor/src/worker/status.rs,
/// `calculate_oplog_processor_checkpoints`): a checkpoint records it; an
/// activation, or an update activating a plugin, starts it after its own
/// entry unless progress is known; a deactivation forgets it unless a batch
/// is in flight.
fn fold_checkpoint(folded: &mut BTreeMap<(u64, u64), Live>, index: u64, entry: &OplogEntry) {
    match entry {
        OplogEntry::OplogProcessorCheckpoint(p) => {
            let live = Live {
                plugin: p.plugin.clone(),
                target: Some(p.target_agent_id.clone()),
                confirmed: p.confirmed_up_to,
                sending: p.sending_up_to,
                last_start: p.last_batch_start,
            };
            folded.insert(key(&p.plugin.environment_plugin_grant_id), live);
        }
        OplogEntry::ActivatePlugin(p) => {
            folded.entry(key(&p.plugin.environment_plugin_grant_id)).or_insert_with(|| Live::from(&p.plugin, index));
        }
        OplogEntry::DeactivatePlugin(p) => {
            let grant = key(&p.plugin.environment_plugin_grant_id);
            if !folded.get(&grant).is_some_and(Live::in_flight) {
                folded.remove(&grant);
            }
        }
        OplogEntry::SuccessfulUpdate(p) => {
            let now_active =
                |grant: &(u64, u64)| p.new_active_plugins.iter().any(|a| key(&a.environment_plugin_grant_id) == *grant);
            folded.retain(|grant, live| now_active(grant) || live.in_flight());
            for plugin in &p.new_active_plugins {
                folded.entry(key(&plugin.environment_plugin_grant_id)).or_insert_with(|| Live::from(plugin, index));
            }
        }
        _ => {}
    }
}

impl Forwarder {
    /// Send one installation its batch, if it has one: the same range again
    /// when one is in flight, else everything from the confirmed index to
    /// the committed tail. Returns where a batch was enqueued.
    fn flush_one(
        &self,
        state: &mut State,
        journal: &mut Journal,
        grant: (u64, u64),
        tail: u64,
    ) -> wasmtime::Result<Option<(PluginInstallationDescription, AgentId)>> {
        let Some(live) = state.live.get(&grant).cloned() else { return Ok(None) };
        // Removed from the environment: nowhere to send (as Golem sends
        // nothing to a plugin its component no longer lists).
        if !self.env.shared().plugins().serves(&live.plugin) {
            return Ok(None);
        }
        let (start, end, retry) = if live.in_flight() {
            (live.confirmed + 1, live.sending, true)
        } else if live.confirmed < tail {
            (live.confirmed + 1, tail, false)
        } else {
            return Ok(None);
        };
        let plugin = live.plugin.clone();
        let target = match live.target.clone() {
            Some(target) => target,
            None => {
                let Some(target) = delivery::resolve_target(&self.env, &plugin, &self.source.agent_id) else {
                    return Ok(None);
                };
                checkpoint(journal, &plugin, &target, (live.confirmed, live.confirmed, live.last_start), Effect::None)?;
                if let Some(l) = state.live.get_mut(&grant) {
                    l.target = Some(target.clone());
                }
                target
            }
        };
        let entries = journal.oplog.entries();
        let Some(batch) =
            usize::try_from(start - 1).ok().zip(usize::try_from(end).ok()).and_then(|(a, b)| entries.get(a..b))
        else {
            return Ok(None);
        };
        // Nothing but checkpoints: passed over, with no checkpoint of its own.
        if batch.iter().all(|e| matches!(e, OplogEntry::OplogProcessorCheckpoint(_))) {
            if let Some(l) = state.live.get_mut(&grant) {
                (l.confirmed, l.sending) = (end, end);
            }
            return Ok(None);
        }
        let batch = batch.to_vec();
        if retry {
            self.env.shared().plugins().metrics_of(&plugin.plugin_name).batches_retried += 1;
        } else {
            checkpoint(journal, &plugin, &target, (live.confirmed, end, start), Effect::None)?;
            if let Some(l) = state.live.get_mut(&grant) {
                l.sending = end;
            }
        }
        if let Err(reason) = delivery::enqueue(&self.env, &plugin, &target, &self.source, start, batch) {
            // Still in flight: the next flush sends the same range again.
            self.env.shared().plugins().emit(super::PluginEvent::EnqueueFailed {
                name: plugin.plugin_name.clone(),
                version: plugin.plugin_version.clone(),
                agent: self.source.agent_id.clone(),
                range: (start, end),
                reason,
            });
            return Ok(None);
        }
        // Enqueued is confirmed: the batch is the plugin worker's now. The
        // enqueue is an effect done before this entry is persisted.
        checkpoint(journal, &plugin, &target, (end, end, start), Effect::Done)?;
        if let Some(l) = state.live.get_mut(&grant) {
            (l.confirmed, l.sending, l.last_start) = (end, end, start);
        }
        Ok(Some((plugin, target)))
    }
}

/// Whether a checkpoint records an effect already done (the enqueue it
/// confirms), which a crash before the entry is persisted would repeat.
enum Effect {
    None,
    Done,
}

/// Append and commit a checkpoint (confirmed up to, sending up to, last
/// batch start); a crash may fire right after it, or before it for one
/// recording an effect.
fn checkpoint(
    journal: &mut Journal,
    plugin: &PluginInstallationDescription,
    target: &AgentId,
    (confirmed_up_to, sending_up_to, last_batch_start): (u64, u64, u64),
    effect: Effect,
) -> wasmtime::Result<()> {
    let timestamp = journal.now();
    let entry = OplogEntry::OplogProcessorCheckpoint(OplogProcessorCheckpointParameters {
        timestamp,
        plugin: plugin.clone(),
        target_agent_id: target.clone(),
        confirmed_up_to,
        sending_up_to,
        last_batch_start,
    });
    match effect {
        Effect::None => journal.append(entry)?,
        Effect::Done => journal.append_after_effect(entry)?,
    };
    Ok(())
}
