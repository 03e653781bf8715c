//! Agents: instances of a component exporting `golem:agent/guest@1.5.0`,
//! with an oplog that survives crashes, and recovery by replay.

use wasmtime::Store;

use crate::environment::{Environment, LoadedComponent};
use crate::error::{Error, chain};
use crate::host::bindings::exports::golem::agent::guest::Guest;
use crate::host::bindings::golem::agent::common::{AgentError, AgentType, Principal};
use crate::host::bindings::golem::api::host::AgentStatus;
use crate::host::bindings::golem::api::host::EnvironmentId;
use crate::host::bindings::golem::api::oplog::PluginInstallationDescription;
use crate::host::bindings::golem::api::oplog::{
    AgentInitializationParameters, AgentInvocation, AgentInvocationFinishedParameters, AgentInvocationOutputParameters,
    AgentInvocationResult, AgentInvocationStartedParameters, AgentMethodInvocationParameters, AgentMode,
    CreateParameters, ErrorParameters, OplogRegion, RevertParameters, TypedDataValue,
};
use crate::host::bindings::golem::core::types::{AccountId, DataSchema, DataValue, ElementSchema, ElementValue};
use crate::host::bindings::wasi::clocks::wall_clock::Datetime;
use crate::host::golem_host::uuid_from_u128;
use crate::host::journal::{
    CrashInjected, CrashPoint, Divergence, FiredCrash, HostCall, Journal, RestartRequested, Strict, describe, seed_from,
};
use crate::host::registry::AgentRecord;
use crate::host::state::AgentIdentity;
use crate::host::{HostState, LogRecord};
use crate::oplog::{Oplog, OplogEntry};
use crate::value::{Type, Value};

/// Recoveries attempted in a row before giving up (each consumes at least one
/// crash point, so only a broken crash plan or host gets here).
const MAX_RECOVERIES: usize = 10_000;

/// What an agent answered to one invocation: its output or its own error.
pub(crate) type Answer = Result<DataValue, AgentError>;

/// Results of the invocations a recovery replayed or completed, by the oplog
/// index of their started entry.
type Completed = Vec<(u64, Answer)>;

/// What an invocation asked for.
#[derive(Debug, Clone)]
enum Call {
    Initialize {
        agent_type: String,
        input: DataValue,
    },
    Method {
        name: String,
        input: DataValue,
        /// The caller's idempotency key (empty when it gave none).
        key: String,
    },
    /// An exported function of a plain component.
    Export {
        function: String,
        input: DataValue,
    },
    /// A batch for an oplog-processor plugin.
    Process {
        key: String,
        batch: std::sync::Arc<ProcessBatch>,
    },
}

/// The arguments of one `golem:api/oplog-processor.process` call.
#[derive(Debug)]
pub(crate) struct ProcessBatch {
    pub(crate) config: Vec<(String, String)>,
    pub(crate) agent_id: crate::host::bindings::golem::core::types::AgentId,
    pub(crate) metadata: crate::host::bindings::golem::api::host::AgentMetadata,
    pub(crate) first_index: u64,
    pub(crate) entries: Vec<crate::oplog::RawOplogEntry>,
}

struct Live {
    store: Store<HostState>,
    /// The agent interface; `None` for plain components.
    guest: Option<Guest>,
    /// The oplog-processor interface, for plugin components.
    processor: Option<crate::host::bindings::exports::golem::api::oplog_processor::Guest>,
    instance: wasmtime::component::Instance,
}

/// One agent: its oplog, and the instance currently running it (if any).
///
/// An injected crash discards the instance and its memory; the next use
/// recovers the agent in a fresh instance by replaying its oplog, and an
/// invocation interrupted by the crash completes during that recovery.
pub struct Agent {
    env: Environment,
    component: LoadedComponent,
    identity: AgentIdentity,
    agent_type: String,
    /// A plain component (exported functions) rather than an agent.
    plain: bool,
    seed: u64,
    live: Option<Live>,
    /// The journal while no instance runs (after a crash).
    parked: Option<Journal>,
    failed: Option<String>,
    logs: Vec<LogRecord>,
    calls: Vec<HostCall>,
    crashes_fired: Vec<FiredCrash>,
    recoveries: usize,
    /// Trying a new revision: a failure there fails the update, not the agent.
    updating: bool,
    /// Answers to invocations made with an idempotency key (RPC calls), so
    /// that a caller retrying after its own crash gets the first answer
    /// instead of running the method again. Kept for the agent's lifetime,
    /// as Golem keeps them with the agent.
    answered: std::collections::BTreeMap<String, Answer>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent").field("id", &self.identity.name).field("oplog_len", &self.oplog().len()).finish()
    }
}

/// The agent id Golem forms: the type name in kebab-case and the
/// constructor arguments in compact WAVE, `shopping-cart("alice")`.
/// Arguments that do not fit the declared constructor (the constructor will
/// refuse them) are shown as they are.
pub fn agent_id(definition: &AgentType, args: &[Value]) -> String {
    let params = constructor_types(definition)
        .and_then(|t| crate::wave::render_compact(args, &t).ok())
        .unwrap_or_else(|| args.iter().map(|a| format!("{a:?}")).collect::<Vec<_>>().join(","));
    format!("{}({params})", kebab_case(&definition.type_name))
}

/// The types of the constructor's parameters, when they are all
/// component-model values.
pub(crate) fn constructor_types(definition: &AgentType) -> Option<Vec<Type>> {
    schema_parameters(&definition.constructor.input_schema)
        .ok()
        .map(|params| params.into_iter().map(|(_, t)| t).collect())
}

/// The named parameters of an agent constructor's or method's input schema
/// (or the elements of an output schema) as component-model types; an error
/// names an element that is not a component-model value (text, binary,
/// multimodal), which tools cannot write as WAVE.
pub fn schema_parameters(schema: &DataSchema) -> Result<Vec<(String, Type)>, String> {
    match schema {
        DataSchema::Tuple(elements) => elements
            .iter()
            .map(|(name, e)| match e {
                ElementSchema::ComponentModel(t) => {
                    Type::from_wit(t).map(|t| (name.clone(), t)).map_err(|e| format!("parameter `{name}`: {e}"))
                }
                _ => Err(format!("parameter `{name}` is unstructured text or binary, not a component-model value")),
            })
            .collect(),
        DataSchema::Multimodal(_) => Err("the schema is multimodal, not a list of component-model values".into()),
    }
}

