//! Suspended invocations: an agent that awaits promises nobody has
//! completed yet is suspended, as Golem suspends it
//! (golem-worker-executor/src/durable_host/io/poll.rs): a committed
//! `suspend` entry, the instance unloaded, the invocation left unfinished.
//! Once a promise it awaits is completed, or the time it waits for has
//! passed ([`Environment::advance_time`](crate::Environment::advance_time)),
//! it resumes: recovery replays the oplog and the suspended poll runs live
//! again.

use super::Agent;
use super::call::Answer;
use crate::bindings::golem::agent::host::RpcError;
use crate::bindings::golem::api::host::AgentStatus;
use crate::bindings::golem::api::oplog::Timestamp;
use crate::data::{describe_agent_error, values_of};
use crate::error::Error;
use crate::host::CallAnswer;
use crate::journal::Wait;
use crate::oplog::OplogEntry;
use crate::scheduler::Slot;
use crate::value::Value;

/// Why and since when an agent is suspended.
#[derive(Debug, Clone)]
pub(super) struct Suspension {
    /// The oplog index of the unfinished invocation's started entry.
    pub(super) started: u64,
    pub(super) wait: Wait,
    /// The agent's monotonic clock when it suspended.
    clock_at: u64,
    /// How far the environment's time had been advanced then.
    advanced_at: u64,
    /// Whoever waits for the invocation's answer (an RPC caller).
    reply: Option<Slot<CallAnswer>>,
}

impl Agent {
    /// Whether the agent is suspended, waiting for a promise or for time to pass.
    pub fn is_suspended(&self) -> bool {
        self.suspended.is_some()
    }

    /// Complete the suspended invocation, if what it waits for has come:
    /// its outputs (`Ok(None)` when the agent is not suspended);
    /// [`Error::Suspended`] while it still waits.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), reprise_testkit::Error> {
    /// # let env = reprise_testkit::Environment::new()?;
    /// # let component = env.load("approval.wasm")?;
    /// # let mut flow = env.create_agent(&component, "approval", &[])?;
    /// # let promise: reprise_testkit::bindings::golem::api::host::PromiseId = todo!();
    /// let waiting = flow.invoke("request", &[]);
    /// assert!(matches!(waiting, Err(reprise_testkit::Error::Suspended { .. })));
    /// env.complete_promise(&promise, b"approved")?;
    /// let outputs = flow.resume()?.expect("it was suspended");
    /// # Ok(()) }
    /// ```
    pub fn resume(&mut self) -> Result<Option<Vec<Value>>, Error> {
        match self.resume_if_due()? {
            None => Ok(None),
            Some(answer) => Ok(Some(values_of(&answer.map_err(|e| Error::Agent(describe_agent_error(&e)))?)?)),
        }
    }

    /// Resume the suspended invocation if its wait is over (its answer, also
    /// sent to an RPC caller waiting for it); `Ok(None)` when not
    /// suspended; [`Error::Suspended`] while it still waits.
    pub(super) fn resume_if_due(&mut self) -> Result<Option<Answer>, Error> {
        let Some(suspension) = self.suspended.clone() else { return Ok(None) };
        let elapsed = self.habitat.world().advanced_nanos().saturating_sub(suspension.advanced_at);
        let completed = suspension
            .wait
            .promises
            .iter()
            .any(|(agent, index)| self.habitat.world().promise(agent, *index).is_ok_and(|p| p.is_some()));
        let woken = suspension.wait.deadline.is_some_and(|d| suspension.clock_at.saturating_add(elapsed) >= d);
        if !completed && !woken {
            return Err(self.still_suspended(&suspension));
        }
        // Time passed while it was unloaded: its clock reads that much later,
        // or, woken by its deadline alone, the deadline (when Golem wakes it).
        let woke_at = match suspension.wait.deadline {
            Some(deadline) if woken && !completed => deadline,
            _ => suspension.clock_at.saturating_add(elapsed),
        };
        self.clock_floor = self.clock_floor.max(woke_at);
        self.suspended = None;
        let answer = self.running(|agent| agent.recover_invocation(suspension.started));
        if self.suspended.is_some() {
            // It waits again: the caller keeps waiting for the same answer.
            if let Some(s) = &mut self.suspended {
                s.reply = suspension.reply;
            }
            return answer.map(Some);
        }
        if let Some(reply) = suspension.reply {
            reply.fill(match &answer {
                Ok(Ok(output)) => Ok(output.clone()),
                Ok(Err(e)) => Err(RpcError::RemoteAgentError(e.clone())),
                Err(e) => Err(RpcError::RemoteInternalError(format!("agent `{}`: {e}", self.id()))),
            });
        }
        answer.map(Some)
    }

    /// Whoever waits for the suspended invocation's answer gets it when the
    /// agent resumes.
    pub(super) fn reply_on_resume(&mut self, reply: Slot<CallAnswer>) {
        if let Some(s) = &mut self.suspended {
            s.reply = Some(reply);
        }
    }

    /// Suspend the invocation started at `started` (its guest awaits
    /// `wait`): a committed `suspend` entry, and the instance unloaded.
    pub(super) fn suspend(&mut self, started: u64, wait: Wait) -> Result<Error, Error> {
        let journal = self.journal_mut();
        let clock_at = journal.clock_nanos();
        let entry = OplogEntry::Suspend(Timestamp { timestamp: journal.now() });
        if let Err(e) = journal.append(entry) {
            // A crash right after the entry: the agent is suspended all the same.
            if let super::interrupts::Stop::Failed(error) = self.stopped(e) {
                return Err(error);
            }
        }
        self.discard_instance();
        let advanced_at = self.habitat.world().advanced_nanos();
        let suspension = Suspension { started, wait, clock_at, advanced_at, reply: None };
        let error = self.still_suspended(&suspension);
        self.suspended = Some(suspension);
        self.set_status(AgentStatus::Suspended);
        Ok(error)
    }

    /// The error calls get while the agent is suspended.
    pub(super) fn suspended_error(&self) -> Error {
        match &self.suspended {
            Some(s) => self.still_suspended(s),
            None => Error::Guest("the agent is not suspended".into()),
        }
    }

    fn still_suspended(&self, suspension: &Suspension) -> Error {
        Error::Suspended { agent: self.id().to_string(), waiting_for: suspension.wait.describe(suspension.clock_at) }
    }
}
