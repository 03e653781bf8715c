//! Test environments and the components loaded into them.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use wasmtime::Store;
use wasmtime::component::{InstancePre, Linker};

use crate::agent::{Agent, AgentHandle, NewAgent};
use crate::engine::{compile, engine, lock};
use crate::error::{Error, chain};
use crate::host::bindings::exports::golem::agent::guest::GuestIndices;
use crate::host::bindings::exports::golem::api::oplog_processor::GuestIndices as ProcessorIndices;
pub use crate::host::bindings::golem::agent::common::AgentType;
use crate::host::bindings::golem::api::oplog::{EnvironmentPluginGrantId, PluginInstallationDescription};
use crate::host::blobstore::{BlobStore, BlobWrite};
use crate::host::keyvalue::KvStore;
use crate::host::registry::AgentRecord;
use crate::host::{self, HostState, LogRecord};
use crate::inspect::{self, ComponentInfo};
use crate::value::Value;

/// Resource limits applied to every instance of an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest linear memory an instance may grow to.
    pub memory_bytes: usize,
    /// Longest one invocation (including its replay) may run.
    pub invocation_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { memory_bytes: 256 * 1024 * 1024, invocation_timeout: Duration::from_secs(10) }
    }
}

/// State shared by everything running in one environment.
pub(crate) struct Shared {
    pub(crate) limits: Limits,
    pub(crate) seed: u64,
    /// `wasi:config` values, also reported as every agent's configuration.
    pub(crate) config: Vec<(String, String)>,
    pub(crate) service: Option<crate::recording::RecordingService>,
    /// What the stores hold before anything runs (kept for `fresh`).
    initial: InitialData,
    kv: Mutex<KvStore>,
    blobs: Mutex<BlobStore>,
    agents: Mutex<std::collections::BTreeMap<String, AgentRecord>>,
    components: Mutex<std::collections::BTreeMap<(u128, u64), LoadedComponent>>,
    /// Updates and reverts requested through `update-agent` and
    /// `revert-agent`, applied by each target before its next invocation.
    pub(crate) pending_requests: Mutex<Vec<(String, crate::agent::AgentRequest)>>,
    /// Agents the environment owns (created by RPC calls or
    /// [`Environment::connect_agent`]), by agent id.
    owned: Mutex<BTreeMap<String, AgentHandle>>,
    /// Ids of agents a test holds as an [`Agent`] value; RPC cannot reach them.
    held_by_tests: Mutex<std::collections::BTreeSet<String>>,
    /// Environment-owned agents whose constructor is running.
    creating: Mutex<std::collections::BTreeSet<String>>,
    /// Crashes to inject into agents not created yet (or already running), by agent id.
    crash_plan: Mutex<BTreeMap<String, Vec<crate::CrashPoint>>>,
    /// Host bindings every instance of the environment links against.
    linker: Arc<Linker<HostState>>,
    /// Plugin definitions, installations, and the oplogs delivered to them.
    plugins: Mutex<crate::plugins::PluginHost>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("limits", &self.limits).field("seed", &self.seed).finish_non_exhaustive()
    }
}

impl Shared {
    fn new(
        limits: Limits,
        seed: u64,
        config: Vec<(String, String)>,
        service: Option<crate::recording::RecordingService>,
        initial: InitialData,
        linker: Arc<Linker<HostState>>,
    ) -> Self {
        Shared {
            limits,
            seed,
            config,
            service,
            kv: Mutex::new(KvStore::with_initial(&initial.kv, initial.buckets.clone())),
            blobs: Mutex::new(BlobStore::with_initial(&initial.blobs)),
            initial,
            agents: Mutex::default(),
            components: Mutex::default(),
            pending_requests: Mutex::default(),
            owned: Mutex::default(),
            held_by_tests: Mutex::default(),
            creating: Mutex::default(),
            crash_plan: Mutex::default(),
            linker,
            plugins: Mutex::default(),
        }
    }

