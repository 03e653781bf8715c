//! Plugins discovered from a directory of manifests, updated when their
//! component files change and removed when they are deleted.
//!
//! A manifest is a JSON file, either `DIR/<any>.json` or
//! `DIR/<any>/plugin.json`:
//!
//! ```json
//! {
//!   "name": "jsonl",
//!   "version": "1.0.0",
//!   "description": "every entry as a JSON line",
//!   "component": "jsonl.wasm",
//!   "config": { "bucket": "audit" }
//! }
//! ```
//!
//! `component` is relative to the manifest's folder; `config` holds the
//! parameters installations start from (optional, as is `description`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::PluginEvent;
use crate::environment::Environment;
use crate::error::Error;
use crate::runtime::LoadedComponent;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    name: String,
    version: String,
    #[serde(default)]
    description: String,
    component: PathBuf,
    #[serde(default)]
    config: BTreeMap<String, String>,
}

/// What became of one manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestOutcome {
    /// The plugin was defined from it.
    Loaded {
        /// Plugin name.
        name: String,
        /// Plugin version.
        version: String,
        /// SHA-256 of the component, hex.
        hash: String,
    },
    /// Its component changed: the plugin runs the new code.
    Updated {
        /// Plugin name.
        name: String,
        /// Plugin version.
        version: String,
        /// SHA-256 of the new component, hex.
        hash: String,
    },
    /// It (or its component) was deleted: the plugin is gone.
    Removed {
        /// Plugin name.
        name: String,
        /// Plugin version.
        version: String,
    },
    /// It could not be used; other manifests are not affected.
    Rejected {
        /// Why, in one line.
        reason: String,
    },
}

/// One manifest and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestReport {
    /// The manifest file.
    pub manifest: PathBuf,
    /// What became of it.
    pub outcome: ManifestOutcome,
}

impl std::fmt::Display for ManifestReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.manifest.display();
        match &self.outcome {
            ManifestOutcome::Loaded { name, version, hash } => write!(f, "{path}: loaded {name} {version} ({hash})"),
            ManifestOutcome::Updated { name, version, hash } => write!(f, "{path}: updated {name} {version} ({hash})"),
            ManifestOutcome::Removed { name, version } => write!(f, "{path}: removed {name} {version}"),
            ManifestOutcome::Rejected { reason } => write!(f, "{path}: rejected: {reason}"),
        }
    }
}

/// A plugin loaded from a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedPlugin {
    /// Plugin name.
    pub name: String,
    /// Plugin version.
    pub version: String,
    /// Its component file.
    pub component: PathBuf,
    /// SHA-256 of the component as loaded, hex.
    pub hash: String,
}

/// The plugins of a directory, as last scanned.
#[derive(Debug)]
pub struct PluginDirectory {
    env: Environment,
    dir: PathBuf,
    known: BTreeMap<PathBuf, LoadedPlugin>,
}

/// SHA-256 of `bytes`, hex.
pub fn content_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl Environment {
    /// Define the plugins described by the manifests in `dir` (see
    /// [`plugins::directory`](crate::plugins::directory)). A manifest that is
    /// malformed, names a missing file, or a component that fails the
    /// handshake is reported and skipped; the others load. Fails only when
    /// `dir` cannot be read.
    pub fn load_plugin_directory(
        &self,
        dir: impl AsRef<Path>,
    ) -> Result<(PluginDirectory, Vec<ManifestReport>), Error> {
        let mut directory = PluginDirectory { env: self.clone(), dir: dir.as_ref().to_owned(), known: BTreeMap::new() };
        let reports = directory.rescan()?;
        Ok((directory, reports))
    }
}

impl PluginDirectory {
    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The loaded plugins, by manifest.
    pub fn plugins(&self) -> &BTreeMap<PathBuf, LoadedPlugin> {
        &self.known
    }

    /// Look at the directory again: load new manifests, update plugins whose
    /// component changed (each instance finishes the batch it is processing
    /// first), remove those whose manifest or component was deleted. Returns
    /// what changed (rejections are reported on every scan).
    pub fn rescan(&mut self) -> Result<Vec<ManifestReport>, Error> {
        let manifests = manifests_in(&self.dir)?;
        let mut reports = Vec::new();
        let gone: Vec<PathBuf> = self.known.keys().filter(|m| !manifests.contains(m)).cloned().collect();
        for manifest in gone {
            if let Some(known) = self.known.remove(&manifest) {
                reports.push(self.remove(manifest, &known));
            }
        }
        for manifest in manifests {
            if let Some(report) = self.scan_one(&manifest) {
                reports.push(report);
            }
        }
        Ok(reports)
    }

    fn remove(&self, manifest: PathBuf, known: &LoadedPlugin) -> ManifestReport {
        self.env.remove_plugin(&known.name, &known.version);
        ManifestReport {
            manifest,
            outcome: ManifestOutcome::Removed { name: known.name.clone(), version: known.version.clone() },
        }
    }

