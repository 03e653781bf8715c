//! The agent runtime: agents (instances of a component exporting
//! `golem:agent/guest@1.5.0`, or workers of a plain or plugin component)
//! with an oplog that survives crashes, and recovery by replay.
//!
//! - [`Agent`] (here): identity, the instance or the journal it left, and
//!   what tests read (oplog, host calls, logs, crashes).
//! - `call`: what an invocation asks for, and the answer.
//! - `invocation`: one invocation, start to finish.
//! - `recovery`: a fresh instance replaying the oplog.
//! - `resume`: an agent taken up at the moment a crash struck it.
//! - `interrupts`: the one place a stopped guest call is handled.
//! - `entries`: the entries written around invocations.
//! - `admin`: updates, reverts, plugin activation, requests from other agents.
//! - [`AgentHandle`]: agents the environment owns.
//! - `habitat`: what the runtime needs of its environment.

mod admin;
mod call;
mod component;
mod entries;
mod habitat;
mod handle;
mod interrupts;
mod invocation;
mod queue;
mod recovery;
mod resume;
mod retries;
mod suspension;
mod typed;

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::Store;

pub(crate) use admin::follow_plugin_changes;
pub(crate) use call::{Answer, ProcessBatch};
pub(crate) use component::ComponentInner;
pub use component::LoadedComponent;
pub(crate) use habitat::Habitat;
pub use handle::AgentHandle;
pub(crate) use interrupts::{apply_limits, classify_trap};

use self::call::Call;
use self::entries::create_entry;
use crate::bindings::exports::golem::agent::guest::Guest;
use crate::bindings::exports::golem::api::oplog_processor::Guest as Processor;
use crate::bindings::golem::agent::common::{AgentError, AgentType};
use crate::bindings::golem::api::host::AgentStatus;
use crate::bindings::wasi::clocks::wall_clock::Datetime;
use crate::data::{data_value, describe_agent_error};
use crate::error::Error;
use crate::host::{AgentIdentity, HostState, LogRecord};
use crate::ids::{AGENT_INTERFACE, agent_id};
use crate::journal::{CrashNotes, CrashPoint, FiredCrash, HostCall, Journal, seed_from};
use crate::oplog::{Oplog, OplogEntry};
use crate::value::Value;

/// A running instance: its store (which holds the journal) and exports.
pub(crate) struct Live {
    store: Store<HostState>,
    /// The agent interface; `None` for plain components.
    guest: Option<Guest>,
    /// The oplog-processor interface, for plugin components.
    processor: Option<Processor>,
    instance: wasmtime::component::Instance,
}

/// The instance running an agent, or the journal it left behind.
// The journal moves in and out on every crash and park: kept inline rather
// than boxed (an allocation each time) although it is the larger variant.
#[allow(clippy::large_enum_variant)]
enum Instance {
    Running(Live),
    /// No instance: before first use, after a crash, around updates.
    Parked(Journal),
}

/// One agent: its oplog, and the instance currently running it (if any).
///
/// An injected crash discards the instance and its memory; the next use
/// recovers the agent in a fresh instance by replaying its oplog, and an
/// invocation interrupted by the crash completes during that recovery.
pub struct Agent {
    habitat: Arc<dyn Habitat>,
    component: LoadedComponent,
    identity: AgentIdentity,
    agent_type: String,
    /// A plain component (exported functions) rather than an agent.
    plain: bool,
    seed: u64,
    instance: Instance,
    failed: Option<String>,
    /// Logs and host calls of instances already discarded.
    logs: Vec<LogRecord>,
    calls: Vec<HostCall>,
    crashes_fired: Vec<FiredCrash>,
    recoveries: usize,
    /// Clock readings and random values drawn after recoveries, by
    /// instances already replaced.
    fresh_values: u64,
    /// Trying a new revision: a failure there fails the update, not the agent.
    updating: bool,
    /// Retries of the current invocation so far (see `retries`).
    retries: u32,
    /// Answers to invocations made with an idempotency key (RPC calls), so
    /// that a caller retrying after its own crash gets the first answer
    /// instead of running the method again. Kept for the agent's lifetime,
    /// as Golem keeps them with the agent.
    answered: BTreeMap<String, Answer>,
    /// The invocation waiting to resume, when the agent is suspended.
    suspended: Option<suspension::Suspension>,
    /// The least its monotonic clock reads from now on (nanoseconds): time
    /// that passed while it was suspended.
    clock_floor: u64,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent").field("id", &self.identity.name).field("oplog_len", &self.oplog().len()).finish()
    }
}

