//! What one component instance sees of the host.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::LogRecord;
use super::context::Spans;
use super::directory::AgentDirectory;
use super::limits::InstanceLimits;
use super::world::World;
use crate::journal::Journal;

/// Most bytes of stdout or stderr kept per instance; output beyond is dropped.
const CAPTURE_LIMIT: usize = 16 * 1024 * 1024;

/// Identity of the agent an instance runs, as its host functions report it.
#[derive(Debug, Clone, Default)]
pub(crate) struct AgentIdentity {
    pub(crate) component_id: u128,
    pub(crate) name: String,
}

/// Store data of one instance.
pub(crate) struct HostState {
    wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) stdout: MemoryOutputPipe,
    pub(crate) stderr: MemoryOutputPipe,
    pub(crate) logs: Vec<LogRecord>,
    pub(crate) journal: Journal,
    pub(crate) limits: InstanceLimits,
    /// The environment's stores and settings.
    pub(crate) world: Arc<World>,
    /// The other agents.
    pub(crate) directory: Arc<dyn AgentDirectory>,
    pub(crate) agent: AgentIdentity,
    pub(crate) spans: Spans,
    pub(crate) http_ctx: wasmtime_wasi_http::WasiHttpCtx,
    /// Open HTTP exchanges.
    pub(crate) exchanges: super::http::Exchanges,
    /// What open timer and promise pollables wait for.
    pub(crate) waits: super::waits::Waits,
}

impl HostState {
    pub(crate) fn new(
        world: Arc<World>,
        directory: Arc<dyn AgentDirectory>,
        mut journal: Journal,
        agent: AgentIdentity,
    ) -> Self {
        journal.http_stubs = Some(world.http.clone());
        let stdout = MemoryOutputPipe::new(CAPTURE_LIMIT);
        let stderr = MemoryOutputPipe::new(CAPTURE_LIMIT);
        let wasi = WasiCtx::builder().stdout(stdout.clone()).stderr(stderr.clone()).build();
        let limits = InstanceLimits::new(world.limits.memory_bytes, world.memory.clone());
        HostState {
            wasi,
            table: ResourceTable::new(),
            stdout,
            stderr,
            logs: Vec::new(),
            journal,
            limits,
            world,
            directory,
            agent,
            spans: Default::default(),
            http_ctx: wasmtime_wasi_http::WasiHttpCtx::new(),
            exchanges: Default::default(),
            waits: Default::default(),
        }
    }

    /// Store data for a command run: no agent, an oplog nobody keeps.
    pub(crate) fn for_command(world: Arc<World>, directory: Arc<dyn AgentDirectory>) -> Self {
        HostState::new(world, directory, Journal::empty(), AgentIdentity::default())
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}