    pub(crate) fn components(&self) -> MutexGuard<'_, std::collections::BTreeMap<(u128, u64), LoadedComponent>> {
        lock(&self.components)
    }

    pub(crate) fn agents(&self) -> MutexGuard<'_, std::collections::BTreeMap<String, AgentRecord>> {
        lock(&self.agents)
    }

    pub(crate) fn kv(&self) -> MutexGuard<'_, KvStore> {
        lock(&self.kv)
    }

    pub(crate) fn blobs(&self) -> MutexGuard<'_, BlobStore> {
        lock(&self.blobs)
    }

    pub(crate) fn owned(&self) -> MutexGuard<'_, BTreeMap<String, AgentHandle>> {
        lock(&self.owned)
    }

    pub(crate) fn is_held_by_a_test(&self, id: &str) -> bool {
        lock(&self.held_by_tests).contains(id)
    }

    pub(crate) fn hold_for_test(&self, id: &str) {
        lock(&self.held_by_tests).insert(id.to_string());
    }

    /// What plugin grant `grant` stands for, if it is installed here.
    pub(crate) fn plugin_installation(
        &self,
        grant: &EnvironmentPluginGrantId,
    ) -> Option<PluginInstallationDescription> {
        self.plugins().installation(grant)
    }

    pub(crate) fn plugins(&self) -> MutexGuard<'_, crate::plugins::PluginHost> {
        lock(&self.plugins)
    }

    /// The crashes planned for agent `id` (taken: each fires once).
    pub(crate) fn take_planned_crashes(&self, id: &str) -> Vec<crate::CrashPoint> {
        lock(&self.crash_plan).remove(id).unwrap_or_default()
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
    Refused(crate::host::bindings::golem::agent::common::AgentError),
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
            ConnectError::Refused(e) => f.write_str(&crate::agent::describe_agent_error(e)),
            ConnectError::Failed(e) => e.fmt(f),
        }
    }
}

