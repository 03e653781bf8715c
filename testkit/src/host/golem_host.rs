//! `golem:api/host@1.5.0`: oplog position, atomic regions, persistence and
//! idempotence, idempotency keys, agent metadata (forks in `forks.rs`).

use wasmtime::component::Resource;

use super::HostState;
use super::names;
use crate::bindings::AgentEnumeration;
use crate::bindings::golem::api::host::{
    AgentId, AgentMetadata, AgentStatus, ComponentId, ComponentRevision, EnvironmentId, ForkResult, GetPromiseResult,
    Host, HostGetAgents, HostGetPromiseResult, OplogIndex, PersistenceLevel, PromiseId, RevertAgentTarget, UpdateMode,
    Uuid,
};
use crate::bindings::golem::api::oplog::{
    ChangePersistenceLevelParameters, EndAtomicRegionParameters, JumpParameters, OplogRegion, WrappedFunctionType,
};
use crate::bindings::wasi::io::poll::Pollable;
use crate::host::directory::{AgentRequest, RevertTarget};
use crate::ids::uuid_from_u128;
use crate::journal::{Interrupt, Json, Strict, journaled_record};
use crate::oplog::OplogEntry;
use crate::oplog::persistence_level_name as persistence_name;

journaled_record!(Uuid { high_bits: "high-bits", low_bits: "low-bits" });

fn unsupported(function: &str) -> wasmtime::Error {
    wasmtime::format_err!("`golem:api/host.{function}` is not supported by the Reprise testkit yet")
}

impl HostState {
    pub(crate) fn agent_id(&self) -> AgentId {
        AgentId {
            component_id: ComponentId { uuid: uuid_from_u128(self.agent.component_id) },
            agent_id: self.agent.name.clone(),
        }
    }

    /// Append `entry` when live, or check it against the oplog when replaying.
    fn marker(&mut self, kind: Strict, entry: impl FnOnce(&Self) -> OplogEntry, what: &str) -> wasmtime::Result<u64> {
        if self.journal.is_live() {
            let e = entry(self);
            self.journal.append(e)
        } else {
            let (index, _) = self.journal.replay(kind, || what.to_string())?;
            Ok(index)
        }
    }
}

impl Host for HostState {
    fn create_promise(&mut self) -> wasmtime::Result<PromiseId> {
        self.create_promise_now()
    }

    fn get_promise(&mut self, promise_id: PromiseId) -> wasmtime::Result<Resource<GetPromiseResult>> {
        self.await_promise(promise_id)
    }

    fn complete_promise(&mut self, promise_id: PromiseId, data: Vec<u8>) -> wasmtime::Result<bool> {
        self.complete_promise_now(promise_id, data)
    }

    fn get_oplog_index(&mut self) -> wasmtime::Result<OplogIndex> {
        self.marker(Strict::NoOp, |s| OplogEntry::NoOp(s.journal.timestamp()), "read its oplog index")
    }

    fn set_oplog_index(&mut self, oplog_idx: OplogIndex) -> wasmtime::Result<()> {
        let last = self.journal.last_index();
        if oplog_idx == 0 || oplog_idx > last {
            return Err(wasmtime::format_err!("set-oplog-index({oplog_idx}): the oplog has entries 1..={last}"));
        }
        if !self.journal.is_live() {
            // The jump was recorded; replay already passes over the region.
            return Ok(());
        }
        // As Golem encodes it: from the entry after `oplog_idx` up to and
        // including the jump entry itself.
        self.journal.append(OplogEntry::Jump(JumpParameters {
            timestamp: self.journal.now(),
            jump: OplogRegion { start: oplog_idx + 1, end: last + 1 },
        }))?;
        Err(Interrupt::Restart.raise())
    }

    fn oplog_commit(&mut self, _replicas: u8) -> wasmtime::Result<()> {
        // One replica: committing is all there is to wait for.
        if self.journal.is_live() {
            self.journal.commit()?;
        }
        Ok(())
    }

    fn mark_begin_operation(&mut self) -> wasmtime::Result<OplogIndex> {
        let begin = self.marker(
            Strict::BeginAtomicRegion,
            |s| OplogEntry::BeginAtomicRegion(s.journal.timestamp()),
            "began an atomic region",
        )?;
        self.journal.open_regions.push(begin);
        Ok(begin)
    }

    fn mark_end_operation(&mut self, begin: OplogIndex) -> wasmtime::Result<()> {
        self.journal.open_regions.retain(|b| *b != begin);
        let what = format!("ended the atomic region begun at {begin}");
        self.marker(
            Strict::EndAtomicRegion,
            |s| {
                OplogEntry::EndAtomicRegion(EndAtomicRegionParameters {
                    timestamp: s.journal.now(),
                    begin_index: begin,
                })
            },
            &what,
        )
        .map(|_| ())
    }

