//! Promises (`golem:api/host`): created by an agent, completed by anyone
//! (another agent, or a test through `Environment::complete_promise`, as
//! through Golem's API), awaited by their creator. Journaled as Golem
//! journals them (golem-worker-executor/src/durable_host/golem/v1x.rs):
//! `golem::api::create_promise` and `golem::api::complete_promise`
//! (write-local), `golem::api::get_promise_result` (read-remote);
//! `get-promise` and `subscribe` are not journaled. A promise's id is its
//! creator and the oplog index of its creation entry.

use wasmtime::component::Resource;
use wasmtime_wasi::p2::DynPollable;

use super::HostState;
use super::names;
use crate::bindings::PromiseAwait;
use crate::bindings::golem::api::host::{AgentId, PromiseId};
use crate::bindings::golem::api::oplog::WrappedFunctionType;
use crate::journal::journaled_record;

/// A promise as recorded: its creator's agent id and the oplog index.
#[derive(Debug, Clone)]
struct PromiseRef {
    agent_id: String,
    oplog_idx: u64,
}

journaled_record!(PromiseRef { agent_id: "agent-id", oplog_idx: "oplog-idx" });

impl HostState {
    pub(super) fn create_promise_now(&mut self) -> wasmtime::Result<PromiseId> {
        let agent = self.agent.name.clone();
        let world = self.world.clone();
        // The id names the creation entry: the next one.
        let created = self.journal.call(names::CREATE_PROMISE, WrappedFunctionType::WriteLocal, &(), |j| {
            let oplog_idx = j.last_index() + 1;
            world.create_promise(&agent, oplog_idx);
            PromiseRef { agent_id: agent.clone(), oplog_idx }
        })?;
        Ok(PromiseId {
            agent_id: AgentId { agent_id: created.agent_id, ..self.agent_id() },
            oplog_idx: created.oplog_idx,
        })
    }

    pub(super) fn await_promise(&mut self, promise: PromiseId) -> wasmtime::Result<Resource<PromiseAwait>> {
        if promise.agent_id.agent_id != self.agent.name {
            return Err(wasmtime::format_err!(
                "get-promise: promise {} of agent `{}` can only be awaited by the agent that created it",
                promise.oplog_idx,
                promise.agent_id.agent_id
            ));
        }
        Ok(self.table.push(PromiseAwait { agent_id: promise.agent_id.agent_id, oplog_idx: promise.oplog_idx })?)
    }

    pub(super) fn complete_promise_now(&mut self, promise: PromiseId, data: Vec<u8>) -> wasmtime::Result<bool> {
        let world = self.world.clone();
        let request = PromiseRef { agent_id: promise.agent_id.agent_id, oplog_idx: promise.oplog_idx };
        let completed: Result<bool, String> =
            self.journal.call(names::COMPLETE_PROMISE, WrappedFunctionType::WriteLocal, &request, |_| {
                world.complete_promise(&request.agent_id, request.oplog_idx, data)
            })?;
        if completed == Ok(true) && self.journal.performs_live() {
            self.directory.promise_completed(&request.agent_id);
        }
        completed.map_err(|e| wasmtime::format_err!("complete-promise: {e}"))
    }

    pub(super) fn promise_pollable(
        &mut self,
        wait: &Resource<PromiseAwait>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        let key = {
            let wait = self.table.get(wait)?;
            (wait.agent_id.clone(), wait.oplog_idx)
        };
        self.promise_wait(key)
    }

    pub(super) fn promise_result(&mut self, wait: &Resource<PromiseAwait>) -> wasmtime::Result<Option<Vec<u8>>> {
        let (agent, oplog_idx) = {
            let wait = self.table.get(wait)?;
            (wait.agent_id.clone(), wait.oplog_idx)
        };
        let world = self.world.clone();
        let result: Result<Option<Vec<u8>>, String> =
            self.journal.call(names::GET_PROMISE_RESULT, WrappedFunctionType::ReadRemote, &(), |_| {
                world.promise(&agent, oplog_idx)
            })?;
        result.map_err(|e| wasmtime::format_err!("get-promise-result: {e}"))
    }
}
