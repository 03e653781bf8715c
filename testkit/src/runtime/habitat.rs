//! What an agent's runtime needs of the environment it lives in. The
//! environment (a layer above) implements [`Habitat`]; the runtime never
//! names it.

use std::sync::Arc;

use super::{LoadedComponent, ProcessBatch};
use crate::host::registry::AgentRecord;
use crate::host::{AgentDirectory, AgentIdentity, AgentRequest, QueuedCall, World};
use crate::journal::Forwarding;

/// The environment of an agent, as its runtime sees it.
pub(crate) trait Habitat: Send + Sync {
    /// The stores and settings the agent's host functions use.
    fn world(&self) -> &Arc<World>;

    /// The other agents, for the agent's host functions.
    fn directory(&self) -> Arc<dyn AgentDirectory>;

    /// Report a new agent, created on `revision` of its component (once;
    /// later calls for the same id change nothing).
    fn register(&self, identity: &AgentIdentity, agent_type: &str, revision: u64);

    /// Change what the environment reports about agent `id`.
    fn update_record(&self, id: &str, update: &mut dyn FnMut(&mut AgentRecord));

    /// What other agents asked the executor to do to agent `id`, in order
    /// (taken: each is applied once).
    fn take_requests(&self, id: &str) -> Vec<AgentRequest>;

    /// Revision `revision` of component `id`, if loaded.
    fn component_revision(&self, id: u128, revision: u64) -> Option<LoadedComponent>;

    /// The batch enqueued on a plugin worker under idempotency key `key`
    /// (Golem keeps it as the pending invocation's payload).
    fn batch(&self, key: &str) -> Result<Arc<ProcessBatch>, String>;

    /// The oldest invocation waiting in agent `id`'s queue (taken).
    fn next_queued(&self, id: &str) -> Option<QueuedCall>;

    /// Where a new instance of `agent` forwards its commits (to its
    /// oplog-processor plugins), if its component has plugins installed.
    fn forwarding(&self, agent: &AgentIdentity, component: &LoadedComponent) -> Option<Arc<dyn Forwarding>>;
}
