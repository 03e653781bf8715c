//! Test environments: the agents of one environment share its key-value and
//! blob stores, its loaded components and its plugins.
//!
//! - [`Environment`] (here): settings, creating and reaching agents, stores.
//! - `registry`: the agents, in one place.
//! - `loading`: loading and compiling components, command runs.
//! - `links`: the environment as the runtime and the host see it
//!   ([`Habitat`](crate::runtime::Habitat), [`AgentDirectory`](crate::host::AgentDirectory)).

mod forks;
mod http;
mod links;
mod loading;
mod registry;
mod scheduled;
mod typed;
mod waiting;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use wasmtime::component::Linker;

use crate::bindings::golem::agent::common::AgentError;
pub use crate::bindings::golem::agent::common::AgentType;
use crate::engine::engine;
use crate::error::{Error, chain};
use crate::host::registry::AgentRecord;
use crate::host::{self, BlobWrite, HostState, InitialData, KvWrite, Limits, World};
use crate::journal::{CrashNotes, CrashPoint, FiredCrash};
use crate::plugins::PluginHost;
use crate::recording::RecordingService;
use crate::runtime::{Agent, AgentHandle, LoadedComponent, NewAgent};
use crate::scheduler::Schedule;
use crate::sync::lock;
use crate::value::Value;
pub use loading::CommandOutcome;
use registry::{Registry, Unavailable};
pub use scheduled::ScheduledInvocation;

/// State shared by everything running in one environment.
pub(crate) struct Shared {
    /// Settings and stores, as host functions see them.
    pub(crate) world: Arc<World>,
    pub(crate) service: Option<RecordingService>,
    registry: Mutex<Registry>,
    components: Mutex<BTreeMap<(u128, u64), LoadedComponent>>,
    /// Host bindings every instance of the environment links against.
    linker: Arc<Linker<HostState>>,
    /// Plugin definitions, installations, and the oplogs delivered to them.
    plugins: Mutex<PluginHost>,
    /// Invocations agents scheduled, waiting for their time.
    scheduled: Mutex<scheduled::ScheduledCalls>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("world", &self.world).finish_non_exhaustive()
    }
}

impl Shared {
    fn new(world: World, service: Option<RecordingService>, linker: Arc<Linker<HostState>>) -> Self {
        Shared {
            world: Arc::new(world),
            service,
            registry: Mutex::default(),
            components: Mutex::default(),
            linker,
            plugins: Mutex::default(),
            scheduled: Mutex::default(),
        }
    }

    pub(crate) fn components(&self) -> MutexGuard<'_, BTreeMap<(u128, u64), LoadedComponent>> {
        lock(&self.components)
    }

    pub(crate) fn registry(&self) -> MutexGuard<'_, Registry> {
        lock(&self.registry)
    }

    pub(crate) fn plugins(&self) -> MutexGuard<'_, PluginHost> {
        lock(&self.plugins)
    }

    pub(crate) fn scheduled(&self) -> MutexGuard<'_, scheduled::ScheduledCalls> {
        lock(&self.scheduled)
    }
}

/// Why an environment-owned agent could not be reached.
#[derive(Debug)]
pub(crate) enum ConnectError {
    /// A test holds the agent as an [`Agent`] value.
    HeldByTest(String),
    /// Its constructor is running (a constructor calling its own agent).
    Creating(String),
    /// The constructor refused the arguments.
    Refused(AgentError),
    /// Creating it failed otherwise (a trap, a divergence, ...).
    Failed(Error),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::HeldByTest(id) => write!(
                f,
                "agent `{id}` is held by the test (made with `create_agent`), so other agents cannot reach it; create it with `Environment::connect_agent` instead"
            ),
            ConnectError::Creating(id) => {
                write!(f, "agent `{id}` is still running its constructor (a constructor calling its own agent?)")
            }
            ConnectError::Refused(e) => f.write_str(&crate::data::describe_agent_error(e)),
            ConnectError::Failed(e) => e.fmt(f),
        }
    }
}