/// The environment-owned agent of `agent_type` with `args`, created if needed.
pub(crate) fn connect(
    shared: &Arc<Shared>,
    component: &LoadedComponent,
    agent_type: &str,
    args: &[Value],
) -> Result<AgentHandle, ConnectError> {
    let id = crate::agent::agent_id(component.agent_type(agent_type).map_err(ConnectError::Failed)?, args);
    if let Some(handle) = shared.owned().get(&id) {
        return Ok(handle.clone());
    }
    if shared.is_held_by_a_test(&id) {
        return Err(ConnectError::HeldByTest(id));
    }
    if !lock(&shared.creating).insert(id.clone()) {
        return Err(ConnectError::Creating(id));
    }
    // No lock is held while the constructor runs: it may call other agents.
    let env = Environment::unrooted(shared.clone());
    let new = NewAgent { env_owned: true, ..NewAgent::agent(agent_type, args) };
    let created = Agent::create_answer(env, component.clone(), new);
    lock(&shared.creating).remove(&id);
    match created {
        Ok(Ok(agent)) => {
            let handle = AgentHandle::new(agent);
            shared.owned().insert(id, handle.clone());
            Ok(handle)
        }
        // No agent was made: it is not reported to `get-agents` either.
        Ok(Err(refused)) => {
            shared.agents().remove(&id);
            Err(ConnectError::Refused(refused))
        }
        Err(e) => {
            shared.agents().remove(&id);
            Err(ConnectError::Failed(e))
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
        let agents = std::mem::take(&mut *self.0.owned());
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
        f.debug_struct("Environment").field("limits", &self.shared.limits).field("seed", &self.shared.seed).finish()
    }
}

/// Builds an [`Environment`] with non-default settings.
/// Data the stores of an environment (and of each [`Environment::fresh`]
/// copy) start with.
#[derive(Debug, Clone, Default)]
pub(crate) struct InitialData {
    kv: Vec<(String, String, Vec<u8>)>,
    blobs: Vec<(String, String, Vec<u8>)>,
    /// The only buckets that exist, when restricted.
    buckets: Option<std::collections::BTreeSet<String>>,
}

#[derive(Debug, Clone, Default)]
pub struct EnvironmentBuilder {
    limits: Limits,
    seed: u64,
    config: Vec<(String, String)>,
    service: Option<crate::recording::RecordingService>,
    initial: InitialData,
}

impl EnvironmentBuilder {
    /// Seed of the agents' deterministic randomness (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// A `wasi:config` value (also listed in every agent's metadata).
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.push((key.into(), value.into()));
        self
    }

    /// Attach a recording service: crash verification then also compares the
    /// requests it received (and resets it before every run).
    pub fn recording_service(mut self, service: &crate::recording::RecordingService) -> Self {
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

    /// Time limit per invocation (default 10 s).
    pub fn invocation_timeout(mut self, limit: Duration) -> Self {
        self.limits.invocation_timeout = limit;
        self
    }

    /// Create the environment.
    pub fn build(self) -> Result<Environment, Error> {
        let mut linker = Linker::new(engine()?);
        host::add_to_linker(&mut linker).map_err(|e| Error::Setup(chain(&e)))?;
        let shared = Shared::new(self.limits, self.seed, self.config, self.service, self.initial, Arc::new(linker));
        Ok(Environment::rooted(Arc::new(shared)))
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
        self.shared.limits
    }

    /// The seed of the environment's deterministic randomness.
    pub fn seed(&self) -> u64 {
        self.shared.seed
    }

    /// A new environment with the same settings and loaded components, no
    /// agents, and stores holding only the builder's initial data.
    pub fn fresh(&self) -> Environment {
        let s = &self.shared;
        let shared =
            Shared::new(s.limits, s.seed, s.config.clone(), s.service.clone(), s.initial.clone(), s.linker.clone());
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
    pub(crate) fn unrooted(shared: Arc<Shared>) -> Environment {
        Environment { shared, _root: None }
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

    /// Load a component file: inspect it, refuse it if it imports anything
    /// Golem 1.5 does not provide, and compile it (cached per process and on disk).
    pub fn load(&self, path: impl AsRef<Path>) -> Result<LoadedComponent, Error> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).map_err(|source| inspect::InspectError::Io { path: path.to_owned(), source })?;
        self.load_bytes(&bytes)
    }

    /// Run `discover-agent-types` in a scratch instance that records nothing.
    fn discover(&self, pre: &InstancePre<HostState>, indices: &GuestIndices) -> Result<Vec<AgentType>, String> {
        let mut store = Store::new(pre.engine(), HostState::for_command(self.shared.clone()));
        crate::agent::apply_limits(&mut store);
        let instance = pre.instantiate(&mut store).map_err(|e| format!("instantiating it failed: {}", chain(&e)))?;
        let guest = indices.load(&mut store, &instance).map_err(|e| chain(&e))?;
        match guest.call_discover_agent_types(&mut store) {
            Ok(Ok(types)) => Ok(types),
            Ok(Err(e)) => Err(crate::agent::describe_agent_error(&e)),
            Err(e) => Err(format!("it trapped: {}", chain(&e))),
        }
    }

    /// Load a component held in memory; see [`Environment::load`].
    pub fn load_bytes(&self, bytes: &[u8]) -> Result<LoadedComponent, Error> {
        let info = inspect::inspect_bytes(bytes)?;
        info.check_golem_imports()?;
        let component = compile(bytes)?;
        let pre = self.shared.linker.instantiate_pre(&component).map_err(|e| Error::Instantiate(chain(&e)))?;
        let guest = GuestIndices::new(&pre).ok();
        let processor = ProcessorIndices::new(&pre).ok();
        let id = crate::host::journal::seed_from(&[bytes]);
        let component_id = u128::from(id) << 64 | u128::from(id.rotate_left(17));
        let agent_types = match &guest {
            Some(indices) => self.discover(&pre, indices),
            None => Ok(Vec::new()),
        };
        let inner = ComponentInner {
            info,
            pre,
            guest,
            processor,
            plugins: Vec::new(),
            agent_types,
            id: component_id,
            revision: 0,
        };
        let component = LoadedComponent { inner: Arc::new(inner) };
        self.shared.components().insert((component_id, 0), component.clone());
        Ok(component)
    }

    /// Load a new revision of `component` (same component id, next revision
    /// number), which agents can be updated to.
    pub fn load_revision(&self, component: &LoadedComponent, path: impl AsRef<Path>) -> Result<LoadedComponent, Error> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).map_err(|source| inspect::InspectError::Io { path: path.to_owned(), source })?;
        let loaded = self.load_bytes(&bytes)?;
        // Installed plugins stay installed when the code changes.
        Ok(self.add_revision(component, &loaded, component.inner.plugins.clone()))
    }

    /// Register the next revision of `component`: `code`'s binary with `plugins` installed.
    pub(crate) fn add_revision(
        &self,
        component: &LoadedComponent,
        code: &LoadedComponent,
        plugins: Vec<PluginInstallationDescription>,
    ) -> LoadedComponent {
        let id = component.inner.id;
        let mut components = self.shared.components();
        let revision = components.keys().filter(|(c, _)| *c == id).map(|(_, r)| r + 1).max().unwrap_or(1);
        let inner = ComponentInner {
            info: code.inner.info.clone(),
            pre: code.inner.pre.clone(),
            guest: code.inner.guest.clone(),
            processor: code.inner.processor.clone(),
            plugins,
            agent_types: code.inner.agent_types.clone(),
            id,
            revision,
        };
        let revised = LoadedComponent { inner: Arc::new(inner) };
        components.insert((id, revision), revised.clone());
        revised
    }

    pub(crate) fn component_revision(&self, id: u128, revision: u64) -> Option<LoadedComponent> {
        self.shared.components().get(&(id, revision)).cloned()
    }

    /// Create an agent of `agent_type` in a component exporting
    /// `golem:agent/guest@1.5.0`, with the given constructor arguments.
    pub fn create_agent(&self, component: &LoadedComponent, agent_type: &str, args: &[Value]) -> Result<Agent, Error> {
        Agent::create(self.clone(), component.clone(), NewAgent::agent(agent_type, args))
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
        Agent::create(self.clone(), component.clone(), NewAgent { oplog, ..NewAgent::agent(agent_type, args) })
    }

    /// Start a worker of a plain component (one that exports functions rather
    /// than `golem:agent/guest`), named `name`; call it with [`Agent::call`].
    /// Invocations are journaled and replayed exactly as for agents.
    pub fn create_worker(&self, component: &LoadedComponent, name: &str) -> Result<Agent, Error> {
        Agent::create(self.clone(), component.clone(), NewAgent { plain: true, ..NewAgent::agent(name, &[]) })
    }

    /// Like [`Environment::create_agent`], with crashes injected at `crashes`.
    pub fn create_agent_with_crashes(
        &self,
        component: &LoadedComponent,
        agent_type: &str,
        args: &[Value],
        crashes: Vec<crate::CrashPoint>,
    ) -> Result<Agent, Error> {
        Agent::create(self.clone(), component.clone(), NewAgent { crashes, ..NewAgent::agent(agent_type, args) })
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
        connect(&self.shared, component, agent_type, args).map_err(|e| match e {
            ConnectError::Refused(e) => Error::Agent(crate::agent::describe_agent_error(&e)),
            ConnectError::Failed(e) => e,
            other => Error::Setup(other.to_string()),
        })
    }

    /// The environment-owned agent with this id, if it exists.
    pub fn agent_handle(&self, id: &str) -> Option<AgentHandle> {
        self.shared.owned().get(id).cloned()
    }

    /// Every environment-owned agent, by id.
    pub fn owned_agents(&self) -> Vec<AgentHandle> {
        self.shared.owned().values().cloned().collect()
    }

    /// Inject crashes into the agent with id `agent_id`: at once if the
    /// environment owns it already, otherwise when it is created (by an RPC
    /// call, [`Environment::connect_agent`] or [`Environment::create_agent`]).
    pub fn schedule_crashes(&self, agent_id: &str, points: impl IntoIterator<Item = crate::CrashPoint>) {
        match self.agent_handle(agent_id) {
            Some(handle) => handle.lock().schedule_crashes(points),
            None => lock(&self.shared.crash_plan).entry(agent_id.to_string()).or_default().extend(points),
        }
    }

    /// A copy of the key-value store: bucket → key → value.
    pub fn kv_contents(&self) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<u8>>> {
        self.shared.kv().buckets().clone()
    }

    /// Set (or with `None` delete) a key-value entry from the test, as an
    /// operator would: agents see it on their next read; it is not one of
    /// their writes ([`Environment::kv_writes`]).
    pub fn kv_put(&self, bucket: &str, key: &str, value: Option<&[u8]>) {
        self.shared.kv().put_external(bucket, key, value.map(<[u8]>::to_vec));
    }

    /// Every write made to the key-value store, in order.
    pub fn kv_writes(&self) -> Vec<crate::host::keyvalue::KvWrite> {
        self.shared.kv().writes().to_vec()
    }

    /// The recording service attached with [`EnvironmentBuilder::recording_service`].
    pub fn recording_service(&self) -> Option<&crate::recording::RecordingService> {
        self.shared.service.as_ref()
    }

    /// What the environment reports about its agents, by agent id.
    pub fn agents(&self) -> Vec<AgentRecord> {
        self.shared.agents().values().cloned().collect()
    }

    /// A copy of the blob store: container → object → data.
    pub fn blob_contents(&self) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<u8>>> {
        self.shared.blobs().contents()
    }

    /// Every write made to the blob store, in order.
    pub fn blob_writes(&self) -> Vec<BlobWrite> {
        self.shared.blobs().writes().to_vec()
    }
}