/// How an agent comes to be.
pub(crate) struct NewAgent<'a> {
    pub(crate) agent_type: &'a str,
    pub(crate) args: &'a [Value],
    pub(crate) crashes: Vec<CrashPoint>,
    pub(crate) oplog: Oplog,
    /// A plain component's worker rather than an agent.
    pub(crate) plain: bool,
    /// The context its constructor continues (an RPC caller's).
    pub(crate) incoming: Option<Arc<crate::bindings::IncomingContext>>,
    /// Crash points its first instance only notes (see [`CrashNotes`]).
    pub(crate) notes: Option<CrashNotes>,
    /// The oplog is what this crash left of a running agent: the agent starts
    /// parked, as right after the crash, and recovers on first use.
    pub(crate) crashed: Option<FiredCrash>,
    /// Its phantom id, telling it from other agents of its type and arguments.
    pub(crate) phantom: Option<crate::bindings::golem::core::types::Uuid>,
}

impl<'a> NewAgent<'a> {
    /// An agent with an in-memory oplog and no crashes.
    pub(crate) fn agent(agent_type: &'a str, args: &'a [Value]) -> Self {
        NewAgent {
            agent_type,
            args,
            crashes: Vec::new(),
            oplog: Oplog::in_memory(),
            plain: false,
            incoming: None,
            notes: None,
            crashed: None,
            phantom: None,
        }
    }

    /// The id the agent will have: `type(args)` for an agent, the name given
    /// for a worker.
    pub(crate) fn id(&self, component: &LoadedComponent) -> Result<String, Error> {
        if self.plain {
            return Ok(self.agent_type.to_string());
        }
        if component.inner.guest.is_none() {
            return Err(Error::MissingExport(format!(
                "`{AGENT_INTERFACE}` (is this an agent component? plain components are run with `Environment::create_worker`)"
            )));
        }
        Ok(crate::ids::with_phantom(agent_id(component.agent_type(self.agent_type)?, self.args), self.phantom.as_ref()))
    }
}

impl Agent {
    /// Create an agent; a constructor refusing the input is the inner error.
    pub(crate) fn create(
        habitat: Arc<dyn Habitat>,
        component: LoadedComponent,
        new: NewAgent<'_>,
    ) -> Result<Result<Agent, AgentError>, Error> {
        let name = new.id(&component)?;
        let NewAgent { agent_type, args, crashes, oplog, plain, incoming, notes, crashed, .. } = new;
        let identity = AgentIdentity { component_id: component.inner.id, name: name.clone() };
        let seed = seed_from(&[&habitat.world().seed.to_le_bytes(), name.as_bytes()]);
        let resuming = !oplog.is_empty();
        let mut oplog = oplog;
        if resuming {
            match oplog.get(1) {
                Some(OplogEntry::Create(p)) if p.agent_id.agent_id == name => {}
                Some(OplogEntry::Create(p)) => {
                    return Err(Error::Setup(format!(
                        "the oplog belongs to agent `{}`, not `{name}`",
                        p.agent_id.agent_id
                    )));
                }
                _ => return Err(Error::Setup("the oplog does not start with a `create` entry".into())),
            }
        } else {
            oplog.append(create_entry(&identity, &component))?;
        }
        habitat.register(&identity, agent_type, component.inner.revision);
        let mut journal = Journal::new(oplog, seed, crashes);
        journal.notes = notes.map(Box::new);
        let mut agent = Agent {
            habitat,
            component,
            identity,
            agent_type: agent_type.to_string(),
            plain,
            seed,
            instance: Instance::Parked(journal),
            failed: None,
            logs: Vec::new(),
            calls: Vec::new(),
            crashes_fired: crashed.into_iter().collect(),
            recoveries: 0,
            fresh_values: 0,
            updating: false,
            retries: 0,
            answered: BTreeMap::new(),
            suspended: None,
            clock_floor: 0,
        };
        if crashed.is_some() {
            // Recovery comes with the next use, as after any crash.
        } else if resuming || plain {
            // Rebuild the agent's memory from its oplog now, so that a broken
            // or foreign oplog is reported here rather than on first use
            // (plain components have no constructor to run).
            agent.recover()?;
        } else if let Err(e) =
            agent.run_answer(Call::Initialize { agent_type: agent_type.into(), input: data_value(args), incoming })?
        {
            return Ok(Err(e));
        }
        Ok(Ok(agent))
    }

