//! Invocations agents scheduled for later (`wasm-rpc.schedule-invocation`):
//! held until the environment's time reaches them, then enqueued on their
//! target as a call nobody awaits, as Golem's scheduler service does
//! (golem-worker-executor/src/services/scheduler.rs, `process_claimed_action`).
//!
//! A call's time is measured by the scheduling agent's clock: it is due once
//! the environment's time ([`Environment::advance_time`]) has moved on by
//! the delay the agent asked for. A time already past is due at once.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::Environment;
use crate::host::{AgentDirectory, ScheduledCall};

/// A scheduled call and when it is due (the environment's time, in
/// nanoseconds moved on since it began).
struct Pending {
    call: ScheduledCall,
    due: u64,
}

/// The calls waiting for their time, by schedule id.
#[derive(Default)]
pub(crate) struct ScheduledCalls(BTreeMap<String, Pending>);

/// An invocation an agent scheduled that has not been enqueued yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledInvocation {
    /// Its schedule id, also the invocation's idempotency key.
    pub schedule_id: String,
    /// The agent it goes to.
    pub agent_id: String,
    /// The method it calls.
    pub method: String,
    /// The time the scheduling agent gave.
    pub at: SystemTime,
    /// How much further the environment's time must move before it runs.
    pub due_in: Duration,
}

impl Environment {
    /// The invocations agents scheduled that wait for their time, soonest
    /// first. [`Environment::advance_time`] runs those it reaches; a
    /// cancelled one is gone.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), reprise_testkit::Error> {
    /// # let env = reprise_testkit::Environment::new()?;
    /// // An agent scheduled a reminder for tomorrow.
    /// let reminder = &env.scheduled_invocations()[0];
    /// env.advance_time(reminder.due_in); // ... and now it has run.
    /// # Ok(()) }
    /// ```
    pub fn scheduled_invocations(&self) -> Vec<ScheduledInvocation> {
        let now = self.shared.world.advanced_nanos();
        let mut pending: Vec<ScheduledInvocation> = self
            .shared
            .scheduled()
            .0
            .iter()
            .map(|(id, p)| ScheduledInvocation {
                schedule_id: id.clone(),
                agent_id: p.call.target.id.clone(),
                method: p.call.method.clone(),
                at: SystemTime::UNIX_EPOCH + Duration::new(p.call.at.0, p.call.at.1),
                due_in: Duration::from_nanos(p.due.saturating_sub(now)),
            })
            .collect();
        pending.sort_by(|a, b| (a.due_in, &a.schedule_id).cmp(&(b.due_in, &b.schedule_id)));
        pending
    }

    /// Keep `call` under `schedule_id` (a second call under an id kept
    /// already is ignored, as Golem's storage ignores it), and enqueue it if
    /// it is due.
    pub(crate) fn keep_scheduled(&self, schedule_id: String, call: ScheduledCall) {
        let due = self.shared.world.advanced_nanos().saturating_add(call.delay_nanos);
        self.shared.scheduled().0.entry(schedule_id).or_insert(Pending { call, due });
        self.enqueue_due();
    }

    /// Drop the scheduled call `schedule_id`, if it waits still.
    pub(crate) fn cancel_scheduled_call(&self, schedule_id: &str) {
        self.shared.scheduled().0.remove(schedule_id);
    }

    /// Enqueue every scheduled call whose time has come, soonest first, on
    /// tasks of one session: they run side by side. A call whose target
    /// cannot be reached is dropped (Golem drops a stale action).
    pub(crate) fn enqueue_due(&self) {
        let now = self.shared.world.advanced_nanos();
        let due: Vec<ScheduledCall> = {
            let mut scheduled = self.shared.scheduled();
            let mut ids: Vec<(u64, String)> =
                scheduled.0.iter().filter(|(_, p)| p.due <= now).map(|(id, p)| (p.due, id.clone())).collect();
            ids.sort();
            ids.into_iter().filter_map(|(_, id)| scheduled.0.remove(&id)).map(|p| p.call).collect()
        };
        if due.is_empty() {
            return;
        }
        self.shared.world.scheduler.session("scheduled invocations", || {
            for call in due {
                let ScheduledCall { target, method, input, key, context, .. } = call;
                let _ = self.enqueue(&target, &method, input, key, context, false);
            }
        });
    }
}
