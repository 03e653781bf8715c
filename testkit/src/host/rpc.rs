//! `golem:agent/host@1.5.0`'s `wasm-rpc`: calls from one agent to another
//! agent of the same environment.
//!
//! The callee is an environment-owned agent, created by the first call that
//! names it. A call is a journaled remote write in the caller's oplog: on
//! replay the caller gets the recorded answer and the callee is not called.
//! Each call carries an idempotency key drawn from the caller's deterministic
//! randomness, so a caller that crashed after the callee answered but before
//! the answer was persisted retries with the same key, and the callee
//! answers from memory instead of running the method twice. The callee's own
//! crashes are recovered inside the call, as for any agent.

use std::sync::Arc;

use wasmtime::component::Resource;

use super::HostState;
use super::bindings::golem::agent::host::{
    DataValue, Datetime, HostCancellationToken, HostFutureInvokeResult, HostWasmRpc, RpcError, TypedAgentConfigValue,
    Uuid,
};
use super::bindings::golem::api::oplog::WrappedFunctionType;
use super::bindings::wasi::io::poll::Pollable;
use super::journal::Journal;
use crate::environment::{ConnectError, LoadedComponent, Shared, connect};
use crate::value::{Type, Value};

/// Stack of the thread a call runs the callee on (the callee's guest code
/// gets a stack of its own rather than running on top of the caller's).
const CALL_STACK_BYTES: usize = 16 * 1024 * 1024;

/// The agent a client calls.
#[derive(Debug, Clone)]
struct Target {
    component: LoadedComponent,
    /// The type's name as its component defines it.
    agent_type: String,
    args: Vec<Value>,
    id: String,
}

/// A client bound to one remote agent (`wasm-rpc`). A client whose target
/// does not exist keeps the reason and answers every call with it.
#[derive(Debug)]
pub struct RpcClient {
    target: Result<Target, RpcError>,
}

/// A call started with `async-invoke-and-await`. The testkit runs the call
/// when it is started, so the future is always ready.
#[derive(Debug)]
pub struct RpcFuture {
    result: Option<Result<DataValue, RpcError>>,
}

impl wasmtime_wasi::p2::Pollable for RpcFuture {
    // The trait is an `async_trait`; this is the signature it expands to.
    fn ready<'a, 'b>(&'a mut self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'b>>
    where
        'a: 'b,
        Self: 'b,
    {
        Box::pin(async {})
    }
}

/// A scheduled invocation's cancellation handle.
#[derive(Debug)]
pub struct RpcCancellation;

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
            CallKind::Await => "golem:agent/host::wasm-rpc::invoke-and-await",
            CallKind::Future => "golem:agent/host::wasm-rpc::async-invoke-and-await",
            CallKind::Trigger => "golem:agent/host::wasm-rpc::invoke",
        }
    }
}

impl HostState {
    /// Resolve the target of a new client.
    fn rpc_target(
        &self,
        agent_type: &str,
        constructor: &DataValue,
        phantom: Option<&Uuid>,
    ) -> Result<Target, RpcError> {
        if phantom.is_some() {
            return Err(RpcError::ProtocolError(format!(
                "phantom agents (of type `{agent_type}`) are not supported by the Reprise testkit yet"
            )));
        }
        let Some((component, type_name)) = self.component_defining(agent_type) else {
            return Err(RpcError::NotFound(format!(
                "no component in this environment defines agent type `{agent_type}`"
            )));
        };
        let args = crate::agent::values_of(constructor)
            .map_err(|e| RpcError::ProtocolError(format!("the constructor arguments for `{agent_type}`: {e}")))?;
        let definition = component
            .agent_type(&type_name)
            .map_err(|e| RpcError::NotFound(format!("agent type `{agent_type}`: {e}")))?;
        let id = crate::agent::agent_id(definition, &args);
        Ok(Target { component, agent_type: type_name, args, id })
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
        let shared = self.shared.clone();
        let id = target.as_ref().map_or_else(|_| String::new(), |t| t.id.clone());
        let input_text = serde_json::to_string(&input)?;
        let request = (
            Value::Record(vec![Value::string(id), Value::string(method.clone()), Value::string(input_text)]),
            Type::Record(vec![
                ("agent-id".into(), Type::String),
                ("method".into(), Type::String),
                ("input".into(), Type::String),
            ]),
        );
        self.journal.call(
            kind.function(),
            WrappedFunctionType::WriteRemote,
            request,
            |journal| match target {
                Ok(target) => call_remote(&shared, &target, &method, input, idempotency_key(journal)),
                Err(e) => Err(e),
            },
            // The answer is journaled as JSON text, like other structured host results.
            |answer| (Value::string(serde_json::to_string(answer).unwrap_or_default()), Type::String),
            |recorded| recorded.as_str().and_then(|text| serde_json::from_str(text).ok()),
        )
    }
}

/// The key of the call being made: the same on every retry of the call,
/// since it derives from the caller's seed and how many calls it made before.
fn idempotency_key(journal: &Journal) -> String {
    let (high, low) = (journal.random_u64(1), journal.random_u64(2));
    format!("{high:016x}{low:016x}")
}

/// Run `method` on the target (created first if needed).
fn call_remote(
    shared: &Arc<Shared>,
    target: &Target,
    method: &str,
    input: DataValue,
    key: String,
) -> Result<DataValue, RpcError> {
    let run = || {
        let handle = connect(shared, &target.component, &target.agent_type, &target.args).map_err(|e| match e {
            ConnectError::HeldByTest(_) => RpcError::Denied(e.to_string()),
            ConnectError::Creating(_) => RpcError::ProtocolError(e.to_string()),
            ConnectError::Refused(refused) => RpcError::RemoteAgentError(refused),
            ConnectError::Failed(error) => {
                RpcError::RemoteInternalError(format!("creating agent `{}` failed: {error}", target.id))
            }
        })?;
        let Some(mut agent) = handle.try_lock() else {
            return Err(RpcError::ProtocolError(format!(
                "agent `{}` is busy running another invocation (a cycle of calls?); the testkit refuses the call instead of deadlocking",
                target.id
            )));
        };
        match agent.invoke_keyed(method, input, key) {
            Ok(Ok(output)) => Ok(output),
            Ok(Err(e)) => Err(RpcError::RemoteAgentError(e)),
            Err(e) => Err(RpcError::RemoteInternalError(format!("agent `{}`: {e}", target.id))),
        }
    };
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name(format!("rpc to {}", target.id))
            .stack_size(CALL_STACK_BYTES)
            .spawn_scoped(scope, run);
        match worker {
            Ok(worker) => worker.join().unwrap_or_else(|_| {
                Err(RpcError::RemoteInternalError(format!("the testkit panicked running the call to `{}`", target.id)))
            }),
            Err(e) => Err(RpcError::ProtocolError(format!("could not start the call to `{}`: {e}", target.id))),
        }
    })
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
