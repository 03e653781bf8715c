//! The agents of one environment, in one place: what is reported about
//! each, who holds it, and what waits for it (planned crashes, requests from
//! other agents).

use std::collections::{BTreeMap, VecDeque};

use crate::bindings::{IncomingContext, RpcTarget};
use crate::host::registry::AgentRecord;
use crate::host::{AgentIdentity, AgentRequest, CallAnswer, QueuedCall};
use crate::journal::CrashPoint;
use crate::runtime::AgentHandle;
use crate::scheduler::Slot;

/// Virtual creation time of the first agent; later ones are one second apart.
const FIRST_CREATED_AT_MS: u64 = 1_767_225_600_000;

/// Who holds an agent.
#[derive(Default)]
enum Holder {
    /// Nobody: not created (yet), or its creation failed.
    #[default]
    Nobody,
    /// A test, as an [`Agent`](crate::Agent) value: RPC cannot reach it.
    Test,
    /// The environment; its constructor is running.
    Creating,
    /// The environment: reachable by RPC through the handle.
    Environment(AgentHandle),
}

#[derive(Default)]
struct Entry {
    /// What `golem:api/host` reports; `None` until the agent exists.
    record: Option<AgentRecord>,
    holder: Holder,
    /// Crashes to inject when the agent is created.
    planned_crashes: Vec<CrashPoint>,
    /// Updates and reverts other agents asked for, in order.
    requests: Vec<AgentRequest>,
    /// Calls waiting for the agent to take them up, oldest first.
    queue: VecDeque<Inbound>,
    /// Whether a task runs the queue now.
    runner: bool,
}

/// A call waiting in an agent's queue, with what creates the agent should
/// the call be the first to reach it.
pub(crate) struct Inbound {
    pub(crate) target: RpcTarget,
    /// The context the agent's constructor continues.
    pub(crate) creation: Option<IncomingContext>,
    pub(crate) call: QueuedCall,
}

/// The agents of an environment, by id.
#[derive(Default)]
pub(crate) struct Registry {
    agents: BTreeMap<String, Entry>,
}

/// Why an environment-owned agent cannot be created now.
pub(crate) enum Unavailable {
    HeldByTest,
    Creating,
}

impl Registry {
    /// Report a new agent; nothing changes for an id already reported.
    pub(crate) fn register(
        &mut self,
        identity: &AgentIdentity,
        agent_type: &str,
        revision: u64,
        config: &[(String, String)],
    ) {
        let reported = self.agents.values().filter(|e| e.record.is_some()).count() as u64;
        let entry = self.agents.entry(identity.name.clone()).or_default();
        if entry.record.is_some() {
            return;
        }
        entry.record = Some(AgentRecord {
            component_id: identity.component_id,
            name: identity.name.clone(),
            status: crate::bindings::golem::api::host::AgentStatus::Idle,
            revision,
            created_at_ms: FIRST_CREATED_AT_MS + reported * 1000,
            env: vec![("GOLEM_AGENT_ID".into(), identity.name.clone()), ("GOLEM_AGENT_TYPE".into(), agent_type.into())],
            config: config.to_vec(),
        });
    }

    pub(crate) fn update_record(&mut self, id: &str, update: &mut dyn FnMut(&mut AgentRecord)) {
        if let Some(record) = self.agents.get_mut(id).and_then(|e| e.record.as_mut()) {
            update(record);
        }
    }

    pub(crate) fn record(&self, id: &str) -> Option<AgentRecord> {
        self.agents.get(id)?.record.clone()
    }

    pub(crate) fn records(&self) -> Vec<AgentRecord> {
        self.agents.values().filter_map(|e| e.record.clone()).collect()
    }

    pub(crate) fn request(&mut self, id: String, request: AgentRequest) {
        self.agents.entry(id).or_default().requests.push(request);
    }

    pub(crate) fn take_requests(&mut self, id: &str) -> Vec<AgentRequest> {
        self.agents.get_mut(id).map(|e| std::mem::take(&mut e.requests)).unwrap_or_default()
    }

    pub(crate) fn plan_crashes(&mut self, id: &str, points: impl IntoIterator<Item = CrashPoint>) {
        self.agents.entry(id.to_string()).or_default().planned_crashes.extend(points);
    }

    /// The crashes planned for agent `id` (taken: each fires once).
    pub(crate) fn take_planned_crashes(&mut self, id: &str) -> Vec<CrashPoint> {
        self.agents.get_mut(id).map(|e| std::mem::take(&mut e.planned_crashes)).unwrap_or_default()
    }

    /// The environment-owned agent `id`, if it exists.
    pub(crate) fn owned(&self, id: &str) -> Option<AgentHandle> {
        match &self.agents.get(id)?.holder {
            Holder::Environment(handle) => Some(handle.clone()),
            _ => None,
        }
    }

