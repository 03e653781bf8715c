//! Delivering agents' oplogs to plugin instances: progress read back from
//! each instance's oplog, batches, checkpoints, restarts with backoff.

use std::sync::Arc;
use std::time::Instant;

use super::{PluginEvent, Slot, key};
use crate::bindings::golem::api::oplog::{
    AgentInvocationResult, EnvironmentPluginGrantId, JumpParameters, OplogProcessorCheckpointParameters, OplogRegion,
    PluginInstallationDescription,
};
use crate::bindings::golem::core::types::{AgentId, ComponentId};
use crate::bindings::wasi::clocks::wall_clock::Datetime;
use crate::environment::{Environment, Shared};
use crate::error::Error;
use crate::ids::uuid_from_u128;
use crate::journal::{Journal, seed_from};
use crate::oplog::OplogEntry;
use crate::runtime::{Agent, AgentHandle, NewAgent, active_plugins};

/// The id of instance `n` (from 0) of a plugin installation: a plain
/// worker, reachable with [`Environment::agent_handle`] and crashable with
/// [`Environment::schedule_crashes`] like any environment-owned agent.
pub fn worker_id(installation: &PluginInstallationDescription, n: usize) -> String {
    let grant = installation.environment_plugin_grant_id.uuid;
    format!("{}@{}[{:08x}]#{n}", installation.plugin_name, installation.plugin_version, grant.high_bits >> 32)
}

/// How far a plugin instance has processed one agent's oplog, read from the
/// instance's own oplog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Progress {
    /// Every entry up to this index was processed.
    pub(crate) confirmed: u64,
    /// A batch recorded as being sent and not confirmed: its bounds.
    pub(crate) in_flight: Option<(u64, u64)>,
}

pub(crate) fn progress(worker_oplog: &[OplogEntry], grant: &EnvironmentPluginGrantId, target: &str) -> Progress {
    let mut progress = Progress::default();
    // Whether the latest checkpoint is about `target` (the invocations that
    // follow a checkpoint process the batch it announces).
    let mut current = false;
    for entry in worker_oplog {
        match entry {
            OplogEntry::OplogProcessorCheckpoint(p) => {
                current = p.target_agent_id.agent_id == target && p.plugin.environment_plugin_grant_id == *grant;
                if current {
                    progress.confirmed = p.confirmed_up_to;
                    progress.in_flight =
                        (p.sending_up_to > p.confirmed_up_to).then_some((p.last_batch_start, p.sending_up_to));
                }
            }
            // A finished `process` confirms its batch, whether the plugin
            // accepted it or answered with an error: Golem never sends a
            // batch again once `process` ran.
            OplogEntry::AgentInvocationFinished(p) if current => {
                if let (AgentInvocationResult::ProcessOplogEntries(_), Some((_, end))) = (&p.result, progress.in_flight)
                {
                    progress.confirmed = end;
                    progress.in_flight = None;
                }
            }
            _ => {}
        }
    }
    progress
}

/// The checkpoint announcing (or confirming) a batch.
pub(crate) fn checkpoint(
    plugin: &PluginInstallationDescription,
    target: &AgentId,
    confirmed_up_to: u64,
    batch: (u64, u64),
    timestamp: Datetime,
) -> OplogEntry {
    OplogEntry::OplogProcessorCheckpoint(OplogProcessorCheckpointParameters {
        timestamp,
        plugin: plugin.clone(),
        target_agent_id: target.clone(),
        confirmed_up_to,
        sending_up_to: batch.1,
        last_batch_start: batch.0,
    })
}

