//! Compiled components, ready to be instantiated any number of times.

use std::sync::Arc;

use wasmtime::component::InstancePre;

use crate::bindings::exports::golem::agent::guest::GuestIndices;
use crate::bindings::exports::golem::api::oplog_processor::GuestIndices as ProcessorIndices;
use crate::bindings::golem::agent::common::AgentType;
use crate::bindings::golem::api::oplog::PluginInstallationDescription;
use crate::error::Error;
use crate::host::HostState;
use crate::inspect::ComponentInfo;

pub(crate) struct ComponentInner {
    pub(crate) info: ComponentInfo,
    pub(crate) pre: InstancePre<HostState>,
    /// The `golem:agent/guest` export, for agent components.
    pub(crate) guest: Option<GuestIndices>,
    /// The `golem:api/oplog-processor` export, for plugin components.
    pub(crate) processor: Option<ProcessorIndices>,
    /// Plugins installed to this revision.
    pub(crate) plugins: Vec<PluginInstallationDescription>,
    /// What discovery returned (or why it failed).
    pub(crate) agent_types: Result<Vec<AgentType>, String>,
    pub(crate) id: u128,
    pub(crate) revision: u64,
}

/// A compiled component, ready to be instantiated any number of times.
/// Cloning is cheap.
#[derive(Clone)]
pub struct LoadedComponent {
    pub(crate) inner: Arc<ComponentInner>,
}

impl std::fmt::Debug for LoadedComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedComponent").field("info", &self.inner.info).finish_non_exhaustive()
    }
}

impl LoadedComponent {
    /// The component's revision (0 for the first load).
    pub fn revision(&self) -> u64 {
        self.inner.revision
    }

    /// The plugins installed to this revision.
    pub fn plugins(&self) -> &[PluginInstallationDescription] {
        &self.inner.plugins
    }

    /// The installation of plugin `name` on this revision, if any.
    pub fn plugin(&self, name: &str) -> Option<&PluginInstallationDescription> {
        self.inner.plugins.iter().find(|p| p.plugin_name == name)
    }

    /// What the component imports and exports.
    pub fn info(&self) -> &ComponentInfo {
        &self.inner.info
    }

    /// The agent types the component defines, as its
    /// `discover-agent-types` returned them when it was loaded (none for a
    /// component that is not an agent component).
    pub fn agent_types(&self) -> Result<&[AgentType], Error> {
        self.inner.agent_types.as_deref().map_err(|e| Error::Discovery(e.clone()))
    }

    /// The agent type (as the component names it) and constructor arguments
    /// of the agent with id `id` (`type(args)`, or `type(args)[phantom]`).
    pub(crate) fn agent_of_id(&self, id: &str) -> Result<(String, Vec<crate::value::Value>), String> {
        let (name, params, _) = crate::ids::split_agent_id(id)?;
        let types = self.agent_types().map_err(|e| e.to_string())?;
        let definition = types
            .iter()
            .find(|t| crate::ids::names_agent_type(t, name))
            .ok_or_else(|| format!("the component has no agent type `{name}` (the oplog is of agent `{id}`)"))?;
        let param_types = crate::data::constructor_types(definition)
            .ok_or("the constructor's parameters are not component-model values")?;
        let args = crate::ids::parse_agent_id_params(params, &param_types).map_err(|e| format!("agent `{id}`: {e}"))?;
        Ok((definition.type_name.clone(), args))
    }

    /// The agent type called `name`.
    pub fn agent_type(&self, name: &str) -> Result<&AgentType, Error> {
        let types = self.agent_types()?;
        types.iter().find(|t| t.type_name == name).ok_or_else(|| {
            let known: Vec<&str> = types.iter().map(|t| t.type_name.as_str()).collect();
            Error::UnknownAgentType { name: name.to_string(), known: known.join(", ") }
        })
    }

    /// The same code as revision `revision` of this component, with
    /// `plugins` installed.
    pub(crate) fn revised(
        &self,
        code: &LoadedComponent,
        revision: u64,
        plugins: Vec<PluginInstallationDescription>,
    ) -> Self {
        let inner = ComponentInner {
            info: code.inner.info.clone(),
            pre: code.inner.pre.clone(),
            guest: code.inner.guest.clone(),
            processor: code.inner.processor.clone(),
            plugins,
            agent_types: code.inner.agent_types.clone(),
            id: self.inner.id,
            revision,
        };
        LoadedComponent { inner: Arc::new(inner) }
    }
}
