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
//! Delivery, as a Golem 1.5 executor does it
//! (golem-worker-executor/src/services/oplog/plugin.rs at v1.5.9):
//!
//! - *When*: every [`PluginSettings::max_commit_count`] commits of an
//!   agent's oplog, inside the commit (so mid-invocation), and on each tick
//!   of the flush timer ([`Agent::flush_plugins`](crate::Agent::flush_plugins),
//!   [`Environment::flush_plugins`]).
//! - *What*: per active plugin (and per deactivated one with a batch in
//!   flight), one batch from the entry after the last confirmed one to the
//!   committed tail; a batch in flight is sent again with the same range.
//! - *Checkpoints*, in the agent's own oplog: one naming the plugin worker,
//!   one announcing a batch, one confirming it once it is enqueued.
//! - *Enqueued is confirmed*: the batch becomes a `pending-agent-invocation`
//!   in the plugin worker's oplog under Golem's idempotency key (never
//!   enqueued twice), and the worker runs its queue. A `process` that answers
//!   an error is reported ([`PluginEvent::BatchRefused`]) and its batch is
//!   done; a trap restarts the worker with backoff and runs the batch again.

mod delivery;
pub mod directory;
mod forwarding;
mod metrics;

use std::collections::BTreeMap;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

pub use delivery::worker_id;
pub use directory::{
    LoadedPlugin, ManifestOutcome, ManifestReport, PluginDirectory, WatchedPluginDirectory, content_hash,
};
pub(crate) use forwarding::Forwarder;
pub use metrics::{PluginEvent, PluginMetrics, prometheus_text};

use crate::bindings::golem::api::oplog::{EnvironmentPluginGrantId, PluginInstallationDescription};
use crate::environment::Environment;
use crate::error::Error;
pub use crate::ids::PROCESSOR_INTERFACE;
use crate::ids::uuid_from_u128;
use crate::journal::seed_from;
use crate::runtime::{AgentHandle, LoadedComponent, ProcessBatch};

/// How the plugin host runs plugins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PluginSettings {
    /// Instances per installation; each agent is served by one of them
    /// (chosen by its id), so different agents are served in parallel.
    pub instances: usize,
    /// Commits of an agent after which its committed entries are sent on
    /// (Golem's `oplog.plugin_max_commit_count`).
    pub max_commit_count: usize,
    /// How often `reprise plugins --serve` sends on what agents committed
    /// since (Golem's `oplog.plugin_max_elapsed_time`); in tests,
    /// [`Agent::flush_plugins`](crate::Agent::flush_plugins) and
    /// [`Environment::flush_plugins`] are that timer.
    pub flush_interval: Duration,
    /// Wait before restarting an instance that trapped; doubled for each
    /// further trap in a row.
    pub backoff: Duration,
    /// Longest wait between restarts.
    pub max_backoff: Duration,
    /// Restarts in a row before the instance is given up.
    pub max_restarts: u32,
}

impl Default for PluginSettings {
    fn default() -> Self {
        PluginSettings {
            instances: 1,
            max_commit_count: 3,
            flush_interval: Duration::from_secs(5),
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            max_restarts: 10,
        }
    }
}

