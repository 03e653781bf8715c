//! `golem:agent/host@1.5.0`'s `wasm-rpc`: calls from one agent to another
//! agent of the same environment, journaled as Golem journals them
//! (golem-worker-executor/src/durable_host/wasm_rpc/mod.rs):
//!
//! - a client looks up its agent type (`golem::agent::get_agent_type`, a
//!   read-remote host call) and opens an `rpc-connection` span, finished
//!   when the client is dropped;
//! - each call opens an `rpc-invocation` span under it (with the method and
//!   the call's idempotency key) and is a write-remote host call
//!   (`invoke_and_await`, `invoke`); the span ends after it;
//! - `async-invoke-and-await` records no host call by itself (only its
//!   span's start): each `get` of its future is one, and the first that
//!   answers ends the span.
//!
//! The callee is an environment-owned agent, created by the first call that
//! names it. A call is enqueued on it ([`AgentDirectory::enqueue`](super::AgentDirectory::enqueue)) and
//! runs when the callee takes it up, on a task of the environment's
//! scheduler: `invoke` returns at once, `invoke-and-await` waits for the
//! answer (other agents run meanwhile), `async-invoke-and-await`'s future
//! is ready once the answer is in. On replay the caller gets the recorded
//! answer and the callee is not called. Each call carries an idempotency
//! key drawn from the caller's deterministic randomness, so a caller that
//! crashed after the callee answered but before the answer was persisted
//! retries with the same key, and the callee answers from memory instead of
//! running the method twice. The callee's own crashes are recovered inside
//! the call, as for any agent.

use wasmtime::component::Resource;

use super::HostState;
use super::context::attribute;
use super::names;
use crate::bindings::golem::agent::host::{
    DataValue, Datetime, HostFutureInvokeResult, HostWasmRpc, RpcError, TypedAgentConfigValue, Uuid,
};
use crate::bindings::golem::api::oplog::WrappedFunctionType;
use crate::bindings::wasi::io::poll::Pollable;
use crate::bindings::{CalleeContext, RpcCancellation, RpcClient, RpcFuture, RpcTarget};
use crate::data::values_of;
use crate::host::{AgentDirectory, CallAnswer};
use crate::ids::{agent_id, names_agent_type, with_phantom};
use crate::journal::{Json, journaled_record};
use crate::scheduler::Slot;

/// How a call's answer is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallKind {
    /// `invoke-and-await`.
    Await,
    /// `invoke`: the callee's answer is not returned.
    Trigger,
}

impl CallKind {
    fn function(self) -> &'static str {
        match self {
            CallKind::Await => names::RPC_INVOKE_AND_AWAIT,
            CallKind::Trigger => names::RPC_INVOKE,
        }
    }
}