    fn trap(&mut self, reason: String) -> wasmtime::Result<()> {
        Err(wasmtime::format_err!("the agent trapped: {reason}"))
    }

    fn get_oplog_persistence_level(&mut self) -> wasmtime::Result<PersistenceLevel> {
        Ok(self.journal.persistence)
    }

    fn set_oplog_persistence_level(&mut self, new_persistence_level: PersistenceLevel) -> wasmtime::Result<()> {
        if persistence_name(&self.journal.persistence) == persistence_name(&new_persistence_level) {
            return Ok(());
        }
        // Recorded before the change takes effect, and committed at once
        // (golem/v1x.rs). Replay matches it like any other entry, but passes
        // over a whole persist-nothing zone: code that turns persistence off
        // while replaying finds the entry after the zone instead, and fails
        // as it fails on Golem.
        if self.journal.is_live() {
            let entry = OplogEntry::ChangePersistenceLevel(ChangePersistenceLevelParameters {
                timestamp: self.journal.now(),
                persistence_level: new_persistence_level,
            });
            self.journal.append(entry)?;
        } else {
            let level = persistence_name(&new_persistence_level);
            let actual = match new_persistence_level {
                PersistenceLevel::PersistNothing => format!(
                    "changed the persistence level to {level} (Golem passes over a closed persist-nothing zone \
                     on replay, so only code that runs live, such as a durable function's body, may turn \
                     persistence off)"
                ),
                _ => format!("changed the persistence level to {level}"),
            };
            self.journal.replay(Strict::ChangePersistenceLevel, || actual)?;
        }
        self.journal.persistence = new_persistence_level;
        Ok(())
    }

    fn get_idempotence_mode(&mut self) -> wasmtime::Result<bool> {
        Ok(self.journal.idempotent)
    }

    fn set_idempotence_mode(&mut self, idempotent: bool) -> wasmtime::Result<()> {
        self.journal.idempotent = idempotent;
        Ok(())
    }

    fn generate_idempotency_key(&mut self) -> wasmtime::Result<Uuid> {
        // Write-remote, as Golem records it (golem/v1x.rs): committed at once.
        self.journal.call(names::GENERATE_IDEMPOTENCY_KEY, WrappedFunctionType::WriteRemote, &(), |j| {
            // A version-4 UUID from the agent's deterministic randomness.
            crate::ids::uuid_v4(j.random_u64(1), j.random_u64(2))
        })
    }

    fn update_agent(
        &mut self,
        agent_id: AgentId,
        target_revision: ComponentRevision,
        mode: UpdateMode,
    ) -> wasmtime::Result<()> {
        // A request to the executor: recorded, and not sent again on replay.
        let automatic = matches!(mode, UpdateMode::Automatic);
        let request = (agent_id.agent_id, target_revision, automatic);
        let directory = self.directory.clone();
        self.journal.call(names::UPDATE_AGENT, WrappedFunctionType::WriteRemote, &request, |_| {
            directory.request(request.0.clone(), AgentRequest::Update { revision: target_revision, automatic })
        })
    }

    fn get_self_metadata(&mut self) -> wasmtime::Result<AgentMetadata> {
        let me = self.agent_id();
        let found = self.journaled_metadata(names::GET_SELF_METADATA, WrappedFunctionType::ReadLocal, &me)?;
        Ok(found.unwrap_or_else(|| AgentMetadata {
            agent_id: me,
            args: Vec::new(),
            env: Vec::new(),
            config: self.world.config.clone(),
            status: AgentStatus::Running,
            component_revision: 0,
            retry_count: 0,
            environment_id: EnvironmentId { uuid: uuid_from_u128(u128::from(self.world.seed)) },
        }))
    }

    fn get_agent_metadata(&mut self, agent_id: AgentId) -> wasmtime::Result<Option<AgentMetadata>> {
        self.journaled_metadata(names::GET_AGENT_METADATA, WrappedFunctionType::ReadRemote, &agent_id)
    }

    fn fork_agent(&mut self, source: AgentId, target: AgentId, cut_off: OplogIndex) -> wasmtime::Result<()> {
        self.fork_other(source, target, cut_off)
    }