impl PluginSettings {
    /// The wait after the `failures`-th trap in a row.
    pub fn backoff_after(&self, failures: u32) -> Duration {
        let factor = 1u32.checked_shl(failures.saturating_sub(1)).unwrap_or(u32::MAX);
        self.backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

#[derive(Clone)]
struct Definition {
    description: String,
    component: LoadedComponent,
    /// Parameters installations start from.
    config: BTreeMap<String, String>,
}

/// One instance of an installation.
#[derive(Clone)]
pub(crate) struct Slot {
    pub(crate) worker: AgentHandle,
    /// Traps in a row.
    pub(crate) failures: u32,
    /// When a trapped instance may be restarted.
    pub(crate) retry_at: Option<Instant>,
    /// Restarted too often in a row: no longer served.
    pub(crate) given_up: bool,
}

/// One installation of a plugin to a component: its instances, started on
/// first delivery.
#[derive(Clone)]
struct Installation {
    description: PluginInstallationDescription,
    slots: BTreeMap<usize, Slot>,
}

/// The plugins of an environment.
#[derive(Default)]
pub(crate) struct PluginHost {
    definitions: BTreeMap<(String, String), Definition>,
    installations: BTreeMap<(u64, u64), Installation>,
    /// The batches enqueued on plugin workers, by idempotency key (Golem
    /// keeps each as its pending invocation's payload): what a worker's
    /// `process` invocations, live or replayed, are given.
    payloads: BTreeMap<String, std::sync::Arc<ProcessBatch>>,
    settings: PluginSettings,
    metrics: BTreeMap<String, PluginMetrics>,
    subscribers: metrics::Subscribers,
    /// Held while an instance starts, so that two agents needing the same
    /// instance at once do not start it twice.
    starting: std::sync::Arc<std::sync::Mutex<()>>,
}

fn key(grant: &EnvironmentPluginGrantId) -> (u64, u64) {
    (grant.uuid.high_bits, grant.uuid.low_bits)
}

impl PluginHost {
    /// Whether any plugin is installed: agents' oplogs then feed plugin workers.
    pub(crate) fn has_installations(&self) -> bool {
        !self.installations.is_empty()
    }

    /// The same definitions, installations and settings, without instances,
    /// delivered oplogs, counters or subscribers (for a fresh environment).
    pub(crate) fn fresh_copy(&self) -> PluginHost {
        let installations = self
            .installations
            .iter()
            .map(|(k, i)| (*k, Installation { description: i.description.clone(), slots: BTreeMap::new() }))
            .collect();
        PluginHost {
            definitions: self.definitions.clone(),
            installations,
            settings: self.settings,
            ..PluginHost::default()
        }
    }

    /// Every plugin instance, taken out (they hold the environment: see
    /// `Root` in the environment module).
    pub(crate) fn take_instances(&mut self) -> Vec<Slot> {
        self.installations.values_mut().flat_map(|i| std::mem::take(&mut i.slots).into_values()).collect()
    }

    pub(crate) fn installation(&self, grant: &EnvironmentPluginGrantId) -> Option<PluginInstallationDescription> {
        self.installations.get(&key(grant)).map(|i| i.description.clone())
    }

    /// Whether `plugin` is installed and its definition still loaded.
    pub(crate) fn serves(&self, plugin: &PluginInstallationDescription) -> bool {
        self.installations.contains_key(&key(&plugin.environment_plugin_grant_id))
            && self.definitions.contains_key(&(plugin.plugin_name.clone(), plugin.plugin_version.clone()))
    }

    pub(crate) fn payload(&self, batch_key: &str) -> Option<std::sync::Arc<ProcessBatch>> {
        self.payloads.get(batch_key).cloned()
    }

    pub(crate) fn metrics_of(&mut self, plugin: &str) -> &mut PluginMetrics {
        self.metrics.entry(plugin.to_string()).or_default()
    }

    pub(crate) fn emit(&mut self, event: PluginEvent) {
        self.subscribers.emit(&event);
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
        // By exact name and version: wasmtime would also bind a semver-compatible
        // export (1.4.0 for 1.5.0), whose types may differ.
        let exported = component.info().exports.iter().any(|e| e.to_string() == PROCESSOR_INTERFACE);
        if !exported || component.inner.processor.is_none() {
            let exports: Vec<String> = component.info().exports.iter().map(ToString::to_string).collect();
            return Err(Error::Plugin(format!(
                "plugin `{name}` {version}: the component must export `{PROCESSOR_INTERFACE}`, but it exports {}",
                if exports.is_empty() { "no interfaces".to_string() } else { exports.join(", ") }
            )));
        }
        let mut host = self.shared().plugins();
        host.definitions.insert(
            (name.to_string(), version.to_string()),
            Definition { description: description.to_string(), component: component.clone(), config: BTreeMap::new() },
        );
        host.emit(PluginEvent::Registered { name: name.to_string(), version: version.to_string() });
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
        let Some(defaults) =
            shared.plugins().definitions.get(&(name.to_string(), version.to_string())).map(|d| d.config.clone())
        else {
            return Err(Error::Plugin(format!("plugin `{name}` {version} is not defined (see `define_plugin`)")));
        };
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
            parameters: {
                let mut merged = defaults;
                merged.extend(parameters.into_iter().map(|(k, v)| (k.into(), v.into())));
                merged.into_iter().collect()
            },
        };
        shared.plugins().installations.insert(
            key(&description.environment_plugin_grant_id),
            Installation { description: description.clone(), slots: BTreeMap::new() },
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
            .map_or_else(Vec::new, |i| i.slots.values().map(|s| s.worker.clone()).collect())
    }

    /// The ids of the plugin workers started so far.
    pub(crate) fn plugin_worker_ids(&self) -> std::collections::BTreeSet<String> {
        let host = self.shared().plugins();
        host.installations.values().flat_map(|i| i.slots.keys().map(|slot| worker_id(&i.description, *slot))).collect()
    }

    /// How plugins run here (instances, commit count, restart backoff).
    pub fn plugin_settings(&self) -> PluginSettings {
        self.shared().plugins().settings
    }

    /// Change how plugins run; applies to instances started afterwards and
    /// to the next deliveries.
    pub fn set_plugin_settings(&self, settings: PluginSettings) {
        self.shared().plugins().settings = settings;
    }

    /// A tick of Golem's flush timer: every agent the environment holds
    /// sends on what it committed since its last flush (agents a test holds
    /// flush with [`Agent::flush_plugins`](crate::Agent::flush_plugins)),
    /// then every plugin worker runs what waits in its queue (one whose
    /// restart backoff has passed is restarted first). Errors are agents'
    /// failures to recover; the flush goes on with the others and returns
    /// the first.
    pub fn flush_plugins(&self) -> Result<(), Error> {
        let shared = self.shared();
        let workers: Vec<(PluginInstallationDescription, usize)> = {
            let host = shared.plugins();
            host.installations
                .values()
                .flat_map(|i| i.slots.keys().map(|slot| (i.description.clone(), *slot)))
                .collect()
        };
        let names: std::collections::BTreeSet<String> = workers.iter().map(|(p, slot)| worker_id(p, *slot)).collect();
        let mut first_error = None;
        let agents = shared.registry().all_owned();
        for agent in agents {
            if names.contains(agent.id()) {
                continue;
            }
            if let Err(e) = agent.lock().flush_plugins() {
                first_error.get_or_insert(e);
            }
        }
        for (plugin, slot) in workers {
            delivery::run_queue_of(self, &plugin, slot);
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Each plugin's counters, by plugin name.
    pub fn plugin_metrics(&self) -> BTreeMap<String, PluginMetrics> {
        self.shared().plugins().metrics.clone()
    }

    /// The counters in the Prometheus text exposition format.
    pub fn plugin_metrics_prometheus(&self) -> String {
        prometheus_text(&self.shared().plugins().metrics)
    }

    /// Lifecycle events from now on (registered, updated, unregistered,
    /// removed), in order.
    pub fn subscribe_plugin_events(&self) -> Receiver<PluginEvent> {
        self.shared().plugins().subscribers.subscribe()
    }
}