pub(crate) struct ComponentInner {
    pub(crate) info: ComponentInfo,
    pub(crate) pre: InstancePre<HostState>,
    pub(crate) guest: Option<GuestIndices>,
    /// The `golem:api/oplog-processor` export, for plugin components.
    pub(crate) processor: Option<ProcessorIndices>,
    /// Plugins installed to this revision.
    pub(crate) plugins: Vec<PluginInstallationDescription>,
    /// What discovery returned (or why it failed).
    agent_types: Result<Vec<AgentType>, String>,
    pub(crate) id: u128,
    pub(crate) revision: u64,
}

/// A compiled component, ready to be instantiated any number of times.
/// Cloning is cheap.
#[derive(Clone)]
pub struct LoadedComponent {
    pub(crate) inner: Arc<ComponentInner>,
}

impl std::fmt::Debug for LoadedComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedComponent").field("info", &self.inner.info).finish_non_exhaustive()
    }
}

/// The result of running a command component's `wasi:cli/run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutcome {
    /// 0 for success; 1 when `run` returned an error; the code passed to WASI
    /// `exit` otherwise.
    pub exit_code: i32,
    /// Everything the guest wrote to stdout (lossily decoded as UTF-8).
    pub stdout: String,
    /// Everything the guest wrote to stderr.
    pub stderr: String,
    /// Messages logged through `wasi:logging`, in order.
    pub logs: Vec<LogRecord>,
}

