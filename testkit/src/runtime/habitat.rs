//! What an agent's runtime needs of the environment it lives in. The
//! environment (a layer above) implements [`Habitat`]; the runtime never
//! names it.

use std::sync::Arc;

use super::{Agent, LoadedComponent, ProcessBatch};
use crate::bindings::golem::api::oplog::PluginInstallationDescription;
use crate::bindings::golem::core::types::AgentId;
use crate::host::registry::AgentRecord;
use crate::host::{AgentDirectory, AgentIdentity, AgentRequest, World};

/// The environment of an agent, as its runtime sees it.
pub(crate) trait Habitat: Send + Sync {
    /// The stores and settings the agent's host functions use.
    fn world(&self) -> &Arc<World>;

    /// The other agents, for the agent's host functions.
    fn directory(&self) -> Arc<dyn AgentDirectory>;

    /// Report a new agent (once; later calls for the same id change nothing).
    fn register(&self, identity: &AgentIdentity, agent_type: &str);

    /// Change what the environment reports about agent `id`.
    fn update_record(&self, id: &str, update: &mut dyn FnMut(&mut AgentRecord));

    /// What other agents asked the executor to do to agent `id`, in order
    /// (taken: each is applied once).
    fn take_requests(&self, id: &str) -> Vec<AgentRequest>;

    /// Revision `revision` of component `id`, if loaded.
    fn component_revision(&self, id: u128, revision: u64) -> Option<LoadedComponent>;

    /// The entries `range` of agent `target`, as `plugin` is sent them.
    fn batch(
        &self,
        plugin: &PluginInstallationDescription,
        target: &AgentId,
        range: (u64, u64),
    ) -> Result<ProcessBatch, String>;

    /// An invocation of `agent` finished (its entries may be delivered on).
    fn invocation_finished(&self, agent: &mut Agent);
}
