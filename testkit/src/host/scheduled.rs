//! `wasm-rpc.schedule-invocation` and `schedule-cancelable-invocation`:
//! calls enqueued on another agent at a later time, and their cancellation
//! tokens, journaled as Golem journals them
//! (golem-worker-executor/src/durable_host/wasm_rpc/mod.rs):
//!
//! - both are one write-remote host call, `golem::rpc::wasm-rpc::schedule_invocation`,
//!   its request naming the target, the invocation's idempotency key, the
//!   method, the input and the time, its answer the schedule id (the key);
//!   replaying, the recorded id comes back and nothing is scheduled again;
//! - `cancel` is a write-remote host call, `golem::rpc::cancellation-token::cancel`;
//!   dropping a token cancels nothing.
//!
//! The environment keeps the call until its time comes and then enqueues it
//! on the target, as Golem's scheduler service does; a schedule id it holds
//! already keeps its first call, so a schedule made again after a crash is
//! one call.

use wasmtime::component::Resource;

use super::HostState;
use crate::bindings::golem::agent::host::{DataValue, Datetime, HostCancellationToken};
use crate::bindings::golem::api::oplog::WrappedFunctionType;
use crate::bindings::{RpcCancellation, RpcClient};
use crate::host::{ScheduledCall, names};
use crate::journal::{journaled_record, nanos_of};

/// A scheduled call as recorded.
struct ScheduleRequest {
    agent_id: String,
    idempotency_key: String,
    method: String,
    input: String,
    at: (u64, u32),
}

journaled_record!(ScheduleRequest {
    agent_id: "remote-agent-id",
    idempotency_key: "idempotency-key",
    method: "method-name",
    input: "input",
    at: "datetime",
});

impl HostState {
    /// Schedule `method` on the agent `client` calls at `at`; the schedule id.
    pub(super) fn schedule_call(
        &mut self,
        client: &Resource<RpcClient>,
        at: Datetime,
        method: String,
        input: DataValue,
    ) -> wasmtime::Result<Resource<RpcCancellation>> {
        let target = match &self.table.get(client)?.target {
            Ok(target) => target.clone(),
            // `schedule-invocation` has no error to answer with; Golem fails the same way.
            Err(e) => {
                return Err(wasmtime::format_err!("scheduling `{method}`: the client has no agent to call: {e:?}"));
            }
        };
        let key = self.rpc_key();
        let request = ScheduleRequest {
            agent_id: target.id.clone(),
            idempotency_key: key.clone(),
            method: method.clone(),
            input: serde_json::to_string(&input)?,
            at: (at.seconds, at.nanoseconds),
        };
        let context = crate::bindings::CalleeContext {
            invocation: self.spans.context_for_scheduled(self.current_span().as_deref()),
            creation: None,
        };
        // Measured from what the agent's wall clock reads now, which the
        // agent most likely added its delay to.
        let now = self.journal.world_time_at(self.journal.draw_count(names::WALL_CLOCK_NOW));
        let delay_nanos = nanos_until(&now, &at);
        let directory = self.directory.clone();
        let schedule_id =
            self.journal.call(names::RPC_SCHEDULE_INVOCATION, WrappedFunctionType::WriteRemote, &request, |_| {
                let call =
                    ScheduledCall { target, method, input, key: key.clone(), context, at: request.at, delay_nanos };
                directory.schedule(key.clone(), call);
                key
            })?;
        Ok(self.table.push(RpcCancellation { schedule_id })?)
    }
}

/// Nanoseconds from `now` to `at`; 0 when `at` has passed.
fn nanos_until(now: &Datetime, at: &Datetime) -> u64 {
    u64::try_from(nanos_of(at).saturating_sub(nanos_of(now))).unwrap_or(u64::MAX)
}

impl HostCancellationToken for HostState {
    fn cancel(&mut self, self_: Resource<RpcCancellation>) -> wasmtime::Result<()> {
        let schedule_id = self.table.get(&self_)?.schedule_id.clone();
        let directory = self.directory.clone();
        self.journal.call(names::RPC_CANCEL_SCHEDULED, WrappedFunctionType::WriteRemote, &schedule_id, |_| {
            directory.cancel_scheduled(&schedule_id);
        })
    }

    fn drop(&mut self, rep: Resource<RpcCancellation>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}