/// Whether an environment's state still exists (see [`Environment::liveness`]).
#[doc(hidden)]
#[derive(Debug)]
pub struct Liveness(std::sync::Weak<Shared>);

impl Liveness {
    /// Whether something still holds the environment's state.
    pub fn is_alive(&self) -> bool {
        self.0.strong_count() > 0
    }
}

/// Ends the environment-owned agents when the last [`Environment`] handle a
/// test holds is dropped: they hold the shared state themselves, so without
/// this the two would keep each other alive.
struct Root(Arc<Shared>);

impl Drop for Root {
    fn drop(&mut self) {
        let agents = self.0.registry().release_owned();
        let plugin_instances = self.0.plugins().take_instances();
        drop((agents, plugin_instances));
    }
}

/// A self-contained Golem host: agents in one environment share its
/// key-value and blob stores and nothing else.
///
/// ```no_run
/// use reprise_testkit::{Environment, value::Value};
///
/// let env = Environment::new()?;
/// let component = env.load("target/wasm32-wasip2/release/shop.wasm")?;
/// let mut cart = env.create_agent(&component, "cart", &[Value::string("alice")])?;
/// cart.invoke("add", &[Value::string("apple")])?;
/// # Ok::<(), reprise_testkit::Error>(())
/// ```
#[derive(Clone)]
pub struct Environment {
    shared: Arc<Shared>,
    /// `None` in the handle environment-owned agents keep (see [`Root`]).
    _root: Option<Arc<Root>>,
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let world = &self.shared.world;
        f.debug_struct("Environment").field("limits", &world.limits).field("seed", &world.seed).finish()
    }
}

/// Builds an [`Environment`] with non-default settings.
#[derive(Debug, Clone, Default)]
pub struct EnvironmentBuilder {
    limits: Limits,
    seed: u64,
    config: Vec<(String, String)>,
    service: Option<RecordingService>,
    initial: InitialData,
    schedule: Schedule,
}

impl EnvironmentBuilder {
    /// Seed of the agents' deterministic randomness (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// How agents running side by side take turns (default
    /// [`Schedule::Sequential`]); [`Schedule::Seeded`] interleaves them as
    /// the seed draws, the same way on every run.
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// A `wasi:config` value (also listed in every agent's metadata).
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.push((key.into(), value.into()));
        self
    }

    /// Attach a recording service: crash verification then also compares the
    /// requests it received (and resets it before every run).
    pub fn recording_service(mut self, service: &RecordingService) -> Self {
        self.service = Some(service.clone());
        self
    }

    /// A key-value entry present before anything runs (in this environment
    /// and in every fresh copy crash verification makes). Not a write: it
    /// does not appear in [`Environment::kv_writes`].
    pub fn kv_entry(mut self, bucket: impl Into<String>, key: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.initial.kv.push((bucket.into(), key.into(), value.into()));
        self
    }

    /// Restrict key-value storage to these buckets: opening any other fails
    /// (as it does on a store where buckets are provisioned). By default
    /// every bucket exists.
    pub fn kv_buckets<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.initial.buckets = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// A blob present before anything runs (its container is created too).
    pub fn blob(mut self, container: impl Into<String>, object: impl Into<String>, data: impl Into<Vec<u8>>) -> Self {
        self.initial.blobs.push((container.into(), object.into(), data.into()));
        self
    }

    /// Memory limit per instance (default 256 MiB).
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.limits.memory_bytes = bytes;
        self
    }

    /// Most linear memory all instances together may hold (default: no
    /// total, only [`memory_limit`](Self::memory_limit) per instance). A
    /// guest growing past it traps with [`Error::MemoryBudget`].
    pub fn total_memory_limit(mut self, bytes: usize) -> Self {
        self.limits.total_memory_bytes = Some(bytes);
        self
    }

    /// Time limit per invocation (default 10 s).
    pub fn invocation_timeout(mut self, limit: Duration) -> Self {
        self.limits.invocation_timeout = limit;
        self
    }

    /// Create the environment.
    pub fn build(self) -> Result<Environment, Error> {
        let mut linker = Linker::new(engine()?);
        host::add_to_linker(&mut linker).map_err(|e| Error::Setup(chain(&e)))?;
        let world = World::new(self.limits, self.seed, self.config, self.initial, self.schedule);
        Ok(Environment::rooted(Arc::new(Shared::new(world, self.service, Arc::new(linker)))))
    }
}