/// Start instance `slot` of an installation: a new worker, or (`from`) a
/// restart over the oplog of one that trapped, passing over the failed
/// attempt so that the interrupted batch runs again from its start.
fn start_worker(
    env: &Environment,
    plugin: &PluginInstallationDescription,
    slot: usize,
    from: Option<&AgentHandle>,
) -> Result<AgentHandle, Error> {
    let shared = env.shared();
    let definition = shared
        .plugins()
        .definitions
        .get(&(plugin.plugin_name.clone(), plugin.plugin_version.clone()))
        .cloned()
        .ok_or_else(|| {
            Error::Plugin(format!("plugin `{}` {} is not defined", plugin.plugin_name, plugin.plugin_version))
        })?;
    let name = worker_id(plugin, slot);
    let mut new = NewAgent { plain: true, ..NewAgent::agent(&name, &[]) };
    new.crashes = shared.registry().take_planned_crashes(&name);
    if let Some(old) = from {
        let mut oplog = old.lock().oplog().snapshot();
        if let Some(started) = interrupted_invocation(oplog.entries()) {
            // The trapped batch runs again, as part of the restart.
            shared.plugins().metrics_of(&plugin.plugin_name).batches_retried += 1;
            let last = oplog.last_index();
            let timestamp = Journal::time_at(last + 1);
            oplog.append(OplogEntry::Jump(JumpParameters {
                timestamp,
                jump: OplogRegion { start: started + 1, end: last + 1 },
            }))?;
        }
        new.oplog = oplog;
    }
    let started = Instant::now();
    let agent = Agent::create_or_refuse(Arc::new(env.unrooted()), definition.component.clone(), new)?;
    let handle = AgentHandle::new(agent);
    shared.registry().own(handle.clone());
    let mut host = shared.plugins();
    host.metrics_of(&plugin.plugin_name).started(started.elapsed());
    Ok(handle)
}

/// Index of the last invocation that started and did not finish.
fn interrupted_invocation(entries: &[OplogEntry]) -> Option<u64> {
    let pos = entries
        .iter()
        .rposition(|e| matches!(e, OplogEntry::AgentInvocationStarted(_) | OplogEntry::AgentInvocationFinished(_)))?;
    matches!(entries[pos], OplogEntry::AgentInvocationStarted(_)).then_some(pos as u64 + 1)
}

/// The instance serving `source` for an installation and its slot: started
/// if needed, restarted if it trapped and its backoff has passed; `None`
/// while it waits (or was given up).
fn ready_worker(
    env: &Environment,
    plugin: &PluginInstallationDescription,
    source: &str,
) -> Option<(usize, AgentHandle)> {
    let shared = env.shared();
    let grant = key(&plugin.environment_plugin_grant_id);
    let starting = shared.plugins().starting.clone();
    let _one_start_at_a_time = crate::sync::lock(&starting);
    let (slot_index, slot) = {
        let host = shared.plugins();
        // A removed plugin is served no more.
        if !host.definitions.contains_key(&(plugin.plugin_name.clone(), plugin.plugin_version.clone())) {
            return None;
        }
        let instances = host.settings.instances.max(1);
        let index = (seed_from(&[source.as_bytes()]) % instances as u64) as usize;
        (index, host.installations.get(&grant)?.slots.get(&index).cloned())
    };
    let restart_from = match &slot {
        None => None,
        Some(s) if s.given_up => return None,
        Some(s) if s.retry_at.is_some_and(|at| Instant::now() < at) => return None,
        Some(s) if s.retry_at.is_some() => Some(s.worker.clone()),
        Some(s) => return Some((slot_index, s.worker.clone())),
    };
    match start_worker(env, plugin, slot_index, restart_from.as_ref()) {
        Ok(worker) => {
            let mut host = shared.plugins();
            let failures = slot.as_ref().map_or(0, |s| s.failures);
            if restart_from.is_some() {
                host.metrics_of(&plugin.plugin_name).restarts += 1;
                host.emit(PluginEvent::Registered {
                    name: plugin.plugin_name.clone(),
                    version: plugin.plugin_version.clone(),
                });
            } else {
                host.metrics_of(&plugin.plugin_name).active_instances += 1;
            }
            let new_slot = Slot { worker: worker.clone(), failures, retry_at: None, given_up: false };
            host.installations.get_mut(&grant)?.slots.insert(slot_index, new_slot);
            Some((slot_index, worker))
        }
        Err(e) => {
            // Replaying the trapped batch trapped again: wait longer.
            if let Some(old) = restart_from {
                failed(shared, plugin, slot_index, &old, &e);
            }
            None
        }
    }
}