    /// [`Agent::create`], a refusing constructor being `Error::Agent`.
    pub(crate) fn create_or_refuse(
        habitat: Arc<dyn Habitat>,
        component: LoadedComponent,
        new: NewAgent<'_>,
    ) -> Result<Agent, Error> {
        Agent::create(habitat, component, new)?.map_err(|e| Error::Agent(describe_agent_error(&e)))
    }

    /// The agent's id, as Golem renders it (`type(args)`).
    pub fn id(&self) -> &str {
        &self.identity.name
    }

    /// The revision of the component the agent runs.
    pub fn revision(&self) -> u64 {
        self.component.inner.revision
    }

    /// The agent type as the current revision's discovery describes it
    /// (`None` for a worker of a plain component); its schemas go into the
    /// invocation entries, as Golem records them.
    pub fn definition(&self) -> Option<&AgentType> {
        if self.plain { None } else { self.component.agent_type(&self.agent_type).ok() }
    }

    /// The definition the running instance itself reports
    /// (`golem:agent/guest.get-definition`), which should equal
    /// [`definition`](Self::definition). Nothing is journaled.
    pub fn definition_from_instance(&mut self) -> Result<AgentType, Error> {
        let live = self.live_mut().ok_or_else(|| Error::Guest("no instance runs the agent".into()))?;
        let guest = live.guest.as_ref().ok_or_else(|| Error::MissingExport(format!("`{AGENT_INTERFACE}`")))?;
        interrupts::apply_limits(&mut live.store);
        guest.call_get_definition(&mut live.store).map_err(|e| interrupts::classify_trap(e, &live.store))
    }

    /// The oplog as recorded so far.
    pub fn oplog(&self) -> &Oplog {
        &self.journal().oplog
    }

    /// Schedule more crashes.
    pub fn schedule_crashes(&mut self, points: impl IntoIterator<Item = CrashPoint>) {
        self.journal_mut().crashes.extend(points);
    }

    /// Crash the agent now (between invocations): its instance, its memory
    /// and anything not yet committed to its oplog are discarded, and it
    /// recovers on next use.
    pub fn crash(&mut self) {
        self.discard_instance();
        self.journal_mut().oplog.discard_uncommitted();
    }

    /// Host calls made by the agent so far, across instances, in order
    /// (replayed calls are marked).
    pub fn host_calls(&self) -> Vec<HostCall> {
        let mut calls = self.calls.clone();
        if let Instance::Running(live) = &self.instance {
            calls.extend(live.store.data().journal.calls.iter().cloned());
        }
        calls
    }

    /// Messages the agent logged through `wasi:logging`, across instances.
    pub fn logs(&self) -> Vec<LogRecord> {
        let mut logs = self.logs.clone();
        if let Instance::Running(live) = &self.instance {
            logs.extend(live.store.data().logs.iter().cloned());
        }
        logs
    }

