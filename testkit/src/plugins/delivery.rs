//! The plugin side of delivery: plugin workers, the batches enqueued on
//! them and run from their queues, restarts with backoff.

use std::sync::Arc;
use std::time::Instant;

use super::{PluginEvent, Slot, key};
use crate::bindings::golem::api::oplog::{
    AgentInvocation, AgentInvocationStartedParameters, EnvironmentPluginGrantId, JumpParameters, OplogRegion,
    PendingAgentInvocationParameters, PluginInstallationDescription, ProcessOplogEntriesParameters,
};
use crate::bindings::golem::core::types::{AgentId, ComponentId};
use crate::environment::{Environment, Shared};
use crate::error::Error;
use crate::ids::uuid_from_u128;
use crate::journal::{Journal, seed_from};
use crate::oplog::{OplogEntry, to_raw};
use crate::runtime::{Agent, AgentHandle, NewAgent, ProcessBatch};

thread_local! {
    /// Set while this thread runs a plugin worker (its queue, or a restart
    /// replaying it). A plugin's `process` that calls an agent whose flush
    /// comes back to the plugin host must not wait on a lock this thread
    /// already holds: such nested deliveries take a worker only if it is
    /// free, and otherwise leave their batch in flight for the next flush.
    static IN_WORKER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks this thread as running a plugin worker until dropped.
struct InWorker(bool);

impl InWorker {
    fn enter() -> InWorker {
        InWorker(IN_WORKER.with(|w| w.replace(true)))
    }
}

impl Drop for InWorker {
    fn drop(&mut self) {
        let outer = self.0;
        IN_WORKER.with(|w| w.set(outer));
    }
}

fn nested() -> bool {
    IN_WORKER.with(std::cell::Cell::get)
}

/// The worker's lock: waited for (other agents running meanwhile), or only
/// taken if free when nested.
fn lock_worker(worker: &AgentHandle) -> Option<std::sync::MutexGuard<'_, Agent>> {
    if nested() { worker.try_lock() } else { worker.lock_taking_turns().ok() }
}