/// The answer of a `get`: `None` while pending or once taken.
type Got = Option<Result<DataValue, RpcError>>;

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
        let Some(defined) =
            self.directory.agent_types().into_iter().find(|t| names_agent_type(&t.definition, agent_type))
        else {
            return Err(RpcError::NotFound(format!(
                "no component in this environment defines agent type `{agent_type}`"
            )));
        };
        let args = values_of(constructor)
            .map_err(|e| RpcError::ProtocolError(format!("the constructor arguments for `{agent_type}`: {e}")))?;
        let id = with_phantom(agent_id(&defined.definition, &args), phantom);
        let (component, agent_type, phantom) = (defined.component, defined.definition.type_name, phantom.cloned());
        Ok(RpcTarget { component, agent_type, args, phantom, id })
    }

    /// Make a journaled call through client `client`.
    fn rpc_call(
        &mut self,
        client: &Resource<RpcClient>,
        kind: CallKind,
        method: String,
        input: DataValue,
    ) -> wasmtime::Result<Result<DataValue, RpcError>> {
        let RpcClient { target, span: connection } = self.table.get(client)?;
        let (target, connection) = (target.clone(), connection.clone());
        let directory = self.directory.clone();
        let request = call_request(&target, &method, &input)?;
        let key = self.rpc_key();
        let span = self.invocation_span(connection.clone(), &method, &key)?;
        let context = self.callee_context(&span, connection.as_deref());
        // The answer is journaled as JSON text, like other structured host results.
        let Json(answer) = self.journal.call(kind.function(), WrappedFunctionType::WriteRemote, &request, |_| {
            Json(target.and_then(|target| {
                let awaited = kind == CallKind::Await;
                let reply = directory.enqueue(&target, &request.method, input, key, context, awaited)?;
                match kind {
                    CallKind::Await => await_answer(&reply, &target),
                    // Only failing to reach the agent is reported.
                    CallKind::Trigger => Ok(DataValue::Tuple(Vec::new())),
                }
            }))
        })?;
        self.record_span_finish(&span)?;
        Ok(answer)
    }

    /// The idempotency key of the call being made: the same on every retry
    /// of the call, since it derives from the caller's seed and how many
    /// calls it made before.
    pub(super) fn rpc_key(&mut self) -> String {
        self.journal.draw(names::RPC_IDEMPOTENCY_KEY);
        let (high, low) = (self.journal.random_u64(1), self.journal.random_u64(2));
        format!("{high:016x}{low:016x}")
    }

    /// Open the `rpc-invocation` span of a call, under its connection's span
    /// and linking it (the connection is never an ancestor of the current
    /// span, so Golem always links it: `durable_host/mod.rs` `start_span`).
    fn invocation_span(&mut self, connection: Option<String>, method: &str, key: &str) -> wasmtime::Result<String> {
        let attributes = vec![
            attribute("name", "rpc-invocation"),
            attribute("function_name", method),
            attribute("idempotency_key", key),
        ];
        self.start_background_span(connection.clone(), connection, attributes, || format!("called `{method}` remotely"))
    }

    /// What the callee of a call made under span `invocation` inherits; and,
    /// should the call create it, what its constructor inherits (the
    /// connection's chain).
    fn callee_context(&self, invocation: &str, connection: Option<&str>) -> CalleeContext {
        CalleeContext {
            invocation: self.spans.context_for_callee(invocation),
            creation: connection.map(|c| self.spans.context_for_new_agent(c)),
        }
    }
}

/// Enqueue the call `future` holds back, if it does (a future made while
/// replaying): with the key it had, so a callee that ran it answers from memory.
pub(super) fn dispatch(directory: &dyn AgentDirectory, future: &mut RpcFuture) {
    if let Some((target, method, input, key, context)) = future.call.take() {
        let reply = directory.enqueue(&target, &method, input, key, context, true);
        future.reply = Some(reply.unwrap_or_else(|e| Slot::filled(Err(e))));
    }
}

/// Wait for the answer to a call to `target`, other agents running meanwhile.
fn await_answer(reply: &Slot<CallAnswer>, target: &RpcTarget) -> CallAnswer {
    reply.wait().unwrap_or_else(|_| {
        Err(RpcError::ProtocolError(format!(
            "the call to `{}` can never be answered: every agent that could let it run waits too (a cycle of \
             awaited calls, which Golem never finishes either, or an agent the test holds)",
            target.id
        )))
    })
}