    /// What changed about one manifest, if anything.
    fn scan_one(&mut self, manifest: &Path) -> Option<ManifestReport> {
        let report = |outcome| Some(ManifestReport { manifest: manifest.to_owned(), outcome });
        let parsed = read_manifest(manifest, &self.dir);
        let (parsed, bytes, component_path) = match parsed {
            Ok(ok) => ok,
            Err(reason) => {
                // A plugin whose component disappeared is removed, not just rejected.
                if let Some(known) = self.known.remove(manifest) {
                    return Some(self.remove(manifest.to_owned(), &known));
                }
                return report(ManifestOutcome::Rejected { reason });
            }
        };
        let hash = content_hash(&bytes);
        if let Some(known) = self.known.get(manifest) {
            if known.hash == hash && known.name == parsed.name && known.version == parsed.version {
                return None;
            }
            if known.name == parsed.name && known.version == parsed.version {
                return match self.env.load_bytes(&bytes) {
                    Ok(code) => {
                        if let Err(e) = self.env.update_plugin_code(&parsed.name, &parsed.version, &code, &hash) {
                            return report(ManifestOutcome::Rejected { reason: e.to_string() });
                        }
                        let known = self.known.get_mut(manifest)?;
                        known.hash = hash.clone();
                        report(ManifestOutcome::Updated { name: parsed.name, version: parsed.version, hash })
                    }
                    Err(e) => report(ManifestOutcome::Rejected {
                        reason: format!("the new `{}` cannot be loaded: {e}", component_path.display()),
                    }),
                };
            }
            // Renamed or re-versioned: the old plugin goes, the new one comes.
            let old = self.known.remove(manifest)?;
            self.remove(manifest.to_owned(), &old);
        }
        let loaded = self.env.load_bytes(&bytes).map_err(|e| format!("`{}`: {e}", component_path.display()));
        let defined = loaded.and_then(|component| {
            self.env
                .define_plugin_with_config(
                    &parsed.name,
                    &parsed.version,
                    &parsed.description,
                    &component,
                    parsed.config,
                )
                .map_err(|e| e.to_string())
        });
        match defined {
            Ok(()) => {
                let known = LoadedPlugin {
                    name: parsed.name.clone(),
                    version: parsed.version.clone(),
                    component: component_path,
                    hash: hash.clone(),
                };
                self.known.insert(manifest.to_owned(), known);
                report(ManifestOutcome::Loaded { name: parsed.name, version: parsed.version, hash })
            }
            Err(reason) => report(ManifestOutcome::Rejected { reason }),
        }
    }
}

