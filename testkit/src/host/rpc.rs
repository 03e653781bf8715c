//! `golem:agent/host@1.5.0`'s `wasm-rpc`: calls from one agent to another
//! agent of the same environment.
//!
//! The callee is an environment-owned agent, created by the first call that
//! names it; the environment runs the call ([`AgentDirectory::call`](super::AgentDirectory::call)). A call is a journaled remote write in the caller's oplog: on
//! replay the caller gets the recorded answer and the callee is not called.
//! Each call carries an idempotency key drawn from the caller's deterministic
//! randomness, so a caller that crashed after the callee answered but before
//! the answer was persisted retries with the same key, and the callee
//! answers from memory instead of running the method twice. The callee's own
//! crashes are recovered inside the call, as for any agent.

use wasmtime::component::Resource;

use super::HostState;
use super::names;
use crate::bindings::golem::agent::host::{
    DataValue, Datetime, HostCancellationToken, HostFutureInvokeResult, HostWasmRpc, RpcError, TypedAgentConfigValue,
    Uuid,
};
use crate::bindings::golem::api::oplog::WrappedFunctionType;
use crate::bindings::wasi::io::poll::Pollable;
use crate::bindings::{RpcCancellation, RpcClient, RpcFuture, RpcTarget};
use crate::data::values_of;
use crate::ids::{agent_id, names_agent_type};
use crate::journal::{Journal, Json, journaled_record};

/// How a call's answer is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallKind {
    /// `invoke-and-await`.
    Await,
    /// `async-invoke-and-await`.
    Future,
    /// `invoke`: the callee's answer is not returned.
    Trigger,
}

impl CallKind {
    fn function(self) -> &'static str {
        match self {
            CallKind::Await => names::RPC_INVOKE_AND_AWAIT,
            CallKind::Future => names::RPC_FUTURE_GET,
            CallKind::Trigger => names::RPC_INVOKE,
        }
    }
}

/// A call as recorded: the target's id, the method, the input as JSON text.
struct CallRequest {
    agent_id: String,
    method: String,
    input: String,
}

journaled_record!(CallRequest { agent_id: "agent-id", method: "method", input: "input" });

impl HostState {
    /// Resolve the target of a new client.
    fn rpc_target(
        &self,
        agent_type: &str,
        constructor: &DataValue,
        phantom: Option<&Uuid>,
    ) -> Result<RpcTarget, RpcError> {
        if phantom.is_some() {
            return Err(RpcError::ProtocolError(format!(
                "phantom agents (of type `{agent_type}`) are not supported by the Reprise testkit yet"
            )));
        }
        let Some(defined) =
            self.directory.agent_types().into_iter().find(|t| names_agent_type(&t.definition, agent_type))
        else {
            return Err(RpcError::NotFound(format!(
                "no component in this environment defines agent type `{agent_type}`"
            )));
        };
        let args = values_of(constructor)
            .map_err(|e| RpcError::ProtocolError(format!("the constructor arguments for `{agent_type}`: {e}")))?;
        let id = agent_id(&defined.definition, &args);
        Ok(RpcTarget { component: defined.component, agent_type: defined.definition.type_name, args, id })
    }

    /// Make a journaled call through client `client`.
    fn rpc_call(
        &mut self,
        client: &Resource<RpcClient>,
        kind: CallKind,
        method: String,
        input: DataValue,
    ) -> wasmtime::Result<Result<DataValue, RpcError>> {
        let target = self.table.get(client)?.target.clone();
        let directory = self.directory.clone();
        let request = CallRequest {
            agent_id: target.as_ref().map_or_else(|_| String::new(), |t| t.id.clone()),
            method,
            input: serde_json::to_string(&input)?,
        };
        // The answer is journaled as JSON text, like other structured host results.
        let Json(answer) =
            self.journal.call(kind.function(), WrappedFunctionType::WriteRemote, &request, |journal| {
                Json(match target {
                    Ok(target) => directory.call(&target, &request.method, input, idempotency_key(journal)),
                    Err(e) => Err(e),
                })
            })?;
        Ok(answer)
    }
}