/// A call as recorded.
fn call_request(
    target: &Result<RpcTarget, RpcError>,
    method: &str,
    input: &DataValue,
) -> wasmtime::Result<CallRequest> {
    Ok(CallRequest {
        agent_id: target.as_ref().map_or_else(|_| String::new(), |t| t.id.clone()),
        method: method.into(),
        input: serde_json::to_string(input)?,
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
        // Golem looks the agent type up (recorded), then opens the connection's span.
        let found = target.as_ref().map(|t| t.id.clone()).map_err(|e| format!("{e:?}"));
        self.journal.call(names::GET_AGENT_TYPE, WrappedFunctionType::ReadRemote, &agent_type_name, |_| Json(found))?;
        let span = match &target {
            Ok(t) => {
                let attributes = vec![attribute("name", "rpc-connection"), attribute("target_agent_id", &t.id)];
                let parent = self.current_span();
                Some(self.start_background_span(parent, None, attributes, || format!("connected to `{}`", t.id))?)
            }
            Err(_) => None,
        };
        Ok(self.table.push(RpcClient { target, span })?)
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
        // Enqueued; the callee runs it later.
        Ok(self.rpc_call(&self_, CallKind::Trigger, method_name, input)?.map(|_| ()))
    }

    fn async_invoke_and_await(
        &mut self,
        self_: Resource<RpcClient>,
        method_name: String,
        input: DataValue,
    ) -> wasmtime::Result<Resource<RpcFuture>> {
        let RpcClient { target, span: connection } = self.table.get(&self_)?;
        let (target, connection) = (target.clone(), connection.clone());
        let request = call_request(&target, &method_name, &input)?;
        let key = self.rpc_key();
        let span = self.invocation_span(connection.clone(), &method_name, &key)?;
        let context = self.callee_context(&span, connection.as_deref());
        let request = (request.agent_id, request.method, request.input);
        let mut future = match target {
            Err(e) => RpcFuture { call: None, reply: Some(Slot::filled(Err(e))), request, span: Some(span) },
            Ok(target) => RpcFuture {
                call: Some((target, method_name, input, key, context)),
                reply: None,
                request,
                span: Some(span),
            },
        };
        // Live, the call is enqueued now; replaying, only once the future is used live.
        if self.journal.performs_live() {
            dispatch(&*self.directory, &mut future);
        }
        Ok(self.table.push(future)?)
    }

    fn schedule_invocation(
        &mut self,
        self_: Resource<RpcClient>,
        scheduled_time: Datetime,
        method_name: String,
        input: DataValue,
    ) -> wasmtime::Result<()> {
        // Golem makes a cancelable one and drops its token.
        let token = self.schedule_call(&self_, scheduled_time, method_name, input)?;
        self.table.delete(token)?;
        Ok(())
    }

    fn schedule_cancelable_invocation(
        &mut self,
        self_: Resource<RpcClient>,
        scheduled_time: Datetime,
        method_name: String,
        input: DataValue,
    ) -> wasmtime::Result<Resource<RpcCancellation>> {
        self.schedule_call(&self_, scheduled_time, method_name, input)
    }

    fn drop(&mut self, rep: Resource<RpcClient>) -> wasmtime::Result<()> {
        let client = self.table.delete(rep)?;
        match client.span {
            Some(span) => self.record_span_finish(&span),
            None => Ok(()),
        }
    }
}

impl HostFutureInvokeResult for HostState {
    fn subscribe(&mut self, self_: Resource<RpcFuture>) -> wasmtime::Result<Resource<Pollable>> {
        self.future_wait(self_.rep())
    }

    /// Each `get` is a write-remote host call; the first that answers ends
    /// the call's span.
    fn get(&mut self, self_: Resource<RpcFuture>) -> wasmtime::Result<Option<Result<DataValue, RpcError>>> {
        let performed = if self.journal.performs_live() {
            let directory = self.directory.clone();
            let future = self.table.get_mut(&self_)?;
            dispatch(&*directory, future);
            Some(Json(future.reply.as_ref().and_then(Slot::take)))
        } else {
            None
        };
        let future = self.table.get(&self_)?;
        let (agent_id, method, input) = future.request.clone();
        let request = CallRequest { agent_id, method, input };
        let Json(got): Json<Got> =
            self.journal.step(names::RPC_FUTURE_GET, WrappedFunctionType::WriteRemote, &request, performed)?;
        if got.is_some() {
            let future = self.table.get_mut(&self_)?;
            // Answered: a call held while replaying is not made any more.
            future.call = None;
            if let Some(span) = future.span.take() {
                self.record_span_finish(&span)?;
            }
        }
        Ok(got)
    }

    fn cancel(&mut self, _self_: Resource<RpcFuture>) -> wasmtime::Result<()> {
        Ok(())
    }

    fn drop(&mut self, rep: Resource<RpcFuture>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}