    pub(crate) fn all_owned(&self) -> Vec<AgentHandle> {
        self.agents
            .values()
            .filter_map(|e| match &e.holder {
                Holder::Environment(handle) => Some(handle.clone()),
                _ => None,
            })
            .collect()
    }

    /// Take every environment-owned agent out (they hold the environment
    /// themselves; see `Root`).
    pub(crate) fn release_owned(&mut self) -> Vec<AgentHandle> {
        let mut released = Vec::new();
        for entry in self.agents.values_mut() {
            if let Holder::Environment(handle) = std::mem::take(&mut entry.holder) {
                released.push(handle);
            }
        }
        released
    }

    pub(crate) fn hold_for_test(&mut self, id: &str) {
        self.agents.entry(id.to_string()).or_default().holder = Holder::Test;
    }

    /// Undo [`Registry::hold_for_test`] for an agent whose creation failed.
    pub(crate) fn release_test_hold(&mut self, id: &str) {
        if let Some(entry) = self.agents.get_mut(id)
            && matches!(entry.holder, Holder::Test)
        {
            entry.holder = Holder::Nobody;
        }
    }

    /// Mark environment-owned agent `id` as being created.
    pub(crate) fn begin_creating(&mut self, id: &str) -> Result<(), Unavailable> {
        let entry = self.agents.entry(id.to_string()).or_default();
        match entry.holder {
            Holder::Test => Err(Unavailable::HeldByTest),
            Holder::Creating => Err(Unavailable::Creating),
            Holder::Nobody | Holder::Environment(_) => {
                entry.holder = Holder::Creating;
                Ok(())
            }
        }
    }

    /// Creation of `id` ended: with its handle, or (`None`) failed, in which
    /// case it is not reported either.
    pub(crate) fn end_creating(&mut self, id: &str, created: Option<AgentHandle>) {
        let entry = self.agents.entry(id.to_string()).or_default();
        match created {
            Some(handle) => entry.holder = Holder::Environment(handle),
            None => {
                entry.holder = Holder::Nobody;
                entry.record = None;
            }
        }
    }

    /// Make `handle` the environment-owned agent of its id (a plugin
    /// instance, started or restarted).
    pub(crate) fn own(&mut self, handle: AgentHandle) {
        let id = handle.id().to_string();
        self.agents.entry(id).or_default().holder = Holder::Environment(handle);
    }

    /// Forget the environment-owned agent `id` (a stopped plugin instance).
    pub(crate) fn disown(&mut self, id: &str) -> Option<AgentHandle> {
        let entry = self.agents.get_mut(id)?;
        match std::mem::take(&mut entry.holder) {
            Holder::Environment(handle) => Some(handle),
            other => {
                entry.holder = other;
                None
            }
        }
    }

    /// Put `inbound` at the end of its agent's queue; a call whose key is
    /// queued already is not queued twice (its answer slot is returned).
    pub(crate) fn enqueue(&mut self, inbound: Inbound) -> Slot<CallAnswer> {
        let entry = self.agents.entry(inbound.target.id.clone()).or_default();
        if let Some(queued) = entry.queue.iter().find(|q| q.call.key == inbound.call.key) {
            return queued.call.reply.clone();
        }
        let reply = inbound.call.reply.clone();
        entry.queue.push_back(inbound);
        reply
    }

    /// The agent the oldest call queued for `id` reaches, and the context
    /// its constructor would continue.
    pub(crate) fn queue_front(&self, id: &str) -> Option<(RpcTarget, Option<IncomingContext>)> {
        let front = self.agents.get(id)?.queue.front()?;
        Some((front.target.clone(), front.creation.clone()))
    }

    /// Take the oldest call queued for `id`.
    pub(crate) fn next_queued(&mut self, id: &str) -> Option<QueuedCall> {
        Some(self.agents.get_mut(id)?.queue.pop_front()?.call)
    }

    /// Whether agent `id`'s constructor runs now.
    pub(crate) fn creating(&self, id: &str) -> bool {
        self.agents.get(id).is_some_and(|e| matches!(e.holder, Holder::Creating))
    }

    /// Whether a test holds agent `id` as an [`Agent`](crate::Agent) value.
    pub(crate) fn held_by_test(&self, id: &str) -> bool {
        self.agents.get(id).is_some_and(|e| matches!(e.holder, Holder::Test))
    }

    /// Mark `id`'s queue as run by a task: `false` if one runs it already.
    pub(crate) fn start_runner(&mut self, id: &str) -> bool {
        let entry = self.agents.entry(id.to_string()).or_default();
        !std::mem::replace(&mut entry.runner, true)
    }

    /// The task running `id`'s queue has stopped.
    pub(crate) fn runner_done(&mut self, id: &str) {
        if let Some(entry) = self.agents.get_mut(id) {
            entry.runner = false;
        }
    }
}