/// Record that instance `slot` trapped: count it, announce it, and set when
/// it may restart (or give it up).
fn failed(shared: &Arc<Shared>, plugin: &PluginInstallationDescription, slot: usize, worker: &AgentHandle, e: &Error) {
    let grant = key(&plugin.environment_plugin_grant_id);
    let mut host = shared.plugins();
    let settings = host.settings;
    let Some(entry) = host.installations.get_mut(&grant).and_then(|i| i.slots.get_mut(&slot)) else { return };
    entry.worker = worker.clone();
    entry.failures += 1;
    let failures = entry.failures;
    let given_up = failures > settings.max_restarts;
    entry.given_up = given_up;
    entry.retry_at = Some(Instant::now() + settings.backoff_after(failures));
    let metrics = host.metrics_of(&plugin.plugin_name);
    metrics.crashes += 1;
    if given_up {
        metrics.active_instances = metrics.active_instances.saturating_sub(1);
    }
    let reason = if given_up {
        format!("gave up after {} restarts in a row: {e}", settings.max_restarts)
    } else {
        format!("crashed ({e}); restarting in {:?}", settings.backoff_after(failures))
    };
    host.emit(PluginEvent::Unregistered {
        name: plugin.plugin_name.clone(),
        version: plugin.plugin_version.clone(),
        reason,
    });
}

/// Deliver what `source` has not delivered yet to every plugin active on
/// it. Failures stay with the plugin (counted, the instance restarted
/// later); the agent carries on.
pub(crate) fn deliver(env: &Environment, source: &mut Agent) {
    let entries = source.oplog().entries();
    let active = active_plugins(entries);
    if active.is_empty() {
        return;
    }
    let shared = env.shared();
    let id = source.id().to_string();
    let available = entries.len() as u64;
    let batch_size = {
        let mut host = shared.plugins();
        // Oplogs only grow: the copy needs just what was appended since.
        let copy = host.sources.entry(id.clone()).or_default();
        match entries.get(copy.len()..) {
            Some(new) => copy.extend_from_slice(new),
            // Longer than the oplog: another agent of this id wrote it.
            None => *copy = entries.to_vec(),
        }
        host.settings.batch_size.max(1)
    };
    for plugin in &active {
        let Some((slot, worker)) = ready_worker(env, plugin, &id) else { continue };
        // One batch at a time per instance: deliveries from agents running
        // on other threads wait their turn.
        let mut agent = worker.lock();
        let crashes_before = agent.crashes_fired().len();
        let target = target_agent_id(shared, &id);
        let outcome = agent.process_agent(plugin, &target, available, batch_size);
        let injected = (agent.crashes_fired().len() - crashes_before) as u64;
        drop(agent);
        {
            let mut host = shared.plugins();
            let metrics = host.metrics_of(&plugin.plugin_name);
            metrics.crashes += injected;
            if let Ok(delivery) = &outcome {
                metrics.entries_delivered += delivery.entries;
                metrics.batches_retried += delivery.retried;
                metrics.batches_refused += delivery.refused.len() as u64;
            }
            if let Ok(delivery) = &outcome {
                for (range, error) in &delivery.refused {
                    host.emit(PluginEvent::BatchRefused {
                        name: plugin.plugin_name.clone(),
                        version: plugin.plugin_version.clone(),
                        agent: id.clone(),
                        range: *range,
                        error: error.clone(),
                    });
                }
            }
        }
        match outcome {
            Ok(_) => {
                let grant = key(&plugin.environment_plugin_grant_id);
                let mut host = shared.plugins();
                if let Some(s) = host.installations.get_mut(&grant).and_then(|i| i.slots.get_mut(&slot)) {
                    s.failures = 0;
                }
            }
            Err(e) => failed(shared, plugin, slot, &worker, &e),
        }
    }
}

