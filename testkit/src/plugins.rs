//! Oplog-processor plugins, as a Golem 1.5 executor runs them.
//!
//! ```no_run
//! use reprise_testkit::{Environment, value::Value};
//!
//! let env = Environment::new()?;
//! let shop = env.load("shop.wasm")?;
//! env.define_plugin("auditor", "1.0.0", "writes every entry to a bucket", &env.load("auditor.wasm")?)?;
//! // Installing makes a new revision of the component, as in Golem.
//! let audited = env.install_plugin(&shop, "auditor", "1.0.0", [("bucket", "audit")])?;
//! let mut cart = env.create_agent(&audited, "Cart", &[Value::string("alice")])?;
//! cart.invoke("add", &[Value::string("apple")])?; // its entries reach the plugin
//! # Ok::<(), reprise_testkit::Error>(())
//! ```
//!
//! A plugin is *defined* (name, version, component, checked to export
//! `golem:api/oplog-processor@1.5.0`), *installed* to a component with its
//! own configuration (a new revision), and active on the agents of that
//! revision, or activated and deactivated on a running agent
//! ([`Agent::activate_plugin`](crate::Agent::activate_plugin)).
//!
//! Delivery: after each invocation of an agent, the entries it has not yet
//! delivered go to every plugin active on it, in order, in batches of at most
//! [`PLUGIN_BATCH_SIZE`] entries, starting with the agent's first entry. Each
//! plugin instance is a durable worker with its own oplog: before a batch it
//! records an `oplog-processor-checkpoint` entry (the batch's bounds), then the
//! `process` invocation, then a checkpoint confirming the batch. Progress is
//! read back from that oplog, so after a crash of the agent, of the plugin, or
//! of both, an interrupted batch is completed (by the plugin's recovery) or
//! sent again with the same bounds, and nothing is delivered twice. On replay
//! the plugin gets each batch rebuilt from the checkpoint and the agent's
//! oplog, as Golem rebuilds it.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::agent::{Agent, AgentHandle, NewAgent};
use crate::environment::{Environment, LoadedComponent, Shared};
use crate::error::Error;
use crate::host::bindings::golem::api::oplog::{
    AgentInvocationResult, EnvironmentPluginGrantId, OplogProcessorCheckpointParameters, PluginInstallationDescription,
};
use crate::host::golem_host::uuid_from_u128;
use crate::host::journal::seed_from;
use crate::oplog::OplogEntry;

/// Most entries in one batch.
pub const PLUGIN_BATCH_SIZE: u64 = 16;

/// The oplog-processor interface a plugin component must export.
pub const PROCESSOR_INTERFACE: &str = "golem:api/oplog-processor@1.5.0";

#[derive(Clone)]
struct Definition {
    description: String,
    component: LoadedComponent,
}

/// One installation of a plugin to a component: its workers, created on
/// first delivery.
#[derive(Clone)]
struct Installation {
    description: PluginInstallationDescription,
    workers: Vec<AgentHandle>,
}

/// The plugins of an environment.
#[derive(Default, Clone)]
pub(crate) struct PluginHost {
    definitions: BTreeMap<(String, String), Definition>,
    installations: BTreeMap<(u64, u64), Installation>,
    /// Copies of the oplogs delivered so far, by agent id: what plugin
    /// recovery rebuilds batches from.
    sources: BTreeMap<String, Vec<OplogEntry>>,
    /// Instances per installation.
    instances: usize,
}

fn key(grant: &EnvironmentPluginGrantId) -> (u64, u64) {
    (grant.uuid.high_bits, grant.uuid.low_bits)
}

impl PluginHost {
    /// The same definitions and installations, without workers or delivered
    /// oplogs (for a fresh environment).
    pub(crate) fn fresh_copy(&self) -> PluginHost {
        let installations = self
            .installations
            .iter()
            .map(|(k, i)| (*k, Installation { description: i.description.clone(), workers: Vec::new() }))
            .collect();
        PluginHost {
            definitions: self.definitions.clone(),
            installations,
            sources: BTreeMap::new(),
            instances: self.instances,
        }
    }

    pub(crate) fn installation(&self, grant: &EnvironmentPluginGrantId) -> Option<PluginInstallationDescription> {
        self.installations.get(&key(grant)).map(|i| i.description.clone())
    }

    pub(crate) fn source(&self, agent: &str, from: u64, to: u64) -> Option<Vec<OplogEntry>> {
        let entries = self.sources.get(agent)?;
        let (from, to) = (usize::try_from(from).ok()?, usize::try_from(to).ok()?);
        (from >= 1 && to <= entries.len() && from <= to).then(|| entries[from - 1..to].to_vec())
    }
}