    /// Crashes that fired, in order.
    pub fn crashes_fired(&self) -> &[FiredCrash] {
        &self.crashes_fired
    }

    /// How many times the agent was recovered by replay (its first instance
    /// is not a recovery; resuming from an existing oplog is).
    pub fn recoveries(&self) -> usize {
        self.recoveries
    }

    /// How many clock readings and random values the agent drew after a
    /// recovery: each differs from the crash-free run's, as on Golem, where
    /// calls executed again after a crash see the world as it is then.
    pub fn fresh_values(&self) -> u64 {
        self.fresh_values + self.journal().fresh_draws
    }

    /// The current time as the journal sees it.
    pub(crate) fn now(&mut self) -> Datetime {
        self.journal_mut().now()
    }

    /// Append an entry the executor writes (not the guest). `Ok(false)` when
    /// an injected crash fired right after it (the instance is gone).
    pub(crate) fn append_executor_entry(&mut self, entry: OplogEntry) -> Result<bool, Error> {
        self.ensure_live()?;
        match self.journal_mut().append(entry) {
            Ok(_) => Ok(true),
            Err(e) => match self.stopped(e) {
                interrupts::Stop::Lost => Ok(false),
                interrupts::Stop::Failed(error) => Err(error),
            },
        }
    }

    fn journal(&self) -> &Journal {
        match &self.instance {
            Instance::Running(live) => &live.store.data().journal,
            Instance::Parked(journal) => journal,
        }
    }

    fn journal_mut(&mut self) -> &mut Journal {
        match &mut self.instance {
            Instance::Running(live) => &mut live.store.data_mut().journal,
            Instance::Parked(journal) => journal,
        }
    }

    fn live_mut(&mut self) -> Option<&mut Live> {
        match &mut self.instance {
            Instance::Running(live) => Some(live),
            Instance::Parked(_) => None,
        }
    }

    fn store(&self) -> Option<&Store<HostState>> {
        match &self.instance {
            Instance::Running(live) => Some(&live.store),
            Instance::Parked(_) => None,
        }
    }

    /// The parked journal, taken out (an empty one is left in its place
    /// until the caller puts an instance or a journal back).
    fn take_parked(&mut self) -> Journal {
        self.discard_instance();
        match std::mem::replace(&mut self.instance, Instance::Parked(Journal::empty())) {
            Instance::Parked(journal) => journal,
            Instance::Running(_) => Journal::empty(),
        }
    }

    /// Drop the instance and its memory, keeping its journal, logs and calls.
    fn discard_instance(&mut self) {
        if let Instance::Running(_) = self.instance {
            let placeholder = Instance::Parked(Journal::empty());
            if let Instance::Running(live) = std::mem::replace(&mut self.instance, placeholder) {
                let mut state = live.store.into_data();
                state.abort_requests();
                self.logs.append(&mut state.logs);
                self.calls.append(&mut state.journal.calls);
                self.instance = Instance::Parked(state.journal);
            }
        }
    }

    fn set_status(&self, status: AgentStatus) {
        self.habitat.update_record(&self.identity.name, &mut |record| record.status = status);
    }

    /// Record a failure: an `error` entry, and the agent refuses further calls.
    fn fail(&mut self, error: &Error) {
        use crate::bindings::golem::api::oplog::ErrorParameters;
        let message = error.to_string();
        if let Instance::Running(live) = &mut self.instance {
            let journal = &mut live.store.data_mut().journal;
            let entry = OplogEntry::Error(ErrorParameters {
                timestamp: journal.now(),
                error: message.clone(),
                retry_from: journal.last_index(),
                inside_atomic_region: false,
                retry_policy_state: None,
            });
            // The agent is failing either way; a crash point here changes nothing.
            let _ = journal.append(entry);
        }
        self.discard_instance();
        self.failed = Some(message);
    }
}