/// The id of instance `n` (from 0) of a plugin installation: a plain
/// worker, reachable with [`Environment::agent_handle`] and crashable with
/// [`Environment::schedule_crashes`] like any environment-owned agent.
pub fn worker_id(installation: &PluginInstallationDescription, n: usize) -> String {
    let grant = installation.environment_plugin_grant_id.uuid;
    format!("{}@{}[{:08x}]#{n}", installation.plugin_name, installation.plugin_version, grant.high_bits >> 32)
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

/// Instance `slot_index` of an installation: started if needed, restarted
/// if it trapped and its backoff has passed; `None` while it waits (or was
/// given up).
fn ready_worker(env: &Environment, plugin: &PluginInstallationDescription, slot_index: usize) -> Option<AgentHandle> {
    let shared = env.shared();
    let grant = key(&plugin.environment_plugin_grant_id);
    let starting = shared.plugins().starting.clone();
    let _one_start_at_a_time = if nested() {
        match starting.try_lock() {
            Ok(guard) => guard,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return None,
        }
    } else {
        crate::sync::lock(&starting)
    };
    let slot = {
        let host = shared.plugins();
        // A removed plugin is served no more.
        if !host.definitions.contains_key(&(plugin.plugin_name.clone(), plugin.plugin_version.clone())) {
            return None;
        }
        host.installations.get(&grant)?.slots.get(&slot_index).cloned()
    };
    let restart_from = match &slot {
        None => None,
        Some(s) if s.given_up => return None,
        Some(s) if s.retry_at.is_some_and(|at| Instant::now() < at) => return None,
        Some(s) if s.retry_at.is_some() => Some(s.worker.clone()),
        Some(s) => return Some(s.worker.clone()),
    };
    // A restart replays the worker, running guest code.
    let _running = InWorker::enter();
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
            Some(worker)
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

/// The plugin worker a source agent's batches go to: one of the
/// installation's instances, chosen by the source's id.
pub(crate) fn resolve_target(
    env: &Environment,
    plugin: &PluginInstallationDescription,
    source: &str,
) -> Option<AgentId> {
    let host = env.shared().plugins();
    let definition = host.definitions.get(&(plugin.plugin_name.clone(), plugin.plugin_version.clone()))?;
    let instances = host.settings.instances.max(1);
    let slot = (seed_from(&[source.as_bytes()]) % instances as u64) as usize;
    Some(AgentId {
        component_id: ComponentId { uuid: uuid_from_u128(definition.component.inner.id) },
        agent_id: worker_id(plugin, slot),
    })
}

/// The instance number in a plugin worker's id.
fn slot_of(target: &AgentId) -> Option<usize> {
    target.agent_id.rsplit_once('#').and_then(|(_, n)| n.parse().ok())
}

/// Enqueue a batch on plugin worker `target`: a committed
/// `pending-agent-invocation` entry in its oplog, keyed by Golem's batch
/// key. A batch already enqueued under its key (sent again after a crash
/// of the source) is not enqueued twice. `Err` when the worker cannot take
/// it now (it waits to restart, or was given up).
pub(crate) fn enqueue(
    env: &Environment,
    plugin: &PluginInstallationDescription,
    target: &AgentId,
    source: &AgentId,
    first_index: u64,
    entries: Vec<OplogEntry>,
) -> Result<(), String> {
    let last_index = first_index + entries.len() as u64 - 1;
    let batch_key = batch_key(source, &plugin.environment_plugin_grant_id, (first_index, last_index));
    let slot = slot_of(target).ok_or_else(|| format!("`{}` is not a plugin worker of this host", target.agent_id))?;
    let Some(worker) = ready_worker(env, plugin, slot) else {
        return Err(format!(
            "plugin worker `{}` is not running (it trapped, and waits to restart or was given up)",
            target.agent_id
        ));
    };
    let shared = env.shared();
    let metadata = match shared.registry().record(&source.agent_id) {
        Some(record) => record.metadata(shared.world.seed),
        None => return Err(format!("agent `{}` is not known to the environment", source.agent_id)),
    };
    let Some(mut agent) = lock_worker(&worker) else {
        return Err(format!("plugin worker `{}` is busy with a batch that led here", target.agent_id));
    };
    if agent.oplog().entries().iter().any(|e| invocation_key(e) == Some(batch_key.as_str())) {
        return Ok(());
    }
    let batch = ProcessBatch {
        config: plugin.parameters.clone(),
        agent_id: source.clone(),
        metadata,
        first_index,
        entries: entries.iter().map(to_raw).collect(),
    };
    shared.plugins().payloads.insert(batch_key.clone(), Arc::new(batch));
    let timestamp = agent.now();
    let pending = OplogEntry::PendingAgentInvocation(PendingAgentInvocationParameters {
        timestamp,
        invocation: AgentInvocation::ProcessOplogEntries(ProcessOplogEntriesParameters { idempotency_key: batch_key }),
    });
    match agent.append_executor_entry(pending) {
        // Committed with it: a crash right after keeps it.
        Ok(_) => Ok(()),
        Err(e) => {
            drop(agent);
            failed(shared, plugin, slot, &worker, &e);
            Err(e.to_string())
        }
    }
}

/// The key of a pending or started `process` invocation.
fn invocation_key(entry: &OplogEntry) -> Option<&str> {
    match entry {
        OplogEntry::PendingAgentInvocation(PendingAgentInvocationParameters {
            invocation: AgentInvocation::ProcessOplogEntries(p),
            ..
        })
        | OplogEntry::AgentInvocationStarted(AgentInvocationStartedParameters {
            invocation: AgentInvocation::ProcessOplogEntries(p),
            ..
        }) => Some(&p.idempotency_key),
        _ => None,
    }
}

/// The enqueued `process` invocations a worker has not finished, in order.
fn unfinished(entries: &[OplogEntry]) -> Vec<String> {
    let mut pending = Vec::new();
    let mut running: Option<&str> = None;
    let mut finished = std::collections::BTreeSet::new();
    for entry in entries {
        match entry {
            OplogEntry::PendingAgentInvocation(_) => pending.extend(invocation_key(entry).map(str::to_string)),
            OplogEntry::AgentInvocationStarted(_) => running = invocation_key(entry),
            OplogEntry::AgentInvocationFinished(_) => {
                finished.extend(running.take().map(str::to_string));
            }
            _ => {}
        }
    }
    pending.retain(|k| !finished.contains(k));
    pending
}

/// Let plugin worker `target` run the invocations in its queue, in order.
/// A trap stops it (restarted later, with backoff); an error the plugin
/// answers is reported, and its batch is done all the same.
pub(crate) fn run_queue(env: &Environment, plugin: &PluginInstallationDescription, target: &AgentId) {
    if let Some(slot) = slot_of(target) {
        run_queue_of(env, plugin, slot);
    }
}

/// [`run_queue`] of the installation's instance `slot`.
pub(crate) fn run_queue_of(env: &Environment, plugin: &PluginInstallationDescription, slot: usize) {
    let Some(worker) = ready_worker(env, plugin, slot) else { return };
    let shared = env.shared();
    // One invocation at a time per worker: sources flushing on other
    // threads wait their turn.
    let Some(mut agent) = lock_worker(&worker) else { return };
    let _running = InWorker::enter();
    let crashes_before = agent.crashes_fired().len();
    let mut outcome = Ok(());
    // Bounded: each round finishes an invocation or stops.
    for _ in 0..=unfinished(agent.oplog().entries()).len() {
        let Some(batch_key) = unfinished(agent.oplog().entries()).into_iter().next() else { break };
        let batch = shared.plugins().payloads.get(&batch_key).cloned();
        let entries = batch.as_ref().map_or(0, |b| b.entries.len() as u64);
        match agent.process_batch(batch_key) {
            Ok(Ok(())) => shared.plugins().metrics_of(&plugin.plugin_name).entries_delivered += entries,
            Ok(Err(error)) => {
                let mut host = shared.plugins();
                host.metrics_of(&plugin.plugin_name).batches_refused += 1;
                if let Some(batch) = batch {
                    host.emit(PluginEvent::BatchRefused {
                        name: plugin.plugin_name.clone(),
                        version: plugin.plugin_version.clone(),
                        agent: batch.agent_id.agent_id.clone(),
                        range: (batch.first_index, batch.first_index + entries - 1),
                        error,
                    });
                }
            }
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    let injected = (agent.crashes_fired().len() - crashes_before) as u64;
    drop(agent);
    shared.plugins().metrics_of(&plugin.plugin_name).crashes += injected;
    match outcome {
        Ok(()) => {
            let grant = key(&plugin.environment_plugin_grant_id);
            let mut host = shared.plugins();
            if let Some(s) = host.installations.get_mut(&grant).and_then(|i| i.slots.get_mut(&slot)) {
                s.failures = 0;
            }
        }
        Err(e) => failed(shared, plugin, slot, &worker, &e),
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
