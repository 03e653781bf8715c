//! Loading components into an environment (checked, compiled, their agent
//! types discovered), new revisions, and running command components.

use std::path::Path;
use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::InstancePre;

use super::Environment;
use crate::bindings::exports::golem::agent::guest::GuestIndices;
use crate::bindings::exports::golem::api::oplog_processor::GuestIndices as ProcessorIndices;
use crate::bindings::golem::agent::common::AgentType;
use crate::bindings::golem::api::oplog::PluginInstallationDescription;
use crate::data::describe_agent_error;
use crate::engine::compile;
use crate::error::{Error, chain};
use crate::host::{HostState, LogRecord};
use crate::inspect;
use crate::journal::seed_from;
use crate::runtime::{ComponentInner, LoadedComponent, apply_limits, classify_trap};

/// The result of running a command component's `wasi:cli/run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutcome {
    /// 0 for success; 1 when `run` returned an error; the code passed to WASI
    /// `exit` otherwise.
    pub exit_code: i32,
    /// Everything the guest wrote to stdout (lossily decoded as UTF-8).
    pub stdout: String,
    /// Everything the guest wrote to stderr.
    pub stderr: String,
    /// Messages logged through `wasi:logging`, in order.
    pub logs: Vec<LogRecord>,
}

impl Environment {
    /// Load a component file: inspect it, refuse it if it imports anything
    /// Golem 1.5 does not provide, and compile it (cached per process and on disk).
    pub fn load(&self, path: impl AsRef<Path>) -> Result<LoadedComponent, Error> {
        let bytes = inspect::read_component(path.as_ref())?;
        self.load_bytes(&bytes)
    }

    /// Load a component held in memory; see [`Environment::load`].
    pub fn load_bytes(&self, bytes: &[u8]) -> Result<LoadedComponent, Error> {
        let info = inspect::inspect_bytes(bytes)?;
        info.check_golem_imports()?;
        let component = compile(bytes)?;
        let pre = self.shared.linker.instantiate_pre(&component).map_err(|e| Error::Instantiate(chain(&e)))?;
        let guest = GuestIndices::new(&pre).ok();
        let processor = ProcessorIndices::new(&pre).ok();
        let id = seed_from(&[bytes]);
        let component_id = u128::from(id) << 64 | u128::from(id.rotate_left(17));
        let agent_types = match &guest {
            Some(indices) => self.discover(&pre, indices),
            None => Ok(Vec::new()),
        };
        let inner = ComponentInner {
            info,
            pre,
            guest,
            processor,
            plugins: Vec::new(),
            agent_types,
            id: component_id,
            revision: 0,
        };
        let component = LoadedComponent { inner: Arc::new(inner) };
        self.shared.components().insert((component_id, 0), component.clone());
        Ok(component)
    }

    /// Run `discover-agent-types` in a scratch instance that records nothing.
    fn discover(&self, pre: &InstancePre<HostState>, indices: &GuestIndices) -> Result<Vec<AgentType>, String> {
        let mut store = Store::new(pre.engine(), self.command_state());
        apply_limits(&mut store);
        // A trap, an endless loop or a memory hog reports as it would in
        // an invocation: with the guest's message, or the limit that stopped it.
        let instance = pre.instantiate(&mut store).map_err(|e| classify_trap(e, &store).to_string())?;
        let guest = indices.load(&mut store, &instance).map_err(|e| chain(&e))?;
        match guest.call_discover_agent_types(&mut store) {
            Ok(Ok(types)) => Ok(types),
            Ok(Err(e)) => Err(describe_agent_error(&e)),
            Err(e) => Err(classify_trap(e, &store).to_string()),
        }
    }

    /// Store data for a run outside any agent: an oplog nobody keeps.
    fn command_state(&self) -> HostState {
        HostState::for_command(self.shared.world.clone(), Arc::new(self.unrooted()))
    }

    /// Load a new revision of `component` (same component id, next revision
    /// number), which agents can be updated to.
    pub fn load_revision(&self, component: &LoadedComponent, path: impl AsRef<Path>) -> Result<LoadedComponent, Error> {
        let loaded = self.load(path)?;
        // Installed plugins stay installed when the code changes.
        Ok(self.add_revision(component, &loaded, component.inner.plugins.clone()))
    }

    /// Register the next revision of `component`: `code`'s binary with `plugins` installed.
    pub(crate) fn add_revision(
        &self,
        component: &LoadedComponent,
        code: &LoadedComponent,
        plugins: Vec<PluginInstallationDescription>,
    ) -> LoadedComponent {
        let id = component.inner.id;
        let mut components = self.shared.components();
        let revision = components.keys().filter(|(c, _)| *c == id).map(|(_, r)| r + 1).max().unwrap_or(1);
        let revised = component.revised(code, revision, plugins);
        components.insert((id, revision), revised.clone());
        revised
    }

    pub(crate) fn component_revision(&self, id: u128, revision: u64) -> Option<LoadedComponent> {
        self.shared.components().get(&(id, revision)).cloned()
    }
}

impl LoadedComponent {
    /// Run a command component (one exporting `wasi:cli/run`, as a Rust binary
    /// built for `wasm32-wasip2` does) in a fresh instance of `env`.
    pub fn run(&self, env: &Environment) -> Result<CommandOutcome, Error> {
        use wasmtime_wasi::p2::bindings::sync::CommandPre;

        let pre = CommandPre::new(self.inner.pre.clone())
            .map_err(|e| Error::MissingExport(format!("`wasi:cli/run` ({})", chain(&e))))?;
        let mut store = Store::new(self.inner.pre.engine(), env.command_state());
        apply_limits(&mut store);
        let command = pre.instantiate(&mut store).map_err(|e| Error::Instantiate(chain(&e)))?;
        let exit_code = match command.wasi_cli_run().call_run(&mut store) {
            Ok(Ok(())) => 0,
            Ok(Err(())) => 1,
            Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
                Some(exit) => exit.0,
                None => return Err(classify_trap(e, &store)),
            },
        };
        let state = store.into_data();
        Ok(CommandOutcome {
            exit_code,
            stdout: String::from_utf8_lossy(&state.stdout.contents()).into_owned(),
            stderr: String::from_utf8_lossy(&state.stderr.contents()).into_owned(),
            logs: state.logs,
        })
    }
}
