//! Shared handles to agents the environment owns.

use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use super::Agent;
use crate::scheduler::Deadlock;

/// An agent the environment owns: created by another agent's RPC call or
/// by [`Environment::connect_agent`](crate::Environment::connect_agent), and
/// reachable by both. Cloning is cheap; [`AgentHandle::lock`] gives the
/// [`Agent`] itself.
///
/// ```no_run
/// # fn main() -> Result<(), reprise_testkit::Error> {
/// # let env = reprise_testkit::Environment::new()?;
/// // After an order agent called `inventory("main")` ...
/// let inventory = env.agent_handle(r#"inventory("main")"#).expect("created by the call");
/// let stock = inventory.lock().invoke("stock", &[])?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AgentHandle {
    id: String,
    agent: Arc<Mutex<Agent>>,
}

impl std::fmt::Debug for AgentHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentHandle").field("id", &self.id).finish_non_exhaustive()
    }
}

impl AgentHandle {
    pub(crate) fn new(agent: Agent) -> Self {
        AgentHandle { id: agent.id().to_string(), agent: Arc::new(Mutex::new(agent)) }
    }

    /// The agent's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The agent, for invoking, crashing or reading its oplog. While a test
    /// holds the guard, RPC calls to the agent fail as busy (rather than wait
    /// for a guard the calling test will not release).
    pub fn lock(&self) -> MutexGuard<'_, Agent> {
        crate::sync::lock(&self.agent)
    }

    /// The agent, once nothing else uses it: a task lets other tasks run
    /// meanwhile (the one using it among them), and gets `Err` when it would
    /// wait forever (the test holds the agent, or a cycle of calls does).
    pub(crate) fn lock_taking_turns(&self) -> Result<MutexGuard<'_, Agent>, Deadlock> {
        if !crate::scheduler::in_task() {
            return Ok(self.lock());
        }
        loop {
            if let Some(guard) = self.try_lock() {
                return Ok(guard);
            }
            let agent = self.agent.clone();
            crate::scheduler::wait_until(move || !matches!(agent.try_lock(), Err(TryLockError::WouldBlock)))?;
        }
    }

    /// The agent, unless something else is using it right now.
    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, Agent>> {
        match self.agent.try_lock() {
            Ok(guard) => Some(guard),
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }
}