/// The manifest files of `dir`, sorted.
fn manifests_in(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let unreadable =
        |e: std::io::Error| Error::Plugin(format!("cannot read plugin directory `{}`: {e}", dir.display()));
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        if path.is_dir() {
            let manifest = path.join("plugin.json");
            if manifest.is_file() {
                found.push(manifest);
            }
        } else if path.extension().is_some_and(|e| e == "json") {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// Read and check a manifest; returns it with its component's bytes and path.
/// The component must be a file inside the plugin folder `root`: a manifest
/// cannot make the host read (and report on) files elsewhere.
fn read_manifest(manifest: &Path, root: &Path) -> Result<(Manifest, Vec<u8>, PathBuf), String> {
    let text = std::fs::read_to_string(manifest).map_err(|e| format!("cannot be read: {e}"))?;
    let parsed: Manifest = serde_json::from_str(&text).map_err(|e| format!("not a plugin manifest: {e}"))?;
    if parsed.name.trim().is_empty() || parsed.version.trim().is_empty() {
        return Err("`name` and `version` must not be empty".into());
    }
    let component = manifest.parent().unwrap_or(Path::new(".")).join(&parsed.component);
    let named = parsed.component.display().to_string();
    let outside = || format!("its component `{named}` is not a file in the plugin folder");
    let unreadable = |e: std::io::Error| format!("its component `{}` cannot be read: {e}", component.display());
    let resolved = component.canonicalize().map_err(unreadable)?;
    let root = root.canonicalize().map_err(|e| format!("the plugin folder cannot be read: {e}"))?;
    if !resolved.starts_with(&root) {
        return Err(outside());
    }
    let bytes = crate::inspect::read_component(&resolved)
        .map_err(|e| format!("its component `{}` cannot be read: {e}", component.display()))?;
    Ok((parsed, bytes, component))
}

impl Environment {
    /// [`Environment::define_plugin`] with the parameters installations
    /// start from (an installation's own parameters win).
    pub fn define_plugin_with_config(
        &self,
        name: &str,
        version: &str,
        description: &str,
        component: &LoadedComponent,
        config: BTreeMap<String, String>,
    ) -> Result<(), Error> {
        self.define_plugin(name, version, description, component)?;
        if let Some(definition) = self.shared().plugins().definitions.get_mut(&(name.to_string(), version.to_string()))
        {
            definition.config = config;
        }
        Ok(())
    }

    /// Run plugin `name` `version` on new code: every instance finishes the
    /// batch it is processing, then is updated (replaying its oplog on the
    /// new code, so it keeps its state); later instances start on it.
    pub fn update_plugin_code(
        &self,
        name: &str,
        version: &str,
        code: &LoadedComponent,
        hash: &str,
    ) -> Result<(), Error> {
        let shared = self.shared();
        let (revision, workers) = {
            let mut host = shared.plugins();
            let Some(definition) = host.definitions.get(&(name.to_string(), version.to_string())).cloned() else {
                return Err(Error::Plugin(format!("plugin `{name}` {version} is not defined")));
            };
            let exported = code.info().exports.iter().any(|e| e.to_string() == super::PROCESSOR_INTERFACE);
            if !exported || code.inner.processor.is_none() {
                return Err(Error::Plugin(format!(
                    "plugin `{name}` {version}: the new component does not export `{}`",
                    super::PROCESSOR_INTERFACE
                )));
            }
            let revision = self.add_revision(&definition.component, code, Vec::new());
            if let Some(d) = host.definitions.get_mut(&(name.to_string(), version.to_string())) {
                d.component = revision.clone();
            }
            let workers: Vec<_> = host
                .installations
                .values()
                .filter(|i| i.description.plugin_name == name && i.description.plugin_version == version)
                .flat_map(|i| i.slots.values().map(|s| s.worker.clone()))
                .collect();
            (revision, workers)
        };
        for worker in workers {
            // Taking the lock waits for the batch in flight (draining).
            let mut worker = worker.lock();
            if let Err(reason) = worker.update(revision.revision(), true)? {
                return Err(Error::Plugin(format!(
                    "plugin `{name}` {version}: instance `{}` cannot move to the new code: {reason}",
                    worker.id()
                )));
            }
        }
        let mut host = shared.plugins();
        host.metrics_of(name).updates += 1;
        host.emit(PluginEvent::Updated { name: name.into(), version: version.into(), hash: hash.into() });
        Ok(())
    }

    /// Forget plugin `name` `version`: its instances stop and nothing more
    /// is delivered to it (installations stay on their revisions, inert).
    pub fn remove_plugin(&self, name: &str, version: &str) {
        let shared = self.shared();
        let mut host = shared.plugins();
        if host.definitions.remove(&(name.to_string(), version.to_string())).is_none() {
            return;
        }
        let mut stopped = Vec::new();
        for installation in host.installations.values_mut() {
            if installation.description.plugin_name == name && installation.description.plugin_version == version {
                stopped.extend(std::mem::take(&mut installation.slots).into_values().map(|s| s.worker));
            }
        }
        let metrics = host.metrics_of(name);
        metrics.active_instances = metrics.active_instances.saturating_sub(stopped.len() as u64);
        host.emit(PluginEvent::Removed { name: name.into(), version: version.into() });
        drop(host);
        let released: Vec<_> = {
            let mut registry = shared.registry();
            stopped.iter().filter_map(|worker| registry.disown(worker.id())).collect()
        };
        drop((released, stopped));
    }
}

/// A plugin directory watched for changes: every change to a file in it
/// triggers a rescan (after a short pause, so that one copy of a file is
/// one update). Dropping it stops the watching.
#[derive(Debug)]
pub struct WatchedPluginDirectory {
    // Dropped first: no more events, so the thread's channel closes.
    _watcher: notify::RecommendedWatcher,
    reports: std::sync::mpsc::Receiver<ManifestReport>,
}

impl WatchedPluginDirectory {
    /// What the rescans triggered so far changed.
    pub fn reports(&self) -> &std::sync::mpsc::Receiver<ManifestReport> {
        &self.reports
    }
}

/// How long a burst of file events is let settle before rescanning.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(100);

impl PluginDirectory {
    /// Watch the directory from now on (lifecycle events also reach
    /// [`Environment::subscribe_plugin_events`]).
    pub fn watch(mut self) -> Result<WatchedPluginDirectory, Error> {
        use notify::Watcher as _;
        let (events_tx, events_rx) = std::sync::mpsc::channel::<notify::Result<notify::Event>>();
        let mut watcher = notify::recommended_watcher(events_tx)
            .map_err(|e| Error::Plugin(format!("cannot watch `{}`: {e}", self.dir.display())))?;
        watcher
            .watch(&self.dir, notify::RecursiveMode::Recursive)
            .map_err(|e| Error::Plugin(format!("cannot watch `{}`: {e}", self.dir.display())))?;
        let (reports_tx, reports_rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name(format!("plugin watcher {}", self.dir.display()))
            .spawn(move || {
                while events_rx.recv().is_ok() {
                    // Let the burst settle, then look once.
                    while events_rx.recv_timeout(SETTLE).is_ok() {}
                    let Ok(reports) = self.rescan() else { continue };
                    for report in reports {
                        if reports_tx.send(report).is_err() {
                            return;
                        }
                    }
                }
            })
            .map_err(|e| Error::Plugin(format!("cannot start the watcher thread: {e}")))?;
        Ok(WatchedPluginDirectory { _watcher: watcher, reports: reports_rx })
    }
}
