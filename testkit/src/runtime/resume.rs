//! Taking an agent up at the moment a crash struck it: crash verification
//! starts its crashed runs there (the agent made with `NewAgent::crashed`)
//! instead of running everything before the crash again.

use super::Agent;
use crate::data::{describe_agent_error, values_of};
use crate::error::Error;
use crate::value::Value;

impl Agent {
    /// Complete the invocation started at oplog index `started`, which the
    /// crash interrupted, as its caller's `invoke` would have: by recovery.
    pub(crate) fn complete_interrupted(&mut self, started: u64) -> Result<Vec<Value>, Error> {
        let answer = self.running(|agent| agent.recover_invocation(started))?;
        values_of(&answer.map_err(|e| Error::Agent(describe_agent_error(&e)))?)
    }

    /// The agent's oplog, taken out as the agent ends.
    pub(crate) fn into_oplog(mut self) -> crate::oplog::Oplog {
        self.discard_instance();
        std::mem::take(&mut self.journal_mut().oplog)
    }

    /// Crash points still scheduled.
    pub(crate) fn crashes_pending(&self) -> usize {
        self.journal().crashes.len()
    }

    /// Values the current instance drew from the world (clocks, randomness).
    pub(crate) fn world_draws(&self) -> u64 {
        self.journal().world_draws
    }

    /// Times the current instance asked whether it is live or replaying.
    pub(crate) fn liveness_reads(&self) -> u64 {
        self.journal().liveness_reads
    }
}