/// Golem's kebab-case form of a name (agent ids, matching type names):
/// `ShoppingCart` → `shopping-cart`, `HTTPProxy` → `http-proxy`,
/// `snake_case` → `snake-case`, `probe` → `probe`.
pub fn kebab_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1);
            let boundary = prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(char::is_uppercase) && next.is_some_and(|n| n.is_lowercase()));
            if boundary && !out.ends_with('-') {
                out.push('-');
            }
            out.extend(c.to_lowercase());
        } else if *c == '_' || *c == ' ' {
            out.push('-');
        } else {
            out.push(*c);
        }
    }
    out
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
    agent: std::sync::Arc<std::sync::Mutex<Agent>>,
}

impl std::fmt::Debug for AgentHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentHandle").field("id", &self.id).finish_non_exhaustive()
    }
}

impl AgentHandle {
    pub(crate) fn new(agent: Agent) -> Self {
        AgentHandle { id: agent.id().to_string(), agent: std::sync::Arc::new(std::sync::Mutex::new(agent)) }
    }

    /// The agent's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The agent, for invoking, crashing or reading its oplog. While a test
    /// holds the guard, RPC calls to the agent fail as busy (rather than wait
    /// for a guard the calling test will not release).
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Agent> {
        crate::engine::lock(&self.agent)
    }

    /// The agent, unless something else is using it right now.
    pub(crate) fn try_lock(&self) -> Option<std::sync::MutexGuard<'_, Agent>> {
        match self.agent.try_lock() {
            Ok(guard) => Some(guard),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }
}

/// What [`Agent::revert`] goes back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevertTarget {
    /// Keep the oplog up to and including this index.
    ToIndex(u64),
    /// Undo this many of the latest invocations.
    LastInvocations(u64),
}

/// An agent error as one readable line; a custom error shows its value (a
/// string as itself).
pub fn describe_agent_error(e: &AgentError) -> String {
    match e {
        AgentError::InvalidInput(m) => format!("invalid input: {m}"),
        AgentError::InvalidMethod(m) => format!("invalid method: {m}"),
        AgentError::InvalidType(m) => format!("invalid agent type: {m}"),
        AgentError::InvalidAgentId(m) => format!("invalid agent id: {m}"),
        AgentError::CustomError(vt) => match Value::from_wit(&vt.value) {
            Ok(Value::String(s)) => s,
            Ok(other) => format!("{other:?}"),
            Err(e) => format!("a custom error that does not decode: {e}"),
        },
    }
}

/// Agent input: one component-model element per argument.
pub fn data_value(args: &[Value]) -> DataValue {
    DataValue::Tuple(args.iter().map(|v| ElementValue::ComponentModel(v.to_wit())).collect())
}

/// The component-model elements of an agent output.
pub fn values_of(data: &DataValue) -> Result<Vec<Value>, Error> {
    let elements: Vec<&ElementValue> = match data {
        DataValue::Tuple(items) => items.iter().collect(),
        DataValue::Multimodal(items) => items.iter().map(|(_, e)| e).collect(),
    };
    elements
        .into_iter()
        .map(|e| match e {
            ElementValue::ComponentModel(v) => Value::from_wit(v).map_err(|e| Error::Guest(e.to_string())),
            other => Err(Error::Guest(format!("unstructured output elements are not supported yet: {other:?}"))),
        })
        .collect()
}

pub(crate) fn apply_limits(store: &mut Store<HostState>) {
    store.limiter(|s| &mut s.limits);
    let ticks = store.data().shared.limits.invocation_timeout.as_millis() / crate::engine::EPOCH_TICK.as_millis();
    store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX).max(1));
}

/// Turn a failed guest call into the most precise testkit error.
pub(crate) fn classify_trap(e: &wasmtime::Error, store: &Store<HostState>) -> Error {
    if let Some(d) = e.downcast_ref::<Divergence>() {
        return Error::Divergence(d.clone());
    }
    if let Some(c) = e.downcast_ref::<crate::host::journal::CorruptEntry>() {
        return Error::CorruptOplog(c.clone());
    }
    let limits = store.data().shared.limits;
    if let Some(wasmtime::Trap::Interrupt) = e.downcast_ref::<wasmtime::Trap>() {
        return Error::Timeout { limit: limits.invocation_timeout };
    }
    let message = chain(e);
    if message.contains("forcing trap when growing memory") || message.contains("memory allocation failed") {
        return Error::MemoryLimit { limit: limits.memory_bytes };
    }
    let stderr = String::from_utf8_lossy(&store.data().stderr.contents()).into_owned();
    Error::Trap { message, stderr }
}

enum Outcome {
    Done(Result<DataValue, AgentError>),
    /// A crash (or restart request) discarded the instance.
    Crashed,
}

/// How an agent comes to be: what [`Agent::create`] needs besides the
/// environment and the component.
pub(crate) struct NewAgent<'a> {
    pub(crate) agent_type: &'a str,
    pub(crate) args: &'a [Value],
    pub(crate) crashes: Vec<CrashPoint>,
    pub(crate) oplog: Oplog,
    /// A plain component's worker rather than an agent.
    pub(crate) plain: bool,
    /// Owned by the environment (reachable by RPC) rather than by a test.
    pub(crate) env_owned: bool,
}

impl<'a> NewAgent<'a> {
    /// A test-owned agent with an in-memory oplog and no crashes.
    pub(crate) fn agent(agent_type: &'a str, args: &'a [Value]) -> Self {
        NewAgent { agent_type, args, crashes: Vec::new(), oplog: Oplog::in_memory(), plain: false, env_owned: false }
    }
}

impl Agent {
    pub(crate) fn create(env: Environment, component: LoadedComponent, new: NewAgent<'_>) -> Result<Agent, Error> {
        Agent::create_answer(env, component, new)?.map_err(|e| Error::Agent(describe_agent_error(&e)))
    }

