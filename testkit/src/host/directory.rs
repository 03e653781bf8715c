//! The other agents, as host functions reach them: RPC, metadata, requests
//! to the executor. The environment (a layer above) implements
//! [`AgentDirectory`]; host code never names it.

use crate::bindings::golem::agent::common::AgentType;
use crate::bindings::golem::agent::host::RpcError;
use crate::bindings::golem::api::oplog::{EnvironmentPluginGrantId, PluginInstallationDescription};
use crate::bindings::golem::core::types::DataValue;
use crate::bindings::{CalleeContext, IncomingContext, RpcTarget};
use crate::scheduler::Slot;

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

/// What a callee answers a caller: its output, or why there is none.
pub(crate) type CallAnswer = Result<DataValue, RpcError>;

/// An invocation waiting in an agent's queue (Golem's pending invocation).
#[derive(Debug)]
pub(crate) struct QueuedCall {
    pub(crate) method: String,
    pub(crate) input: DataValue,
    /// The caller's idempotency key.
    pub(crate) key: String,
    /// The caller's invocation context.
    pub(crate) incoming: IncomingContext,
    /// Where the answer goes.
    pub(crate) reply: Slot<CallAnswer>,
}

/// An invocation to enqueue on an agent later (Golem's scheduled action).
#[derive(Debug, Clone)]
pub(crate) struct ScheduledCall {
    pub(crate) target: RpcTarget,
    pub(crate) method: String,
    pub(crate) input: DataValue,
    /// The invocation's idempotency key (also its schedule id).
    pub(crate) key: String,
    pub(crate) context: CalleeContext,
    /// The time it was scheduled for, as the scheduling agent gave it
    /// (seconds and nanoseconds since the Unix epoch).
    pub(crate) at: (u64, u32),
    /// How long from when it was scheduled until then, by the scheduling
    /// agent's clock (0 for a time already past).
    pub(crate) delay_nanos: u64,
}

/// A copy of an agent's oplog to start a new agent from (Golem's worker
/// fork service).
#[derive(Debug)]
pub(crate) struct ForkRequest {
    /// The agent copied.
    pub(crate) source: String,
    /// Its entries, when the agent forking is the source itself (its oplog
    /// is at hand; another agent's is fetched).
    pub(crate) own_entries: Option<Vec<crate::oplog::OplogEntry>>,
    /// The new agent's id.
    pub(crate) target: String,
    /// The last index copied.
    pub(crate) cut_off: u64,
    /// Entries written after the copied ones (the answer of `fork`).
    pub(crate) then: Vec<crate::oplog::OplogEntry>,
}

/// The agents of an environment, for host functions.
pub(crate) trait AgentDirectory: Send + Sync {
    /// The agent types of the newest revision of every component.
    fn agent_types(&self) -> Vec<DefinedType>;

    /// Enqueue `method` on `target` (created first if needed) for a caller
    /// passing idempotency key `key`; the callee (and its constructor, if
    /// the call creates it) continues the caller's invocation `context`.
    /// The answer comes into the returned slot once the callee has run the
    /// call; a key enqueued before gets the slot it got then. `awaited`:
    /// the caller will wait for the answer (an agent the test holds cannot
    /// give one: only calls nobody waits for are queued for it).
    fn enqueue(
        &self,
        target: &RpcTarget,
        method: &str,
        input: DataValue,
        key: String,
        context: CalleeContext,
        awaited: bool,
    ) -> Result<Slot<CallAnswer>, RpcError>;

    /// Keep `call` until its time, then enqueue it on its target as nobody
    /// awaits it; a schedule id kept already keeps its first call.
    fn schedule(&self, schedule_id: String, call: ScheduledCall);

    /// Drop the scheduled call `schedule_id` if it has not been enqueued yet.
    fn cancel_scheduled(&self, schedule_id: &str);

    /// Start agent `request.target` from a copy of `request.source`'s oplog
    /// up to the cut-off; it recovers from it, and goes on live, on a task
    /// of its own. `Err` names why not (no such source, a target that
    /// exists, a cut-off out of range).
    fn fork(&self, request: ForkRequest) -> Result<(), String>;

    /// A promise agent `creator` made was completed: resume it if it waits.
    fn promise_completed(&self, creator: &str);

    /// What the environment reports about agent `id`.
    fn record(&self, id: &str) -> Option<AgentRecord>;

    /// What the environment reports about every agent.
    fn records(&self) -> Vec<AgentRecord>;

    /// Ask the executor to do something to agent `id`.
    fn request(&self, id: String, request: AgentRequest);

    /// What plugin grant `grant` stands for, if it is installed.
    fn plugin_installation(&self, grant: &EnvironmentPluginGrantId) -> Option<PluginInstallationDescription>;
}