impl LoadedComponent {
    /// The component's revision (0 for the first load).
    pub fn revision(&self) -> u64 {
        self.inner.revision
    }

    /// The plugins installed to this revision.
    pub fn plugins(&self) -> &[PluginInstallationDescription] {
        &self.inner.plugins
    }

    /// The installation of plugin `name` on this revision, if any.
    pub fn plugin(&self, name: &str) -> Option<&PluginInstallationDescription> {
        self.inner.plugins.iter().find(|p| p.plugin_name == name)
    }

    /// What the component imports and exports.
    pub fn info(&self) -> &ComponentInfo {
        &self.inner.info
    }

    /// The agent types the component defines, as its
    /// `discover-agent-types` returned them when it was loaded (none for a
    /// component that is not an agent component).
    pub fn agent_types(&self) -> Result<&[AgentType], Error> {
        self.inner.agent_types.as_deref().map_err(|e| Error::Discovery(e.clone()))
    }

    /// The agent type called `name`.
    pub fn agent_type(&self, name: &str) -> Result<&AgentType, Error> {
        let types = self.agent_types()?;
        types.iter().find(|t| t.type_name == name).ok_or_else(|| {
            let known: Vec<&str> = types.iter().map(|t| t.type_name.as_str()).collect();
            Error::UnknownAgentType { name: name.to_string(), known: known.join(", ") }
        })
    }

    /// Run a command component (one exporting `wasi:cli/run`, as a Rust binary
    /// built for `wasm32-wasip2` does) in a fresh instance of `env`.
    pub fn run(&self, env: &Environment) -> Result<CommandOutcome, Error> {
        use wasmtime_wasi::p2::bindings::sync::CommandPre;

        let pre = CommandPre::new(self.inner.pre.clone())
            .map_err(|e| Error::MissingExport(format!("`wasi:cli/run` ({})", chain(&e))))?;
        let mut store = Store::new(self.inner.pre.engine(), HostState::for_command(env.shared().clone()));
        crate::agent::apply_limits(&mut store);
        let command = pre.instantiate(&mut store).map_err(|e| Error::Instantiate(chain(&e)))?;
        let exit_code = match command.wasi_cli_run().call_run(&mut store) {
            Ok(Ok(())) => 0,
            Ok(Err(())) => 1,
            Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
                Some(exit) => exit.0,
                None => return Err(crate::agent::classify_trap(&e, &store)),
            },
        };
        let state = store.into_data();
        Ok(CommandOutcome {
            exit_code,
            stdout: String::from_utf8_lossy(&state.stdout.contents()).into_owned(),
            stderr: String::from_utf8_lossy(&state.stderr.contents()).into_owned(),
            logs: state.logs,
        })
    }
}