    /// Create an agent; a constructor refusing the input is the inner error.
    pub(crate) fn create_answer(
        env: Environment,
        component: LoadedComponent,
        new: NewAgent<'_>,
    ) -> Result<Result<Agent, AgentError>, Error> {
        let NewAgent { agent_type, args, crashes, oplog, plain, env_owned } = new;
        if !plain && component.inner.guest.is_none() {
            return Err(Error::MissingExport(
                "`golem:agent/guest@1.5.0` (is this an agent component? plain components are run with `Environment::create_worker`)".into(),
            ));
        }
        let name = if plain { agent_type.to_string() } else { agent_id(component.agent_type(agent_type)?, args) };
        let shared = env.shared().clone();
        if !env_owned && shared.owned().contains_key(&name) {
            return Err(Error::Setup(format!(
                "agent `{name}` already exists in this environment, created by an RPC call or `connect_agent`; reach it with `Environment::agent_handle`"
            )));
        }
        let mut crashes = crashes;
        crashes.extend(shared.take_planned_crashes(&name));
        let identity = AgentIdentity { component_id: component.inner.id, name: name.clone() };
        let seed = seed_from(&[&env.seed().to_le_bytes(), name.as_bytes()]);
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
            oplog.append(create_entry(&identity, component.inner.info.size as u64, component.plugins()))?;
        }
        let mut agent = Agent {
            env,
            component,
            identity,
            agent_type: agent_type.to_string(),
            plain,
            seed,
            live: None,
            parked: Some(Journal::new(oplog, seed, crashes)),
            failed: None,
            logs: Vec::new(),
            calls: Vec::new(),
            crashes_fired: Vec::new(),
            recoveries: 0,
            updating: false,
            answered: Default::default(),
        };
        agent.register(agent_type);
        if !env_owned {
            shared.hold_for_test(&name);
        }
        if resuming || plain {
            // Rebuild the agent's memory from its oplog now, so that a broken
            // or foreign oplog is reported here rather than on first use
            // (plain components have no constructor to run).
            agent.recover()?;
        } else if let Err(e) =
            agent.run_answer(Call::Initialize { agent_type: agent_type.into(), input: data_value(args) })?
        {
            return Ok(Err(e));
        }
        Ok(Ok(agent))
    }

    fn register(&self, agent_type: &str) {
        let shared = self.env.shared();
        let mut agents = shared.agents();
        let order = agents.len() as u64;
        agents.entry(self.identity.name.clone()).or_insert_with(|| AgentRecord {
            component_id: self.identity.component_id,
            name: self.identity.name.clone(),
            status: AgentStatus::Idle,
            revision: 0,
            // Virtual creation times one second apart, in creation order.
            created_at_ms: 1_767_225_600_000 + order * 1000,
            env: vec![
                ("GOLEM_AGENT_ID".into(), self.identity.name.clone()),
                ("GOLEM_AGENT_TYPE".into(), agent_type.into()),
            ],
            config: shared.config.clone(),
        });
    }

    fn set_status(&self, status: AgentStatus) {
        if let Some(record) = self.env.shared().agents().get_mut(&self.identity.name) {
            record.status = status;
        }
    }

    /// The revision of the component the agent runs.
    pub fn revision(&self) -> u64 {
        self.component.inner.revision
    }

    /// Apply updates other agents requested through `update-agent`.
    /// Apply what other agents asked the executor to do to this one
    /// (`update-agent`, `revert-agent`), in the order they asked.
    fn apply_requests(&mut self) -> Result<(), Error> {
        let mine: Vec<AgentRequest> = {
            let mut pending = crate::engine::lock(&self.env.shared().pending_requests);
            let (mine, others) = std::mem::take(&mut *pending).into_iter().partition(|(a, _)| *a == self.identity.name);
            *pending = others;
            mine.into_iter().map(|(_, r)| r).collect()
        };
        for request in mine {
            match request {
                // A failed update is recorded in the oplog; the agent carries on.
                AgentRequest::Update { revision, automatic } => {
                    let _outcome = self.update(revision, automatic)?;
                }
                AgentRequest::Revert(target) => {
                    let _dropped = self.revert(target)?;
                }
            }
        }
        Ok(())
    }

    /// Update the agent to another revision of its component. An automatic
    /// update replays the whole oplog on the new revision: if that diverges,
    /// the update fails (a `failed-update` entry with the reason) and the
    /// agent stays on its revision. Snapshot-based updates are not supported
    /// by the testkit yet and fail the same way. Returns whether the update
    /// succeeded; errors only when the agent cannot be recovered at all.
    pub fn update(&mut self, revision: u64, automatic: bool) -> Result<Result<(), String>, Error> {
        use crate::host::bindings::golem::api::oplog::{
            FailedUpdateParameters, PendingUpdateParameters, SuccessfulUpdateParameters, UpdateDescription,
        };
        self.discard_instance();
        let timestamp = self.oplog().last_index() + 1;
        let description = if automatic {
            UpdateDescription::AutoUpdate
        } else {
            UpdateDescription::SnapshotBased(crate::host::bindings::golem::api::host::Snapshot {
                payload: Vec::new(),
                mime_type: String::new(),
            })
        };
        self.park_append(OplogEntry::PendingUpdate(PendingUpdateParameters {
            timestamp: Journal::time_at(timestamp),
            target_revision: revision,
            description,
        }))?;
        let target = self.env.component_revision(self.component.inner.id, revision);
        let failure = match (automatic, target) {
            (false, _) => Some("snapshot-based updates are not supported by the Reprise testkit yet".to_string()),
            (true, None) => Some(format!("the component has no revision {revision}")),
            (true, Some(target)) => {
                let old = std::mem::replace(&mut self.component, target);
                self.updating = true;
                let recovered = self.recover();
                self.updating = false;
                match recovered {
                    Ok(_) => None,
                    Err(e) => {
                        self.discard_instance();
                        self.component = old;
                        Some(e.to_string())
                    }
                }
            }
        };
        self.discard_instance();
        let timestamp = Journal::time_at(self.oplog().last_index() + 1);
        match &failure {
            None => self.park_append(OplogEntry::SuccessfulUpdate(SuccessfulUpdateParameters {
                timestamp,
                target_revision: revision,
                new_component_size: self.component.inner.info.size as u64,
                new_active_plugins: self.component.plugins().to_vec(),
            }))?,
            Some(details) => self.park_append(OplogEntry::FailedUpdate(FailedUpdateParameters {
                timestamp,
                target_revision: revision,
                details: Some(details.clone()),
            }))?,
        }
        if let Some(record) = self.env.shared().agents().get_mut(&self.identity.name) {
            record.revision = self.component.inner.revision;
        }
        Ok(failure.map_or(Ok(()), Err))
    }

    /// Append an executor entry while no instance runs.
    fn park_append(&mut self, entry: OplogEntry) -> Result<(), Error> {
        self.discard_instance();
        let journal = self.parked.as_mut().unwrap_or_else(|| unreachable!("a discarded instance parks its journal"));
        journal.oplog.append(entry)?;
        Ok(())
    }

    /// Revert the agent as Golem's `revert-agent` does: to the state it had
    /// at oplog index `index` ([`RevertTarget::ToIndex`]) or before its last
    /// `n` invocations ([`RevertTarget::LastInvocations`]). A `revert` entry
    /// records the dropped region; replay passes over it, and the next call
    /// runs on the reverted state. Returns the dropped region.
    pub fn revert(&mut self, target: RevertTarget) -> Result<std::ops::RangeInclusive<u64>, Error> {
        let last = self.oplog().last_index();
        let keep = match target {
            RevertTarget::ToIndex(index) => index,
            RevertTarget::LastInvocations(n) => {
                let starts: Vec<u64> = self
                    .oplog()
                    .entries()
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| matches!(e, OplogEntry::AgentInvocationStarted(_)))
                    .map(|(pos, _)| pos as u64 + 1)
                    .collect();
                // The initialization (the first invocation) is never undone.
                let undoable = starts.len().saturating_sub(1);
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                if n == 0 || n > undoable {
                    return Err(Error::Revert(format!(
                        "cannot revert the last {n} invocation(s): the agent has {undoable} after its initialization"
                    )));
                }
                starts[starts.len() - n] - 1
            }
        };
        let initialized = self
            .oplog()
            .entries()
            .iter()
            .position(|e| matches!(e, OplogEntry::AgentInvocationFinished(_)))
            .map_or(last, |pos| pos as u64 + 1);
        if keep < initialized || keep >= last {
            return Err(Error::Revert(format!(
                "cannot revert to oplog index {keep}: it must be at least {initialized} (the end of initialization) and below {last} (the last entry)"
            )));
        }
        let dropped = keep + 1..=last;
        self.park_append(OplogEntry::Revert(RevertParameters {
            timestamp: Journal::time_at(last + 1),
            dropped_region: OplogRegion { start: *dropped.start(), end: *dropped.end() },
        }))?;
        Ok(dropped)
    }

    /// The agent type as the current revision's discovery describes it
    /// (`None` for a worker of a plain component); its schemas go into the
    /// invocation entries, as Golem records them.
    pub fn definition(&self) -> Option<&AgentType> {
        if self.plain { None } else { self.component.agent_type(&self.agent_type).ok() }
    }

    /// The agent's id, as Golem renders it (`type(args)`).
    pub fn id(&self) -> &str {
        &self.identity.name
    }

    /// Invoke a method with component-model arguments; returns its outputs.
    pub fn invoke(&mut self, method: &str, args: &[Value]) -> Result<Vec<Value>, Error> {
        let out = self.run(Call::Method { name: method.into(), input: data_value(args), key: String::new() })?;
        values_of(&out)
    }

    /// Call an exported function of a plain component: `name` for a function
    /// exported by the world itself, `package:name/interface@version#name` for
    /// one in an exported interface.
    pub fn call(&mut self, function: &str, args: &[Value]) -> Result<Vec<Value>, Error> {
        if !self.plain {
            return Err(Error::MissingExport(format!("`{function}`: agents are called with `invoke`")));
        }
        let out = self.run(Call::Export { function: function.into(), input: data_value(args) })?;
        values_of(&out)
    }

    /// Invoke a method on behalf of a caller that passes an idempotency key
    /// (an RPC call): a key seen before gets the answer it got then, and the
    /// method does not run again.
    pub(crate) fn invoke_keyed(&mut self, method: &str, input: DataValue, key: String) -> Result<Answer, Error> {
        if let Some(answer) = self.answered.get(&key) {
            return Ok(answer.clone());
        }
        let answer = self.run_answer(Call::Method { name: method.into(), input, key: key.clone() })?;
        self.answered.insert(key, answer.clone());
        Ok(answer)
    }

    /// Activate plugin installation `plugin` on this agent (an
    /// `activate-plugin` entry); its entries, from the first, are delivered
    /// to the plugin from now on. The plugin must be installed to the
    /// agent's component revision.
    pub fn activate_plugin(&mut self, plugin: &PluginInstallationDescription) -> Result<(), Error> {
        self.check_installed(plugin)?;
        let timestamp = Journal::time_at(self.oplog().last_index() + 1);
        let entry = OplogEntry::ActivatePlugin(crate::host::bindings::golem::api::oplog::ActivatePluginParameters {
            timestamp,
            plugin: plugin.clone(),
        });
        self.park_append(entry)?;
        crate::plugins::deliver(self);
        Ok(())
    }

    /// Deactivate plugin installation `plugin` on this agent (a
    /// `deactivate-plugin` entry): nothing more is delivered to it until it
    /// is activated again.
    pub fn deactivate_plugin(&mut self, plugin: &PluginInstallationDescription) -> Result<(), Error> {
        self.check_installed(plugin)?;
        let timestamp = Journal::time_at(self.oplog().last_index() + 1);
        let entry =
            OplogEntry::DeactivatePlugin(crate::host::bindings::golem::api::oplog::DeactivatePluginParameters {
                timestamp,
                plugin: plugin.clone(),
            });
        self.park_append(entry)
    }

    /// The plugins active on the agent.
    pub fn active_plugins(&self) -> Vec<PluginInstallationDescription> {
        crate::plugins::active_plugins(self.oplog().entries())
    }

    fn check_installed(&self, plugin: &PluginInstallationDescription) -> Result<(), Error> {
        let installed = self
            .component
            .plugins()
            .iter()
            .any(|p| p.environment_plugin_grant_id == plugin.environment_plugin_grant_id);
        if installed {
            return Ok(());
        }
        Err(Error::Plugin(format!(
            "plugin `{}` {} is not installed to revision {} of agent `{}`'s component",
            plugin.plugin_name,
            plugin.plugin_version,
            self.revision(),
            self.id()
        )))
    }

    pub(crate) fn shared(&self) -> &std::sync::Arc<crate::environment::Shared> {
        self.env.shared()
    }

    /// Make sure an instance runs (recovering the agent if it crashed).
    pub(crate) fn ensure_live(&mut self) -> Result<(), Error> {
        if self.live.is_none() {
            self.recover()?;
        }
        Ok(())
    }

    /// The current time as the journal sees it.
    pub(crate) fn now(&mut self) -> Datetime {
        self.journal_mut().now()
    }

    /// Append an entry the executor writes (not the guest). `Ok(false)` when
    /// an injected crash fired right after it (the instance is gone).
    pub(crate) fn append_executor_entry(&mut self, entry: OplogEntry) -> Result<bool, Error> {
        self.ensure_live()?;
        let live = self.live.as_mut().unwrap_or_else(|| unreachable!("ensure_live() leaves a live instance"));
        match live.store.data_mut().journal.append(entry) {
            Ok(_) => Ok(true),
            Err(e) => {
                self.absorb_crash(e)?;
                Ok(false)
            }
        }
    }

    /// The id of agent `agent` of this environment, with its component.
    pub(crate) fn target_agent_id(&self, agent: &str) -> crate::host::bindings::golem::core::types::AgentId {
        let component_id = self.shared().agents().get(agent).map_or(0, |r| r.component_id);
        crate::host::bindings::golem::core::types::AgentId {
            component_id: crate::host::bindings::golem::core::types::ComponentId { uuid: uuid_from_u128(component_id) },
            agent_id: agent.to_string(),
        }
    }

    /// The `process` call for entries `batch` of `target`, from the copy of
    /// its oplog the plugin host keeps.
    fn process_call(
        &self,
        plugin: &PluginInstallationDescription,
        target: &crate::host::bindings::golem::core::types::AgentId,
        batch: (u64, u64),
        key: String,
    ) -> Result<Call, Error> {
        let shared = self.shared();
        let entries = shared.plugins().source(&target.agent_id, batch.0, batch.1).ok_or_else(|| {
            Error::Plugin(format!(
                "entries {}..={} of agent `{}` are not known to the plugin host",
                batch.0, batch.1, target.agent_id
            ))
        })?;
        let metadata = match shared.agents().get(&target.agent_id) {
            Some(record) => record.metadata(shared.seed),
            None => return Err(Error::Plugin(format!("agent `{}` is not known to the environment", target.agent_id))),
        };
        let batch = ProcessBatch {
            config: plugin.parameters.clone(),
            agent_id: target.clone(),
            metadata,
            first_index: batch.0,
            entries: entries.iter().map(crate::oplog::to_raw).collect(),
        };
        Ok(Call::Process { key, batch: std::sync::Arc::new(batch) })
    }

    /// As a plugin worker, process entries `batch` of `target`: the
    /// plugin's own refusal is the inner error.
    pub(crate) fn process_batch(
        &mut self,
        plugin: &PluginInstallationDescription,
        target: &crate::host::bindings::golem::core::types::AgentId,
        batch: (u64, u64),
        key: String,
    ) -> Result<Result<(), String>, Error> {
        let call = self.process_call(plugin, target, batch, key)?;
        Ok(self.run_answer(call)?.map(|_| ()).map_err(|e| describe_agent_error(&e)))
    }

    /// The batch of the `process` invocation started at oplog position
    /// `pos`, rebuilt from the checkpoint before it, as on the live run.
    fn rebuild_process_call(&self, pos: usize, key: &str) -> Result<Call, Error> {
        let checkpoint = self.oplog().entries()[..pos].iter().rev().find_map(|e| match e {
            OplogEntry::OplogProcessorCheckpoint(p) => Some(p.clone()),
            _ => None,
        });
        let corrupt = |reason: String| {
            Error::CorruptOplog(crate::host::journal::CorruptEntry { oplog_index: pos as u64 + 1, reason })
        };
        let Some(c) = checkpoint else {
            return Err(corrupt("a plugin invocation without a checkpoint before it".into()));
        };
        self.process_call(&c.plugin, &c.target_agent_id, (c.last_batch_start, c.sending_up_to), key.to_string())
            .map_err(|e| corrupt(format!("its batch cannot be rebuilt: {e}")))
    }

    /// Invoke a method with a raw `data-value` input.
    pub fn invoke_data(&mut self, method: &str, input: DataValue) -> Result<DataValue, Error> {
        self.run(Call::Method { name: method.into(), input, key: String::new() })
    }

    /// The oplog as recorded so far.
    pub fn oplog(&self) -> &Oplog {
        match (&self.live, &self.parked) {
            (Some(live), _) => &live.store.data().journal.oplog,
            (None, Some(journal)) => &journal.oplog,
            (None, None) => unreachable!("an agent always has a journal"),
        }
    }

    fn journal_mut(&mut self) -> &mut Journal {
        match (&mut self.live, &mut self.parked) {
            (Some(live), _) => &mut live.store.data_mut().journal,
            (None, Some(journal)) => journal,
            (None, None) => unreachable!("an agent always has a journal"),
        }
    }

    /// Schedule more crashes.
    pub fn schedule_crashes(&mut self, points: impl IntoIterator<Item = CrashPoint>) {
        self.journal_mut().crashes.extend(points);
    }

    /// Crash the agent now (between invocations): its instance and memory are
    /// discarded and it recovers on next use.
    pub fn crash(&mut self) {
        self.discard_instance();
    }

    /// Host calls made by the agent so far, across instances, in order
    /// (replayed calls are marked).
    pub fn host_calls(&self) -> Vec<HostCall> {
        let mut calls = self.calls.clone();
        if let Some(live) = &self.live {
            calls.extend(live.store.data().journal.calls.iter().cloned());
        }
        calls
    }

    /// Messages the agent logged through `wasi:logging`, across instances.
    pub fn logs(&self) -> Vec<LogRecord> {
        let mut logs = self.logs.clone();
        if let Some(live) = &self.live {
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

    fn discard_instance(&mut self) {
        if let Some(live) = self.live.take() {
            let mut state = live.store.into_data();
            self.logs.append(&mut state.logs);
            self.calls.append(&mut state.journal.calls);
            self.parked = Some(state.journal);
        }
    }

    /// Run `call`; the agent's own errors are `Error::Agent`.
    fn run(&mut self, call: Call) -> Result<DataValue, Error> {
        self.run_answer(call)?.map_err(|e| Error::Agent(describe_agent_error(&e)))
    }

    /// Run `call` and return what the agent answered, its own errors included.
    fn run_answer(&mut self, call: Call) -> Result<Answer, Error> {
        if let Some(reason) = &self.failed {
            return Err(Error::AgentFailed(reason.clone()));
        }
        self.apply_requests()?;
        self.set_status(AgentStatus::Running);
        let result = self.run_call(call);
        self.set_status(if self.failed.is_some() { AgentStatus::Failed } else { AgentStatus::Idle });
        if result.is_ok() && !self.component.plugins().is_empty() {
            crate::plugins::deliver(self);
        }
        result
    }

    fn run_call(&mut self, call: Call) -> Result<Answer, Error> {
        if self.live.is_none() {
            self.recover()?;
        }
        let (input_schema, output_schema) = schemas(self.definition(), &call);
        let live = self.live.as_mut().unwrap_or_else(|| unreachable!("recover() leaves a live instance"));
        let journal = &mut live.store.data_mut().journal;
        let started = match journal.append(started_entry(&call, input_schema, journal.now())) {
            Ok(index) => index,
            Err(e) => return self.after_crash(e, None),
        };
        self.begin_spans(started, &call);
        match self.invoke_guest(&call) {
            Ok(Outcome::Done(result)) => self.finish(started, result, &call, output_schema),
            Ok(Outcome::Crashed) => self.recover_invocation(started),
            Err(e) => Err(e),
        }
    }

    /// A crash fired outside a guest call; `started` is the invocation to complete.
    fn after_crash(&mut self, e: wasmtime::Error, started: Option<u64>) -> Result<Answer, Error> {
        match e.downcast_ref::<CrashInjected>() {
            Some(CrashInjected(fired)) => {
                self.crashes_fired.push(*fired);
                self.discard_instance();
                match started {
                    Some(index) => self.recover_invocation(index),
                    // The started entry itself was the crash point: it was
                    // persisted, so recovery runs the invocation.
                    None => {
                        let index = self.oplog().last_index();
                        self.recover_invocation(index)
                    }
                }
            }
            // Not a crash: a divergence raised where it could not trap, or the
            // oplog itself failing.
            None => Err(match e.downcast_ref::<Divergence>() {
                Some(d) => Error::Divergence(d.clone()),
                None => Error::Guest(chain(&e)),
            }),
        }
    }

    fn finish(&mut self, started: u64, result: Answer, call: &Call, schema: DataSchema) -> Result<Answer, Error> {
        let live = self.live.as_mut().unwrap_or_else(|| unreachable!("finish() runs on a live instance"));
        let journal = &mut live.store.data_mut().journal;
        let finished_index = journal.last_index() + 1;
        match journal.append(finished_entry(&result, call, schema, journal.now())) {
            Ok(_) => {}
            Err(e) => match e.downcast_ref::<CrashInjected>() {
                Some(CrashInjected(fired)) => {
                    let fired = *fired;
                    self.crashes_fired.push(fired);
                    self.discard_instance();
                    // Crashing after the end is persisted loses nothing; a
                    // crash raised earlier (pending) means the invocation must
                    // complete by recovery.
                    if fired.point != CrashPoint::AfterEntry(finished_index) {
                        return self.recover_invocation(started);
                    }
                }
                None => {
                    let live = self.live.as_ref().unwrap_or_else(|| unreachable!("still live"));
                    let error = classify_trap(&e, &live.store);
                    self.fail(&error);
                    return Err(error);
                }
            },
        }
        Ok(result)
    }

    fn begin_spans(&mut self, started: u64, call: &Call) {
        let seed = self.seed;
        if let Some(live) = self.live.as_mut() {
            let method = match call {
                Call::Initialize { agent_type, .. } => agent_type.as_str(),
                Call::Method { name, .. } | Call::Export { function: name, .. } => name.as_str(),
                Call::Process { .. } => "process",
            };
            live.store.data_mut().spans.begin_invocation(seed, started, method);
        }
    }

    /// Call the guest for `call` on the live instance.
    fn invoke_guest(&mut self, call: &Call) -> Result<Outcome, Error> {
        let live = self.live.as_mut().unwrap_or_else(|| unreachable!("invoke_guest() runs on a live instance"));
        apply_limits(&mut live.store);
        let principal = Principal::Anonymous;
        let result = match (call, &live.guest) {
            (Call::Initialize { agent_type, input }, Some(guest)) => guest
                .call_initialize(&mut live.store, agent_type, input, &principal)
                .map(|r| r.map(|()| DataValue::Tuple(vec![]))),
            (Call::Method { name, input, .. }, Some(guest)) => {
                guest.call_invoke(&mut live.store, name, input, &principal)
            }
            (Call::Export { function, input }, _) => call_export(live, function, input),
            (Call::Process { batch, .. }, _) => match &live.processor {
                Some(processor) => call_process(processor, &mut live.store, batch),
                None => return Err(Error::MissingExport(format!("`{}`", crate::plugins::PROCESSOR_INTERFACE))),
            },
            (_, None) => return Err(Error::MissingExport("`golem:agent/guest@1.5.0`".into())),
        };
        match result {
            Ok(r) => Ok(Outcome::Done(r)),
            Err(e) => {
                if let Some(CrashInjected(fired)) = e.downcast_ref::<CrashInjected>() {
                    self.crashes_fired.push(*fired);
                    self.discard_instance();
                    return Ok(Outcome::Crashed);
                }
                if e.downcast_ref::<RestartRequested>().is_some() {
                    self.discard_instance();
                    return Ok(Outcome::Crashed);
                }
                let error = classify_trap(&e, &live.store);
                if self.updating {
                    self.discard_instance();
                } else {
                    self.fail(&error);
                }
                Err(error)
            }
        }
    }

    /// A journal operation of the live instance failed: an injected crash is
    /// recorded and discards the instance (`Ok`); anything else is returned
    /// as the error it is.
    fn absorb_crash(&mut self, e: wasmtime::Error) -> Result<(), Error> {
        if let Some(CrashInjected(fired)) = e.downcast_ref::<CrashInjected>() {
            self.crashes_fired.push(*fired);
            self.discard_instance();
            return Ok(());
        }
        let live = self.live.as_ref().unwrap_or_else(|| unreachable!("a journal error comes from a live instance"));
        Err(classify_trap(&e, &live.store))
    }

    /// Record a failure: an `error` entry, and the agent refuses further calls.
    fn fail(&mut self, error: &Error) {
        let message = error.to_string();
        if let Some(live) = self.live.as_mut() {
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

    /// Recover after a crash and return the result of the invocation started at `started`.
    fn recover_invocation(&mut self, started: u64) -> Result<Answer, Error> {
        let completed = self.recover()?;
        match completed.into_iter().find(|(index, _)| *index == started) {
            Some((_, result)) => Ok(result),
            None => Err(Error::Guest(format!(
                "the invocation started at oplog index {started} was not completed by recovery"
            ))),
        }
    }

    /// Replace the instance by a fresh one that has replayed the whole oplog.
    /// Returns the results of the invocations replayed or completed, by the
    /// index of their started entry.
    fn recover(&mut self) -> Result<Completed, Error> {
        for _ in 0..MAX_RECOVERIES {
            self.discard_instance();
            let journal = self.parked.take().unwrap_or_else(|| unreachable!("a discarded instance parks its journal"));
            // The first instance of a new agent has nothing to replay.
            if journal.oplog.entries().iter().any(|e| matches!(e, OplogEntry::AgentInvocationStarted(_))) {
                self.recoveries += 1;
            }
            let mut journal = Journal::new(journal.oplog, self.seed, journal.crashes);
            if let Err(e) = journal.close_interrupted_region() {
                self.parked = Some(journal);
                if let Some(CrashInjected(fired)) = e.downcast_ref::<CrashInjected>() {
                    self.crashes_fired.push(*fired);
                    continue;
                }
                return Err(Error::Guest(chain(&e)));
            }
            let inner = self.component.inner.clone();
            let mut store = Store::new(
                inner.pre.engine(),
                HostState::new(self.env.shared().clone(), journal, self.identity.clone()),
            );
            apply_limits(&mut store);
            let instance = match inner.pre.instantiate(&mut store) {
                Ok(i) => i,
                Err(e) => {
                    let error = classify_trap(&e, &store);
                    self.parked = Some(store.into_data().journal);
                    return Err(error);
                }
            };
            let guest = match (&inner.guest, self.plain) {
                (Some(indices), false) => {
                    Some(indices.load(&mut store, &instance).map_err(|e| Error::Instantiate(chain(&e)))?)
                }
                _ => None,
            };
            let processor = match &inner.processor {
                Some(indices) => Some(indices.load(&mut store, &instance).map_err(|e| Error::Instantiate(chain(&e)))?),
                None => None,
            };
            self.live = Some(Live { store, guest, processor, instance });
            match self.replay_invocations()? {
                Some(completed) => return Ok(completed),
                None => continue, // crashed again while recovering
            }
        }
        Err(Error::RecoveryLoop { attempts: MAX_RECOVERIES })
    }

    /// Re-run every recorded invocation on the fresh instance. `None` when an
    /// injected crash interrupted the recovery itself.
    fn replay_invocations(&mut self) -> Result<Option<Completed>, Error> {
        let mut completed = Vec::new();
        // Results recorded before the last successful update came from older code.
        let updated_at = self
            .oplog()
            .entries()
            .iter()
            .rposition(|e| matches!(e, OplogEntry::SuccessfulUpdate(_)))
            .map_or(0, |pos| pos as u64 + 1);
        loop {
            let live = self.live.as_mut().unwrap_or_else(|| unreachable!("replaying on a live instance"));
            let journal = &mut live.store.data_mut().journal;
            let Some(pos) = journal.peek() else { return Ok(Some(completed)) };
            let entry = journal.oplog.entries()[pos].clone();
            let OplogEntry::AgentInvocationStarted(started) = &entry else {
                return Err(Error::Divergence(Divergence {
                    oplog_index: pos as u64 + 1,
                    expected: describe(&entry),
                    actual: "had no invocation running to produce it".into(),
                }));
            };
            let call = match &started.invocation {
                AgentInvocation::ProcessOplogEntries(p) => self.rebuild_process_call(pos, &p.idempotency_key)?,
                _ => call_of(started, &self.agent_type, self.plain).ok_or_else(|| {
                    Error::CorruptOplog(crate::host::journal::CorruptEntry {
                        oplog_index: pos as u64 + 1,
                        reason: "an invocation kind the testkit cannot replay".into(),
                    })
                })?,
            };
            let live = self.live.as_mut().unwrap_or_else(|| unreachable!("replaying on a live instance"));
            let journal = &mut live.store.data_mut().journal;
            let index = journal
                .replay_checked(Strict::InvocationStarted, || "started an invocation".into())
                .map_err(Error::Divergence)?
                .0;
            self.begin_spans(index, &call);
            let (_, output_schema) = schemas(self.definition(), &call);
            let result = match self.invoke_guest(&call)? {
                Outcome::Crashed => return Ok(None),
                Outcome::Done(result) => result,
            };
            let live = self.live.as_mut().unwrap_or_else(|| unreachable!("still live after a completed call"));
            let journal = &mut live.store.data_mut().journal;
            if journal.is_live() {
                // This invocation was interrupted: it completed live just now.
                if let Err(e) = journal.append(finished_entry(&result, &call, output_schema, journal.now())) {
                    self.absorb_crash(e)?;
                    return Ok(None);
                }
            } else {
                let timestamp = journal.now();
                if let Err(e) = journal.raise_pending() {
                    self.absorb_crash(e)?;
                    return Ok(None);
                }
                let (at, recorded) = journal
                    .replay_checked(Strict::InvocationFinished, || "finished the invocation".into())
                    .map_err(Error::Divergence)?;
                let now = finished_entry(&result, &call, output_schema, timestamp);
                // New code may answer past calls differently; only the same
                // code returning something else is nondeterminism.
                let same_code = !self.updating && at > updated_at;
                if same_code && !same_result(recorded, &now) {
                    return Err(Error::Divergence(Divergence {
                        oplog_index: at,
                        expected: format!("the invocation to return {}", result_summary(recorded)),
                        actual: format!("returned {}", result_summary(&now)),
                    }));
                }
            }
            completed.push((index, result));
        }
    }
}

/// Call an exported function dynamically. Argument mismatches are the
/// caller's error (`invalid-input`), not a trap.
fn call_export(live: &mut Live, function: &str, input: &DataValue) -> wasmtime::Result<Result<DataValue, AgentError>> {
    let args = match values_of(input) {
        Ok(args) => args,
        Err(e) => return Ok(Err(AgentError::InvalidInput(e.to_string()))),
    };
    let component = live.instance.instance_pre(&live.store).component().clone();
    let index = match function.split_once('#') {
        Some((iface, name)) => {
            component.get_export_index(None, iface).and_then(|i| component.get_export_index(Some(&i), name))
        }
        None => component.get_export_index(None, function),
    };
    let Some(func) = index.and_then(|i| live.instance.get_func(&mut live.store, i)) else {
        return Ok(Err(AgentError::InvalidMethod(format!("the component exports no function `{function}`"))));
    };
    let ty = func.ty(&live.store);
    let param_types: Vec<_> = ty.params().map(|(name, t)| (name.to_string(), t)).collect();
    if param_types.len() != args.len() {
        return Ok(Err(AgentError::InvalidInput(format!(
            "`{function}` takes {} argument(s), got {}",
            param_types.len(),
            args.len()
        ))));
    }
    let mut params = Vec::with_capacity(args.len());
    for ((name, t), v) in param_types.iter().zip(&args) {
        match crate::dynamic::to_val(v, t, name) {
            Ok(val) => params.push(val),
            Err(e) => return Ok(Err(AgentError::InvalidInput(e))),
        }
    }
    let result_types: Vec<_> = ty.results().collect();
    let mut results = vec![wasmtime::component::Val::Bool(false); result_types.len()];
    func.call(&mut live.store, &params, &mut results)?;
    let values = results
        .iter()
        .zip(&result_types)
        .map(|(v, t)| crate::dynamic::from_val(v, t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| wasmtime::format_err!("`{function}` returned {e}"))?;
    Ok(Ok(data_value(&values)))
}

/// Run a batch through a plugin's `process`; its refusal is the answer's error.
fn call_process(
    processor: &crate::host::bindings::exports::golem::api::oplog_processor::Guest,
    store: &mut Store<HostState>,
    batch: &ProcessBatch,
) -> wasmtime::Result<Answer> {
    use crate::host::bindings::exports::golem::api::oplog_processor::AccountInfo;
    let account = AccountInfo { account_id: AccountId { uuid: uuid_from_u128(0) } };
    let outcome = processor.call_process(
        store,
        account,
        &batch.config,
        batch.agent_id.component_id,
        &batch.agent_id,
        &batch.metadata,
        batch.first_index,
        &batch.entries,
    )?;
    Ok(outcome.map(|()| DataValue::Tuple(Vec::new())).map_err(|message| {
        AgentError::CustomError(crate::host::bindings::golem::core::types::ValueAndType {
            value: Value::String(message).to_wit(),
            typ: Type::String.to_wit(),
        })
    }))
}

fn call_of(started: &AgentInvocationStartedParameters, agent_type: &str, plain: bool) -> Option<Call> {
    match &started.invocation {
        AgentInvocation::AgentMethodInvocation(p) if plain => {
            Some(Call::Export { function: p.method_name.clone(), input: p.function_input.value.clone() })
        }
        AgentInvocation::AgentInitialization(p) => {
            Some(Call::Initialize { agent_type: agent_type.to_string(), input: p.constructor_parameters.value.clone() })
        }
        AgentInvocation::AgentMethodInvocation(p) => Some(Call::Method {
            name: p.method_name.clone(),
            input: p.function_input.value.clone(),
            key: p.idempotency_key.clone(),
        }),
        _ => None,
    }
}

/// The input and output schemas of `call` under `definition` (empty for
/// plain components and unknown methods, whose calls fail anyway).
fn schemas(definition: Option<&AgentType>, call: &Call) -> (DataSchema, DataSchema) {
    let empty = || DataSchema::Tuple(Vec::new());
    match (definition, call) {
        (Some(d), Call::Initialize { .. }) => (d.constructor.input_schema.clone(), empty()),
        (Some(d), Call::Method { name, .. }) => d
            .methods
            .iter()
            .find(|m| &m.name == name)
            .map_or_else(|| (empty(), empty()), |m| (m.input_schema.clone(), m.output_schema.clone())),
        _ => (empty(), empty()),
    }
}

fn typed(value: DataValue, schema: DataSchema) -> TypedDataValue {
    TypedDataValue { value, schema }
}

fn started_entry(call: &Call, schema: DataSchema, timestamp: Datetime) -> OplogEntry {
    let invocation = match call {
        Call::Initialize { agent_type: _, input } => {
            AgentInvocation::AgentInitialization(AgentInitializationParameters {
                idempotency_key: String::new(),
                constructor_parameters: typed(input.clone(), schema),
                trace_id: String::new(),
                trace_states: Vec::new(),
                invocation_context: Vec::new(),
            })
        }
        Call::Method { name, input, key } => AgentInvocation::AgentMethodInvocation(AgentMethodInvocationParameters {
            idempotency_key: key.clone(),
            method_name: name.clone(),
            function_input: typed(input.clone(), schema),
            trace_id: String::new(),
            trace_states: Vec::new(),
            invocation_context: Vec::new(),
        }),
        Call::Process { key, .. } => AgentInvocation::ProcessOplogEntries(
            crate::host::bindings::golem::api::oplog::ProcessOplogEntriesParameters { idempotency_key: key.clone() },
        ),
        Call::Export { function: name, input } => {
            AgentInvocation::AgentMethodInvocation(AgentMethodInvocationParameters {
                idempotency_key: String::new(),
                method_name: name.clone(),
                function_input: typed(input.clone(), schema),
                trace_id: String::new(),
                trace_states: Vec::new(),
                invocation_context: Vec::new(),
            })
        }
    };
    OplogEntry::AgentInvocationStarted(AgentInvocationStartedParameters { timestamp, invocation })
}

fn finished_entry(result: &Answer, call: &Call, schema: DataSchema, timestamp: Datetime) -> OplogEntry {
    if let Call::Process { .. } = call {
        let error = result.as_ref().err().map(describe_agent_error);
        return OplogEntry::AgentInvocationFinished(AgentInvocationFinishedParameters {
            timestamp,
            result: AgentInvocationResult::ProcessOplogEntries(
                crate::host::bindings::golem::api::oplog::FallibleResultParameters { error },
            ),
            consumed_fuel: 0,
            component_revision: 0,
        });
    }
    let (output, schema) = match result {
        Ok(v) => (v.clone(), schema),
        // Agent errors are recomputed on replay; the entry marks the end.
        Err(_) => (DataValue::Tuple(vec![]), DataSchema::Tuple(vec![])),
    };
    OplogEntry::AgentInvocationFinished(AgentInvocationFinishedParameters {
        timestamp,
        result: AgentInvocationResult::AgentMethod(AgentInvocationOutputParameters { output: typed(output, schema) }),
        consumed_fuel: 0,
        component_revision: 0,
    })
}

fn same_result(a: &OplogEntry, b: &OplogEntry) -> bool {
    match (a, b) {
        (OplogEntry::AgentInvocationFinished(x), OplogEntry::AgentInvocationFinished(y)) => x.result == y.result,
        _ => false,
    }
}

fn result_summary(entry: &OplogEntry) -> String {
    match entry {
        OplogEntry::AgentInvocationFinished(p) => match &p.result {
            AgentInvocationResult::AgentMethod(o) => match values_of(&o.output.value) {
                Ok(v) => format!("{v:?}"),
                Err(_) => "an unreadable output".into(),
            },
            _ => "another kind of result".into(),
        },
        other => describe(other),
    }
}

fn create_entry(
    identity: &AgentIdentity,
    component_size: u64,
    plugins: &[crate::host::bindings::golem::api::oplog::PluginInstallationDescription],
) -> OplogEntry {
    OplogEntry::Create(CreateParameters {
        timestamp: Journal::time_at(1),
        agent_id: crate::host::bindings::golem::core::types::AgentId {
            component_id: crate::host::bindings::golem::core::types::ComponentId {
                uuid: uuid_from_u128(identity.component_id),
            },
            agent_id: identity.name.clone(),
        },
        agent_mode: AgentMode::Durable,
        component_revision: 0,
        env: Vec::new(),
        created_by: AccountId { uuid: uuid_from_u128(0) },
        environment_id: EnvironmentId { uuid: uuid_from_u128(0) },
        parent: None,
        component_size,
        initial_total_linear_memory_size: 0,
        initial_active_plugins: plugins.to_vec(),
        local_agent_config: Vec::new(),
        original_phantom_id: None,
        instance_id: uuid_from_u128(0),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn type_names_become_kebab_case() {
        for (name, kebab) in [
            ("ShoppingCart", "shopping-cart"),
            ("Counter", "counter"),
            ("probe", "probe"),
            ("HTTPProxy", "http-proxy"),
            ("Agent2Go", "agent2-go"),
            ("snake_case", "snake-case"),
        ] {
            assert_eq!(super::kebab_case(name), kebab);
        }
    }
}