impl Environment {
    /// A fresh environment with default settings.
    pub fn new() -> Result<Self, Error> {
        Environment::builder().build()
    }

    /// Configure an environment.
    pub fn builder() -> EnvironmentBuilder {
        EnvironmentBuilder::default()
    }

    /// The environment's settings.
    pub fn limits(&self) -> Limits {
        self.shared.world.limits
    }

    /// The seed of the environment's deterministic randomness.
    pub fn seed(&self) -> u64 {
        self.shared.world.seed
    }

    /// How the environment's agents take turns.
    pub fn schedule(&self) -> Schedule {
        self.shared.world.scheduler.schedule()
    }

    /// How the agents took turns so far: each switch from one to another,
    /// in order (`agent `a` before entry 7 -> queue of b`, the queue of
    /// agent `b` taking over before `a` wrote its entry 7).
    pub fn interleaving(&self) -> Vec<String> {
        self.shared.world.scheduler.switches()
    }

    /// A new environment with the same settings and loaded components, no
    /// agents, and stores holding only the builder's initial data.
    pub fn fresh(&self) -> Environment {
        self.fresh_with(self.schedule())
    }

    /// [`Environment::fresh`], its agents taking turns under `schedule`.
    pub fn fresh_with(&self, schedule: Schedule) -> Environment {
        let s = &self.shared;
        let shared = Shared::new(s.world.fresh_with(schedule), s.service.clone(), s.linker.clone());
        // Components are compiled once and immutable: the copy has them too,
        // so agents in it can reach other agent types by RPC.
        *shared.components() = s.components().clone();
        *shared.plugins() = s.plugins().fresh_copy();
        Environment::rooted(Arc::new(shared))
    }

    fn rooted(shared: Arc<Shared>) -> Environment {
        Environment { _root: Some(Arc::new(Root(shared.clone()))), shared }
    }