impl Environment {
    /// Define plugin `name` at `version`, implemented by `component`, which
    /// must export `golem:api/oplog-processor@1.5.0` (the handshake: anything
    /// else is refused, naming what it exports instead).
    pub fn define_plugin(
        &self,
        name: &str,
        version: &str,
        description: &str,
        component: &LoadedComponent,
    ) -> Result<(), Error> {
        if component.inner.processor.is_none() {
            let exports: Vec<String> = component.info().exports.iter().map(ToString::to_string).collect();
            return Err(Error::Plugin(format!(
                "plugin `{name}` {version}: the component must export `{PROCESSOR_INTERFACE}`, but it exports {}",
                if exports.is_empty() { "no interfaces".to_string() } else { exports.join(", ") }
            )));
        }
        self.shared().plugins().definitions.insert(
            (name.to_string(), version.to_string()),
            Definition { description: description.to_string(), component: component.clone() },
        );
        Ok(())
    }

    /// Install plugin `name` `version` to `component` with its configuration:
    /// returns the new revision that has it installed (agents on it have the
    /// plugin active from their creation; agents updated to it activate it).
    pub fn install_plugin<K: Into<String>, V: Into<String>>(
        &self,
        component: &LoadedComponent,
        name: &str,
        version: &str,
        parameters: impl IntoIterator<Item = (K, V)>,
    ) -> Result<LoadedComponent, Error> {
        let shared = self.shared();
        if !shared.plugins().definitions.contains_key(&(name.to_string(), version.to_string())) {
            return Err(Error::Plugin(format!("plugin `{name}` {version} is not defined (see `define_plugin`)")));
        }
        if component.plugin(name).is_some() {
            return Err(Error::Plugin(format!(
                "plugin `{name}` is already installed to revision {} of this component",
                component.revision()
            )));
        }
        let grant = seed_from(&[name.as_bytes(), version.as_bytes(), &component.inner.id.to_le_bytes()]);
        let description = PluginInstallationDescription {
            environment_plugin_grant_id: EnvironmentPluginGrantId {
                uuid: uuid_from_u128(u128::from(grant) << 64 | u128::from(component.revision())),
            },
            plugin_priority: component.plugins().len() as i32,
            plugin_name: name.to_string(),
            plugin_version: version.to_string(),
            parameters: parameters.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
        };
        shared.plugins().installations.insert(
            key(&description.environment_plugin_grant_id),
            Installation { description: description.clone(), workers: Vec::new() },
        );
        let mut plugins = component.plugins().to_vec();
        plugins.push(description);
        Ok(self.add_revision(component, component, plugins))
    }

    /// A new revision of `component` without plugin `name`.
    pub fn uninstall_plugin(&self, component: &LoadedComponent, name: &str) -> Result<LoadedComponent, Error> {
        if component.plugin(name).is_none() {
            return Err(Error::Plugin(format!(
                "plugin `{name}` is not installed to revision {} of this component",
                component.revision()
            )));
        }
        let plugins = component.plugins().iter().filter(|p| p.plugin_name != name).cloned().collect();
        Ok(self.add_revision(component, component, plugins))
    }

    /// The plugins defined in this environment: name, version, description.
    pub fn plugin_definitions(&self) -> Vec<(String, String, String)> {
        let host = self.shared().plugins();
        host.definitions.iter().map(|((n, v), d)| (n.clone(), v.clone(), d.description.clone())).collect()
    }

    /// The instances of a plugin installation (each a durable worker with
    /// its own oplog), once delivery has started them.
    pub fn plugin_workers(&self, installation: &PluginInstallationDescription) -> Vec<AgentHandle> {
        let host = self.shared().plugins();
        host.installations
            .get(&key(&installation.environment_plugin_grant_id))
            .map_or_else(Vec::new, |i| i.workers.clone())
    }
}

/// The id of instance `n` (from 0) of a plugin installation: a plain
/// worker, reachable with [`Environment::agent_handle`] and crashable with
/// [`Environment::schedule_crashes`] like any environment-owned agent.
pub fn worker_id(installation: &PluginInstallationDescription, n: usize) -> String {
    let grant = installation.environment_plugin_grant_id.uuid;
    format!("{}@{}[{:08x}]#{n}", installation.plugin_name, installation.plugin_version, grant.high_bits >> 32)
}