/// What one delivery achieved.
#[derive(Debug, Clone, Default)]
pub(crate) struct Delivery {
    /// Entries the plugin accepted.
    entries: u64,
    /// Batches sent again.
    retried: u64,
    /// Batches the plugin answered with an error, and the error.
    refused: Vec<((u64, u64), String)>,
}

impl Agent {
    /// As a plugin instance, send `target`'s entries up to `available` in
    /// batches of at most `batch_size`.
    fn process_agent(
        &mut self,
        plugin: &PluginInstallationDescription,
        target_id: &AgentId,
        available: u64,
        batch_size: u64,
    ) -> Result<Delivery, Error> {
        let target = target_id.agent_id.as_str();
        let grant = plugin.environment_plugin_grant_id;
        let mut delivery = Delivery::default();
        // Bounded: each round confirms a batch, or stops, or absorbs a crash.
        for _ in 0..2 * available + 4 {
            self.ensure_live()?;
            let before = progress(self.oplog().entries(), &grant, target);
            let batch = match before.in_flight {
                Some(batch) => batch,
                None if before.confirmed < available => {
                    (before.confirmed + 1, available.min(before.confirmed + batch_size))
                }
                None => return Ok(delivery),
            };
            if before.in_flight.is_none() {
                let now = self.now();
                if !self.append_executor_entry(checkpoint(plugin, target_id, before.confirmed, batch, now))? {
                    continue; // crashed right after: recover and look again
                }
            } else {
                // Announced and not processed (the instance crashed before
                // starting it): the same batch again.
                delivery.retried += 1;
            }
            let key = batch_key(target_id, &grant, batch);
            match self.process_batch(plugin, target_id, batch, key)? {
                Ok(()) => delivery.entries += batch.1 - batch.0 + 1,
                // Reported, and confirmed like an accepted batch: Golem
                // never sends it again.
                Err(error) => delivery.refused.push((batch, error)),
            }
            let now = self.now();
            // A crash right after is harmless: the finished invocation confirms the batch.
            let _ = self.append_executor_entry(checkpoint(plugin, target_id, batch.1, batch, now))?;
        }
        Ok(delivery)
    }
}

/// Golem's idempotency key of a batch: a UUIDv5 over the source agent, the
/// installation and the batch's bounds, so a batch sent again after a crash
/// carries the same key (golem-worker-executor/src/services/oplog/plugin.rs,
/// `oplog_processor_idempotency_key`).
pub(crate) fn batch_key(source: &AgentId, grant: &EnvironmentPluginGrantId, batch: (u64, u64)) -> String {
    const NAMESPACE: uuid::Uuid = uuid::uuid!("A7E3F1B2-8C4D-5E6F-9A0B-1C2D3E4F5A6B");
    let bytes = |u| crate::ids::u128_from_uuid(u).to_be_bytes();
    let name = source.agent_id.as_bytes();
    let mut buf = Vec::with_capacity(64 + name.len());
    buf.extend_from_slice(b"oplog-proc-v1\0");
    buf.extend_from_slice(&bytes(&source.component_id.uuid));
    buf.extend_from_slice(&u32::try_from(name.len()).unwrap_or(u32::MAX).to_be_bytes());
    buf.extend_from_slice(name);
    buf.extend_from_slice(&bytes(&grant.uuid));
    buf.extend_from_slice(&batch.0.to_be_bytes());
    buf.extend_from_slice(&batch.1.to_be_bytes());
    uuid::Uuid::new_v5(&NAMESPACE, &buf).to_string()
}

/// The id of agent `agent` of this environment, with its component.
fn target_agent_id(shared: &Shared, agent: &str) -> AgentId {
    let component_id = shared.registry().record(agent).map_or(0, |r| r.component_id);
    AgentId { component_id: ComponentId { uuid: uuid_from_u128(component_id) }, agent_id: agent.to_string() }
}
