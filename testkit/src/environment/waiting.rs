//! What suspended agents wait for, brought from outside: promises completed
//! as through Golem's API, and time moving on.

use std::time::Duration;

use super::Environment;
use crate::bindings::golem::api::host::{AgentStatus, PromiseId};
use crate::error::Error;
use crate::runtime::AgentHandle;

impl Environment {
    /// Complete a promise an agent created, with `data`, as through
    /// Golem's API: `Ok(true)` if it was pending, `Ok(false)` if it had been
    /// completed already (the first payload stays). A suspended agent
    /// awaiting it resumes: at once if the environment owns it, otherwise on
    /// its next call or [`Agent::resume`](crate::Agent::resume).
    ///
    /// ```no_run
    /// # use reprise_testkit::{Environment, value::Value};
    /// # let env = Environment::new()?;
    /// # let component = env.load("approvals.wasm")?;
    /// let mut request = env.create_agent(&component, "Request", &[Value::string("r-1")])?;
    /// // A method that creates a promise and returns its id ...
    /// # let promise: reprise_testkit::bindings::golem::api::host::PromiseId = todo!();
    /// env.complete_promise(&promise, b"approved")?;
    /// // ... and a later call that awaits it sees `approved`.
    /// # Ok::<(), reprise_testkit::Error>(())
    /// ```
    pub fn complete_promise(&self, promise: &PromiseId, data: &[u8]) -> Result<bool, Error> {
        let creator = &promise.agent_id.agent_id;
        let completed =
            self.shared.world.complete_promise(creator, promise.oplog_idx, data.to_vec()).map_err(Error::Setup)?;
        if completed {
            self.resume_suspended(Some(creator));
        }
        Ok(completed)
    }

    /// Move the environment's time on by `by`: invocations scheduled for a
    /// time now reached are enqueued on their agents and run, and agents
    /// suspended until a deadline now passed resume (those the test holds,
    /// on their next call or [`Agent::resume`]), their clocks reading that
    /// much later.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), reprise_testkit::Error> {
    /// # let env = reprise_testkit::Environment::new()?;
    /// // Two days pass: an approval waiting one day for an answer times out.
    /// env.advance_time(std::time::Duration::from_secs(2 * 24 * 3600));
    /// # Ok(()) }
    /// ```
    pub fn advance_time(&self, by: Duration) {
        self.shared.world.advance(u64::try_from(by.as_nanos()).unwrap_or(u64::MAX));
        self.enqueue_due();
        self.resume_suspended(None);
    }

    /// Resume the suspended agents the environment owns whose wait is over
    /// (only `creator`, when given), each as a task of the scheduler.
    pub(crate) fn resume_suspended(&self, creator: Option<&str>) {
        let suspended: Vec<AgentHandle> = {
            let registry = self.shared.registry();
            registry
                .all_owned()
                .into_iter()
                .filter(|h| creator.is_none_or(|c| h.id() == c))
                .filter(|h| registry.record(h.id()).is_some_and(|r| r.status == AgentStatus::Suspended))
                .collect()
        };
        for handle in suspended {
            let task = format!("resumption of {}", handle.id());
            // A resumption that cannot start leaves the agent suspended until its next call.
            let _ = self.shared.world.scheduler.spawn(task, move || {
                if let Ok(mut agent) = handle.lock_taking_turns() {
                    // Still waiting, or failed: the next call says so.
                    let _ = agent.resume();
                }
            });
        }
    }
}