/// The plugins active on an agent, from its oplog: those it was created
/// with, then activations, deactivations and updates in order.
pub(crate) fn active_plugins(entries: &[OplogEntry]) -> Vec<PluginInstallationDescription> {
    let mut active: Vec<PluginInstallationDescription> = Vec::new();
    for entry in entries {
        match entry {
            OplogEntry::Create(p) => active = p.initial_active_plugins.clone(),
            OplogEntry::SuccessfulUpdate(p) => active = p.new_active_plugins.clone(),
            OplogEntry::ActivatePlugin(p)
                if !active.iter().any(|a| a.environment_plugin_grant_id == p.plugin.environment_plugin_grant_id) =>
            {
                active.push(p.plugin.clone());
            }
            OplogEntry::DeactivatePlugin(p) => {
                active.retain(|a| a.environment_plugin_grant_id != p.plugin.environment_plugin_grant_id)
            }
            _ => {}
        }
    }
    active
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
            OplogEntry::AgentInvocationFinished(p) if current => {
                if let (AgentInvocationResult::ProcessOplogEntries(r), Some((_, end))) = (&p.result, progress.in_flight)
                    && r.error.is_none()
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
    target: &crate::host::bindings::golem::core::types::AgentId,
    confirmed_up_to: u64,
    batch: (u64, u64),
    timestamp: crate::host::bindings::wasi::clocks::wall_clock::Datetime,
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

/// The worker serving `source` for an installation, created if needed.
fn worker_for(
    shared: &Arc<Shared>,
    plugin: &PluginInstallationDescription,
    source: &str,
) -> Result<AgentHandle, Error> {
    let grant = key(&plugin.environment_plugin_grant_id);
    let (definition, existing, instances) = {
        let host = shared.plugins();
        let definition =
            host.definitions.get(&(plugin.plugin_name.clone(), plugin.plugin_version.clone())).cloned().ok_or_else(
                || Error::Plugin(format!("plugin `{}` {} is not defined", plugin.plugin_name, plugin.plugin_version)),
            )?;
        let workers = host.installations.get(&grant).map(|i| i.workers.clone()).unwrap_or_default();
        (definition, workers, host.instances.max(1))
    };
    let slot = (seed_from(&[source.as_bytes()]) % instances as u64) as usize;
    if let Some(worker) = existing.get(slot) {
        return Ok(worker.clone());
    }
    let mut workers = existing;
    while workers.len() <= slot {
        let name = worker_id(plugin, workers.len());
        let env = Environment::unrooted(shared.clone());
        let new = NewAgent { plain: true, env_owned: true, ..NewAgent::agent(&name, &[]) };
        let agent = Agent::create(env, definition.component.clone(), new)?;
        let handle = AgentHandle::new(agent);
        shared.owned().insert(name, handle.clone());
        workers.push(handle);
    }
    if let Some(installation) = shared.plugins().installations.get_mut(&grant) {
        installation.workers = workers.clone();
    }
    Ok(workers[slot].clone())
}

/// Deliver what `source` has not delivered yet to every plugin active on
/// it. Failures stay with the plugin (counted, retried on the next
/// delivery); the agent carries on.
pub(crate) fn deliver(source: &mut Agent) {
    let entries = source.oplog().entries().to_vec();
    let active = active_plugins(&entries);
    if active.is_empty() {
        return;
    }
    let shared = source.shared().clone();
    let id = source.id().to_string();
    shared.plugins().sources.insert(id.clone(), entries.clone());
    for plugin in &active {
        let Ok(worker) = worker_for(&shared, plugin, &id) else { continue };
        // A worker a test holds is skipped now and served on the next delivery.
        let Some(mut worker) = worker.try_lock() else { continue };
        let _ = worker.process_agent(plugin, &id, entries.len() as u64);
    }
}

impl Agent {
    /// As a plugin worker, send `target`'s entries up to `available` in batches.
    fn process_agent(
        &mut self,
        plugin: &PluginInstallationDescription,
        target: &str,
        available: u64,
    ) -> Result<(), Error> {
        let grant = plugin.environment_plugin_grant_id;
        // Bounded: each round sends or completes a batch, or stops.
        for _ in 0..available + 2 {
            self.ensure_live()?;
            let progress = progress(self.oplog().entries(), &grant, target);
            let batch = match progress.in_flight {
                Some(batch) => batch,
                None if progress.confirmed < available => {
                    let start = progress.confirmed + 1;
                    (start, available.min(progress.confirmed + PLUGIN_BATCH_SIZE))
                }
                None => return Ok(()),
            };
            let target_id = self.target_agent_id(target);
            if progress.in_flight.is_none() {
                let now = self.now();
                if !self.append_executor_entry(checkpoint(plugin, &target_id, progress.confirmed, batch, now))? {
                    continue; // crashed right after: recover and look again
                }
            }
            let key = format!("{target}:{}-{}", batch.0, batch.1);
            match self.process_batch(plugin, &target_id, batch, key)? {
                Ok(()) => {
                    let now = self.now();
                    // A crash right after is harmless: the batch is confirmed by its finished invocation.
                    let _ = self.append_executor_entry(checkpoint(plugin, &target_id, batch.1, batch, now))?;
                }
                Err(_) => return Ok(()), // the plugin refused the batch: sent again next time
            }
        }
        Ok(())
    }
}