    fn revert_agent(&mut self, agent_id: AgentId, revert_target: RevertAgentTarget) -> wasmtime::Result<()> {
        // A request to the executor, like an update: recorded, not sent again
        // on replay, applied by the target before its next invocation.
        let name = agent_id.agent_id;
        if self.journal.is_live() && self.directory.record(&name).is_none() {
            return Err(wasmtime::format_err!("revert-agent: there is no agent `{name}` in this environment"));
        }
        let target = match revert_target {
            RevertAgentTarget::RevertToOplogIndex(i) => RevertTarget::ToIndex(i),
            RevertAgentTarget::RevertLastInvocations(n) => RevertTarget::LastInvocations(n),
        };
        let (kind, amount) = match target {
            RevertTarget::ToIndex(i) => ("to-oplog-index", i),
            RevertTarget::LastInvocations(n) => ("last-invocations", n),
        };
        let request = (name, kind.to_string(), amount);
        let directory = self.directory.clone();
        self.journal.call(names::REVERT_AGENT, WrappedFunctionType::WriteRemote, &request, |_| {
            directory.request(request.0.clone(), AgentRequest::Revert(target))
        })
    }

    fn resolve_component_id(&mut self, _component_reference: String) -> wasmtime::Result<Option<ComponentId>> {
        Err(unsupported("resolve-component-id"))
    }

    fn resolve_agent_id(
        &mut self,
        _component_reference: String,
        _agent_name: String,
    ) -> wasmtime::Result<Option<AgentId>> {
        Err(unsupported("resolve-agent-id"))
    }

    fn resolve_agent_id_strict(
        &mut self,
        _component_reference: String,
        _agent_name: String,
    ) -> wasmtime::Result<Option<AgentId>> {
        Err(unsupported("resolve-agent-id-strict"))
    }

    fn fork(&mut self) -> wasmtime::Result<ForkResult> {
        self.fork_self()
    }
}

/// Agents per `get-next` page.
const AGENT_PAGE: usize = 50;

impl HostState {
    /// Metadata of one agent, journaled as JSON text (the caller's own as a
    /// local read, another's as a remote read, as Golem records them).
    fn journaled_metadata(
        &mut self,
        function: &str,
        function_type: WrappedFunctionType,
        agent_id: &AgentId,
    ) -> wasmtime::Result<Option<AgentMetadata>> {
        let (directory, seed) = (self.directory.clone(), self.world.seed);
        let request = agent_id.agent_id.clone();
        let component = agent_id.component_id.uuid;
        let found = self.journal.call(function, function_type, &request, |_| {
            Json(
                directory
                    .record(&request)
                    .filter(|r| uuid_from_u128(r.component_id) == component)
                    .map(|r| r.metadata(seed)),
            )
        })?;
        Ok(found.0)
    }
}

impl HostGetAgents for HostState {
    fn new(
        &mut self,
        component_id: ComponentId,
        filter: Option<crate::bindings::golem::api::host::AgentAnyFilter>,
        _precise: bool,
    ) -> wasmtime::Result<Resource<AgentEnumeration>> {
        let (directory, seed) = (self.directory.clone(), self.world.seed);
        let request = Json((component_id, filter));
        let Json((component_id, filter)) = &request;
        let Json(agents) = self.journal.call(names::GET_AGENTS, WrappedFunctionType::ReadRemote, &request, |_| {
            Json(
                directory
                    .records()
                    .into_iter()
                    .filter(|r| uuid_from_u128(r.component_id) == component_id.uuid && r.matches(filter.as_ref()))
                    .map(|r| r.metadata(seed))
                    .collect::<Vec<_>>(),
            )
        })?;
        Ok(self.table.push(AgentEnumeration { agents, next: 0 })?)
    }

    fn get_next(&mut self, self_: Resource<AgentEnumeration>) -> wasmtime::Result<Option<Vec<AgentMetadata>>> {
        let e = self.table.get_mut(&self_)?;
        if e.next >= e.agents.len() {
            return Ok(None);
        }
        let end = (e.next + AGENT_PAGE).min(e.agents.len());
        let page = e.agents[e.next..end].to_vec();
        e.next = end;
        Ok(Some(page))
    }

    fn drop(&mut self, rep: Resource<AgentEnumeration>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

impl HostGetPromiseResult for HostState {
    fn subscribe(&mut self, wait: Resource<GetPromiseResult>) -> wasmtime::Result<Resource<Pollable>> {
        self.promise_pollable(&wait)
    }

    fn get(&mut self, wait: Resource<GetPromiseResult>) -> wasmtime::Result<Option<Vec<u8>>> {
        self.promise_result(&wait)
    }

    fn drop(&mut self, wait: Resource<GetPromiseResult>) -> wasmtime::Result<()> {
        self.table.delete(wait)?;
        Ok(())
    }
}