    /// The handle an environment-owned agent keeps: it does not keep the
    /// environment's owned agents alive.
    pub(crate) fn unrooted(&self) -> Environment {
        Environment { shared: self.shared.clone(), _root: None }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// A way to see, after dropping every handle, whether anything still
    /// keeps the environment's state alive (for leak tests).
    #[doc(hidden)]
    pub fn liveness(&self) -> Liveness {
        Liveness(Arc::downgrade(&self.shared))
    }

    /// Create an agent held by the test (not reachable by RPC).
    fn create_held(&self, component: &LoadedComponent, new: NewAgent<'_>) -> Result<Agent, Error> {
        self.create_held_or_refused(component, new)?.map_err(|e| Error::Agent(crate::data::describe_agent_error(&e)))
    }

    /// [`Environment::create_held`], a refusing constructor's error apart.
    pub(crate) fn create_held_or_refused(
        &self,
        component: &LoadedComponent,
        new: NewAgent<'_>,
    ) -> Result<Result<Agent, AgentError>, Error> {
        let id = new.id(component)?;
        let mut new = new;
        {
            let mut registry = self.shared.registry();
            if registry.owned(&id).is_some() {
                return Err(Error::Setup(format!(
                    "agent `{id}` already exists in this environment, created by an RPC call or `connect_agent`; reach it with `Environment::agent_handle`"
                )));
            }
            new.crashes.extend(registry.take_planned_crashes(&id));
            registry.hold_for_test(&id);
        }
        let created = Agent::create(Arc::new(self.clone()), component.clone(), new);
        if !matches!(created, Ok(Ok(_))) {
            self.shared.registry().release_test_hold(&id);
        }
        created
    }

    /// The environment-owned agent of `agent_type` with `args`, created if
    /// needed (its constructor continuing `incoming`, an RPC caller's context).
    pub(crate) fn connect_owned(
        &self,
        component: &LoadedComponent,
        agent_type: &str,
        args: &[Value],
        phantom: Option<crate::bindings::golem::core::types::Uuid>,
        incoming: Option<crate::bindings::IncomingContext>,
    ) -> Result<AgentHandle, ConnectError> {
        let mut new = NewAgent { incoming: incoming.map(Arc::new), phantom, ..NewAgent::agent(agent_type, args) };
        let id = new.id(component).map_err(ConnectError::Failed)?;
        {
            let mut registry = self.shared.registry();
            if let Some(handle) = registry.owned(&id) {
                return Ok(handle);
            }
            match registry.begin_creating(&id) {
                Ok(()) => {}
                Err(Unavailable::HeldByTest) => return Err(ConnectError::HeldByTest(id)),
                Err(Unavailable::Creating) => return Err(ConnectError::Creating(id)),
            }
            new.crashes = registry.take_planned_crashes(&id);
        }
        // No lock is held while the constructor runs: it may call other agents.
        let created = Agent::create(Arc::new(self.unrooted()), component.clone(), new);
        match created {
            Ok(Ok(agent)) => {
                let handle = AgentHandle::new(agent);
                self.shared.registry().end_creating(&id, Some(handle.clone()));
                Ok(handle)
            }
            // No agent was made: it is not reported to `get-agents` either.
            Ok(Err(refused)) => {
                self.shared.registry().end_creating(&id, None);
                Err(ConnectError::Refused(refused))
            }
            Err(e) => {
                self.shared.registry().end_creating(&id, None);
                Err(ConnectError::Failed(e))
            }
        }
    }

    /// Create an agent of `agent_type` in a component exporting
    /// `golem:agent/guest@1.5.0`, with the given constructor arguments.
    pub fn create_agent(&self, component: &LoadedComponent, agent_type: &str, args: &[Value]) -> Result<Agent, Error> {
        self.create_held(component, NewAgent::agent(agent_type, args))
    }

    /// Create an agent whose oplog is `oplog` (an empty one, typically a new
    /// file from [`Oplog::create_file`](crate::oplog::Oplog::create_file)), or
    /// resume one from an oplog recorded earlier, for example a file that
    /// outlived the process that wrote it: the agent is recovered by replay.
    pub fn agent_with_oplog(
        &self,
        component: &LoadedComponent,
        agent_type: &str,
        args: &[Value],
        oplog: crate::oplog::Oplog,
    ) -> Result<Agent, Error> {
        self.create_held(component, NewAgent { oplog, ..NewAgent::agent(agent_type, args) })
    }

    /// Start a worker of a plain component (one that exports functions rather
    /// than `golem:agent/guest`), named `name`; call it with [`Agent::call`].
    /// Invocations are journaled and replayed exactly as for agents.
    pub fn create_worker(&self, component: &LoadedComponent, name: &str) -> Result<Agent, Error> {
        self.create_held(component, NewAgent { plain: true, ..NewAgent::agent(name, &[]) })
    }

    /// Like [`Environment::create_agent`], with crashes injected at `crashes`.
    pub fn create_agent_with_crashes(
        &self,
        component: &LoadedComponent,
        agent_type: &str,
        args: &[Value],
        crashes: Vec<CrashPoint>,
    ) -> Result<Agent, Error> {
        self.create_held(component, NewAgent { crashes, ..NewAgent::agent(agent_type, args) })
    }

    /// The environment-owned agent of `agent_type` with these constructor
    /// arguments, created (its constructor run) if it does not exist yet.
    /// Other agents reach the same agent by RPC; a test uses this to prepare
    /// an agent before others call it, or to call it alongside them.
    pub fn connect_agent(
        &self,
        component: &LoadedComponent,
        agent_type: &str,
        args: &[Value],
    ) -> Result<AgentHandle, Error> {
        self.connect_owned(component, agent_type, args, None, None).map_err(|e| match e {
            ConnectError::Refused(e) => Error::Agent(crate::data::describe_agent_error(&e)),
            ConnectError::Failed(e) => e,
            other => Error::Setup(other.to_string()),
        })
    }

    /// The environment-owned agent with this id, if it exists.
    pub fn agent_handle(&self, id: &str) -> Option<AgentHandle> {
        self.shared.registry().owned(id)
    }

    /// Every environment-owned agent, by id.
    pub fn owned_agents(&self) -> Vec<AgentHandle> {
        self.shared.registry().all_owned()
    }

    /// Inject crashes into the agent with id `agent_id`: at once if the
    /// environment owns it already, otherwise when it is created (by an RPC
    /// call, [`Environment::connect_agent`] or [`Environment::create_agent`]).
    pub fn schedule_crashes(&self, agent_id: &str, points: impl IntoIterator<Item = CrashPoint>) {
        match self.agent_handle(agent_id) {
            Some(handle) => handle.lock().schedule_crashes(points),
            None => self.shared.registry().plan_crashes(agent_id, points),
        }
    }

    /// Like [`Environment::create_agent`], its first instance noting `notes`
    /// (crash verification: where crashes would strike a crash-free run).
    pub(crate) fn create_agent_noting(
        &self,
        component: &LoadedComponent,
        agent_type: &str,
        args: &[Value],
        notes: CrashNotes,
    ) -> Result<Agent, Error> {
        self.create_held(component, NewAgent { notes: Some(notes), ..NewAgent::agent(agent_type, args) })
    }

    /// The agent as `fired` left it: `oplog` is what the crash kept, `crashes`
    /// are still to strike; it recovers on first use.
    pub(crate) fn agent_after_crash(
        &self,
        component: &LoadedComponent,
        agent_type: &str,
        args: &[Value],
        oplog: crate::oplog::Oplog,
        crashes: Vec<CrashPoint>,
        fired: FiredCrash,
    ) -> Result<Agent, Error> {
        let new = NewAgent { oplog, crashes, crashed: Some(fired), ..NewAgent::agent(agent_type, args) };
        self.create_held(component, new)
    }

    /// Whether any plugin is installed.
    pub(crate) fn has_plugin_installations(&self) -> bool {
        self.shared.plugins().has_installations()
    }

    /// A copy of the key-value store: bucket → key → value.
    pub fn kv_contents(&self) -> BTreeMap<String, BTreeMap<String, Vec<u8>>> {
        self.shared.world.kv().buckets().clone()
    }

    /// Set (or with `None` delete) a key-value entry from the test, as an
    /// operator would: agents see it on their next read; it is not one of
    /// their writes ([`Environment::kv_writes`]).
    pub fn kv_put(&self, bucket: &str, key: &str, value: Option<&[u8]>) {
        self.shared.world.kv().put_external(bucket, key, value.map(<[u8]>::to_vec));
    }

    /// Every write made to the key-value store, in order.
    pub fn kv_writes(&self) -> Vec<KvWrite> {
        self.shared.world.kv().writes().to_vec()
    }

    /// The recording service attached with [`EnvironmentBuilder::recording_service`].
    pub fn recording_service(&self) -> Option<&RecordingService> {
        self.shared.service.as_ref()
    }

    /// What the environment reports about its agents, by agent id.
    pub fn agents(&self) -> Vec<AgentRecord> {
        self.shared.registry().records()
    }

    /// A copy of the blob store: container → object → data.
    pub fn blob_contents(&self) -> BTreeMap<String, BTreeMap<String, Vec<u8>>> {
        self.shared.world.blobs().contents()
    }

    /// Every write made to the blob store, in order.
    pub fn blob_writes(&self) -> Vec<BlobWrite> {
        self.shared.world.blobs().writes().to_vec()
    }
}