/// The key of the call being made: the same on every retry of the call,
/// since it derives from the caller's seed and how many calls it made before.
fn idempotency_key(journal: &Journal) -> String {
    let (high, low) = (journal.random_u64(1), journal.random_u64(2));
    format!("{high:016x}{low:016x}")
}

impl HostWasmRpc for HostState {
    fn new(
        &mut self,
        agent_type_name: String,
        constructor: DataValue,
        phantom_id: Option<Uuid>,
        _agent_config: Vec<TypedAgentConfigValue>,
    ) -> wasmtime::Result<Resource<RpcClient>> {
        let target = self.rpc_target(&agent_type_name, &constructor, phantom_id.as_ref());
        Ok(self.table.push(RpcClient { target })?)
    }

    fn invoke_and_await(
        &mut self,
        self_: Resource<RpcClient>,
        method_name: String,
        input: DataValue,
    ) -> wasmtime::Result<Result<DataValue, RpcError>> {
        self.rpc_call(&self_, CallKind::Await, method_name, input)
    }

    fn invoke(
        &mut self,
        self_: Resource<RpcClient>,
        method_name: String,
        input: DataValue,
    ) -> wasmtime::Result<Result<(), RpcError>> {
        // The call runs now; only failing to reach the agent is reported.
        Ok(match self.rpc_call(&self_, CallKind::Trigger, method_name, input)? {
            Ok(_) | Err(RpcError::RemoteAgentError(_)) => Ok(()),
            Err(e) => Err(e),
        })
    }

    fn async_invoke_and_await(
        &mut self,
        self_: Resource<RpcClient>,
        method_name: String,
        input: DataValue,
    ) -> wasmtime::Result<Resource<RpcFuture>> {
        let result = self.rpc_call(&self_, CallKind::Future, method_name, input)?;
        Ok(self.table.push(RpcFuture { result: Some(result) })?)
    }

    fn schedule_invocation(
        &mut self,
        self_: Resource<RpcClient>,
        _scheduled_time: Datetime,
        _method_name: String,
        _input: DataValue,
    ) -> wasmtime::Result<()> {
        let target = match &self.table.get(&self_)?.target {
            Ok(t) => t.id.clone(),
            Err(_) => "an unknown agent".into(),
        };
        Err(wasmtime::format_err!("scheduling an invocation of `{target}`: not supported by the Reprise testkit yet"))
    }

    fn schedule_cancelable_invocation(
        &mut self,
        self_: Resource<RpcClient>,
        scheduled_time: Datetime,
        method_name: String,
        input: DataValue,
    ) -> wasmtime::Result<Resource<RpcCancellation>> {
        self.schedule_invocation(self_, scheduled_time, method_name, input)?;
        Ok(self.table.push(RpcCancellation)?)
    }

    fn drop(&mut self, rep: Resource<RpcClient>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

impl HostFutureInvokeResult for HostState {
    fn subscribe(&mut self, self_: Resource<RpcFuture>) -> wasmtime::Result<Resource<Pollable>> {
        wasmtime_wasi::p2::subscribe(&mut self.table, Resource::<RpcFuture>::new_borrow(self_.rep()))
    }

    fn get(&mut self, self_: Resource<RpcFuture>) -> wasmtime::Result<Option<Result<DataValue, RpcError>>> {
        Ok(self.table.get_mut(&self_)?.result.take())
    }

    fn cancel(&mut self, _self_: Resource<RpcFuture>) -> wasmtime::Result<()> {
        Ok(())
    }

    fn drop(&mut self, rep: Resource<RpcFuture>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

impl HostCancellationToken for HostState {
    fn cancel(&mut self, _self_: Resource<RpcCancellation>) -> wasmtime::Result<()> {
        Ok(())
    }

    fn drop(&mut self, rep: Resource<RpcCancellation>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}
