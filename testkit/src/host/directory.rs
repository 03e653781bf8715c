//! The other agents, as host functions reach them: RPC, metadata, requests
//! to the executor. The environment (a layer above) implements
//! [`AgentDirectory`]; host code never names it.

use crate::bindings::golem::agent::common::AgentType;
use crate::bindings::golem::agent::host::RpcError;
use crate::bindings::golem::api::oplog::{EnvironmentPluginGrantId, PluginInstallationDescription};
use crate::bindings::golem::core::types::DataValue;
use crate::bindings::{CalleeContext, RpcTarget};

use super::registry::AgentRecord;

/// What [`Agent::revert`](crate::Agent::revert) goes back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevertTarget {
    /// Keep the oplog up to and including this index.
    ToIndex(u64),
    /// Undo this many of the latest invocations.
    LastInvocations(u64),
}

/// A request to the executor about an agent, made by another agent and
/// applied by the target before its next invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AgentRequest {
    /// `update-agent`.
    Update { revision: u64, automatic: bool },
    /// `revert-agent`.
    Revert(RevertTarget),
}

/// An agent type some component of the environment defines.
#[derive(Debug, Clone)]
pub(crate) struct DefinedType {
    /// The component (id, revision) defining it.
    pub(crate) component: (u128, u64),
    pub(crate) definition: AgentType,
}

/// The agents of an environment, for host functions.
pub(crate) trait AgentDirectory: Send + Sync {
    /// The agent types of the newest revision of every component.
    fn agent_types(&self) -> Vec<DefinedType>;

    /// Run `method` on `target` (created first if needed) for a caller
    /// passing idempotency key `key`; the callee (and its constructor, if
    /// the call creates it) continues the caller's invocation `context`.
    fn call(
        &self,
        target: &RpcTarget,
        method: &str,
        input: DataValue,
        key: String,
        context: CalleeContext,
    ) -> Result<DataValue, RpcError>;

    /// What the environment reports about agent `id`.
    fn record(&self, id: &str) -> Option<AgentRecord>;

    /// What the environment reports about every agent.
    fn records(&self) -> Vec<AgentRecord>;

    /// Ask the executor to do something to agent `id`.
    fn request(&self, id: String, request: AgentRequest);

    /// What plugin grant `grant` stands for, if it is installed.
    fn plugin_installation(&self, grant: &EnvironmentPluginGrantId) -> Option<PluginInstallationDescription>;
}
