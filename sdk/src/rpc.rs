//! Calling other agents through `golem:agent/host@1.5.0`'s RPC.
//!
//! [`#[reprise::agent]`](macro@crate::agent) generates a typed client next to
//! every agent type: `InventoryClient` for `Inventory`, with `connect` taking
//! the constructor's parameters and one method per agent method, returning
//! the method's result or an [`RpcError`]. Each method also has a
//! `trigger_` twin (`trigger_reserve`) that enqueues the call and returns at
//! once, without waiting for the other agent to run it (Golem's `invoke`):
//! the other agent runs it when it gets to it, after the calls queued
//! before it, while the caller goes on.
//!
//! ```no_run
//! # mod inventory {
//! #     pub struct Inventory;
//! #     #[reprise::agent]
//! #     impl Inventory {
//! #         pub fn new(warehouse: String) -> Self { Inventory }
//! #         pub fn reserve(&mut self, sku: String, quantity: u32) -> bool { true }
//! #     }
//! # }
//! use inventory::InventoryClient;
//!
//! fn place(sku: &str) -> Result<bool, reprise::rpc::RpcError> {
//!     // The agent `inventory("main")`, created by Golem on the first call.
//!     let inventory = InventoryClient::connect("main".to_string());
//!     inventory.reserve(sku.to_string(), 2)
//! }
//!
//! fn reserve_later(sku: &str) -> Result<(), reprise::rpc::RpcError> {
//!     // Returns as soon as the call is enqueued: a read right after may not
//!     // see it done (and under a seeded schedule, the testkit shows both).
//!     InventoryClient::connect("main".to_string()).trigger_reserve(sku.to_string(), 2)
//! }
//! ```
//!
//! A call is durable: its result is recorded in the caller's oplog and
//! replayed after a crash, without calling the other agent again. Each call
//! carries an idempotency key, so a call retried after a crash between the
//! other agent's answer and its recording is answered, not run, a second
//! time.
//!
//! Each method has a `schedule_` twin too (`schedule_reserve(at, ..)`),
//! enqueuing the call on the agent at a wall-clock time (Golem's
//! `schedule-invocation`), and a `schedule_cancelable_` one returning a
//! [`ScheduledCall`] whose [`cancel`](ScheduledCall::cancel) drops it before
//! it runs:
//!
//! ```no_run
//! # mod inventory {
//! #     pub struct Inventory;
//! #     #[reprise::agent]
//! #     impl Inventory {
//! #         pub fn new(warehouse: String) -> Self { Inventory }
//! #         pub fn release(&mut self, sku: String) {}
//! #     }
//! # }
//! use std::time::{Duration, SystemTime};
//! use inventory::InventoryClient;
//!
//! // Hold the apples for an hour; release them then unless the hold is cancelled.
//! let in_an_hour = SystemTime::now() + Duration::from_secs(3600);
//! let release = InventoryClient::connect("main".to_string())
//!     .schedule_cancelable_release(in_an_hour, "apple".to_string());
//! // ... paid in time:
//! release.cancel();
//! ```
//!
//! An agent type and constructor arguments name one agent; `connect_phantom`
//! (or `connect_new_phantom`, with a fresh id) names one of many agents of
//! the same type and arguments, told apart by a *phantom id*
//! (`session("eu")[<uuid>]`).
//!
//! [`RemoteAgent`] calls an agent whose type is known only at run time.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::bindings::golem::agent::common::AgentError;
use crate::bindings::golem::agent::host::{self as golem_host, CancellationToken, WasmRpc};
use crate::bindings::golem::core::types::{DataValue, ElementValue};
use crate::bindings::wasi::clocks::wall_clock::Datetime;
use crate::value::{FromValue, IntoValue};

/// What went wrong with a call to another agent.
#[derive(Debug, Clone)]
pub enum RpcErrorKind {
    /// The call could not be made (the host refused or could not deliver it).
    Protocol(String),
    /// The caller may not call that agent.
    Denied(String),
    /// No such agent type or agent.
    NotFound(String),
    /// The other agent failed (trapped) running the call.
    RemoteInternal(String),
    /// The other agent answered with an `agent-error`: an unknown method,
    /// input it refused, or its constructor's own error.
    Remote(AgentError),
    /// The answer does not have the type this client expects (the two sides
    /// were built from different versions of the agent type).
    Decode(String),
}

/// A failed call to another agent: which agent type and method, and why.
#[derive(Debug, Clone)]
pub struct RpcError {
    /// The agent type called.
    pub agent_type: String,
    /// The method called (empty when the failure is not about one call).
    pub method: String,
    /// What went wrong.
    pub kind: RpcErrorKind,
}

impl RpcError {
    /// The other agent's custom error (a constructor's `Err(e)`) as `E`,
    /// when the call failed with one that decodes as `E`.
    pub fn custom_error<E: FromValue>(&self) -> Option<E> {
        match &self.kind {
            RpcErrorKind::Remote(AgentError::CustomError(e)) => E::from_wit_value(&e.value).ok(),
            _ => None,
        }
    }
}

fn describe_agent_error(e: &AgentError) -> String {
    match e {
        AgentError::InvalidInput(m) => format!("invalid input: {m}"),
        AgentError::InvalidMethod(m) => format!("invalid method: {m}"),
        AgentError::InvalidType(m) => format!("invalid agent type: {m}"),
        AgentError::InvalidAgentId(m) => format!("invalid agent id: {m}"),
        AgentError::CustomError(e) => match String::from_wit_value(&e.value) {
            Ok(text) => text,
            Err(_) => "a custom error (read it with `RpcError::custom_error`)".to_string(),
        },
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.method.is_empty() {
            write!(f, "calling agent type `{}`: ", self.agent_type)?;
        } else {
            write!(f, "calling `{}.{}`: ", self.agent_type, self.method)?;
        }
        match &self.kind {
            RpcErrorKind::Protocol(m) => write!(f, "{m}"),
            RpcErrorKind::Denied(m) => write!(f, "denied: {m}"),
            RpcErrorKind::NotFound(m) => write!(f, "not found: {m}"),
            RpcErrorKind::RemoteInternal(m) => write!(f, "the agent failed: {m}"),
            RpcErrorKind::Remote(e) => write!(f, "the agent refused the call: {}", describe_agent_error(e)),
            RpcErrorKind::Decode(m) => write!(f, "unexpected answer: {m}"),
        }
    }
}

impl std::error::Error for RpcError {}

/// A client for one agent: its type and constructor arguments name it.
/// Golem creates the agent on the first call if it does not exist yet.
#[derive(Debug)]
pub struct RemoteAgent {
    agent_type: String,
    constructor: DataValue,
    phantom: Option<uuid::Uuid>,
    rpc: WasmRpc,
}

impl RemoteAgent {
    /// A client for the agent of type `agent_type` built from `constructor`
    /// (make the input with [`input`]).
    pub fn new(agent_type: &str, constructor: DataValue) -> Self {
        Self::with_phantom(agent_type, constructor, None)
    }

    /// A client for the phantom agent `phantom` of type `agent_type` built
    /// from `constructor`: one of any number of agents with that type and
    /// those arguments, each its own agent with its own state.
    pub fn phantom(agent_type: &str, constructor: DataValue, phantom: uuid::Uuid) -> Self {
        Self::with_phantom(agent_type, constructor, Some(phantom))
    }

    /// [`RemoteAgent::phantom`] with a new phantom id, drawn from Golem's
    /// idempotency-key generator (journaled: after a crash the same agent
    /// is called again).
    pub fn new_phantom(agent_type: &str, constructor: DataValue) -> Self {
        Self::phantom(agent_type, constructor, crate::guards::idempotency_key())
    }

    fn with_phantom(agent_type: &str, constructor: DataValue, phantom: Option<uuid::Uuid>) -> Self {
        let rpc = WasmRpc::new(agent_type, &constructor, phantom.map(Into::into), &[]);
        RemoteAgent { agent_type: agent_type.to_string(), constructor, phantom, rpc }
    }

    /// The agent type this client calls.
    pub fn agent_type(&self) -> &str {
        &self.agent_type
    }

    /// The phantom id of the agent this client calls, if it has one.
    pub fn phantom_id(&self) -> Option<uuid::Uuid> {
        self.phantom
    }

    /// The id of the agent, as Golem forms it (`inventory("main")`, or
    /// `inventory("main")[<uuid>]` for a phantom).
    pub fn agent_id(&self) -> Result<String, RpcError> {
        golem_host::make_agent_id(&self.agent_type, &self.constructor, self.phantom.map(Into::into))
            .map_err(|e| self.error("", RpcErrorKind::Remote(e)))
    }

    /// Enqueue `method` on the agent at `at` (Golem's `schedule-invocation`);
    /// a time already past runs it as soon as Golem's scheduler gets to it.
    /// Nothing is returned: Golem does not report how the call went.
    pub fn schedule(&self, at: SystemTime, method: &str, input: DataValue) {
        self.rpc.schedule_invocation(datetime(at), method, &input);
    }

    /// [`RemoteAgent::schedule`], returning a handle that cancels the call
    /// if it has not run yet.
    pub fn schedule_cancelable(&self, at: SystemTime, method: &str, input: DataValue) -> ScheduledCall {
        ScheduledCall { token: self.rpc.schedule_cancelable_invocation(datetime(at), method, &input) }
    }

    fn error(&self, method: &str, kind: RpcErrorKind) -> RpcError {
        RpcError { agent_type: self.agent_type.clone(), method: method.to_string(), kind }
    }

    fn rpc_error(&self, method: &str, e: golem_host::RpcError) -> RpcError {
        let kind = match e {
            golem_host::RpcError::ProtocolError(m) => RpcErrorKind::Protocol(m),
            golem_host::RpcError::Denied(m) => RpcErrorKind::Denied(m),
            golem_host::RpcError::NotFound(m) => RpcErrorKind::NotFound(m),
            golem_host::RpcError::RemoteInternalError(m) => RpcErrorKind::RemoteInternal(m),
            golem_host::RpcError::RemoteAgentError(e) => RpcErrorKind::Remote(e),
        };
        self.error(method, kind)
    }

    /// Call `method` and wait for its output.
    pub fn call(&self, method: &str, input: DataValue) -> Result<DataValue, RpcError> {
        self.rpc.invoke_and_await(method, &input).map_err(|e| self.rpc_error(method, e))
    }

    /// Call `method` without waiting for it to run; only failing to
    /// deliver the call is an error.
    pub fn trigger(&self, method: &str, input: DataValue) -> Result<(), RpcError> {
        self.rpc.invoke(method, &input).map_err(|e| self.rpc_error(method, e))
    }

    /// Call `method` and return a future of its output (Golem's
    /// `async-invoke-and-await`): the other agent runs the call while this
    /// one goes on; awaiting it waits on wstd's executor.
    pub async fn call_async(&self, method: &str, input: DataValue) -> Result<DataValue, RpcError> {
        let future = self.rpc.async_invoke_and_await(method, &input);
        wait_for(future.subscribe()).await;
        match future.get() {
            Some(answer) => answer.map_err(|e| self.rpc_error(method, e)),
            None => {
                Err(self.error(method, RpcErrorKind::Protocol("the call's future was ready without an answer".into())))
            }
        }
    }

    /// [`RemoteAgent::call_async`], decoding its one output as `T`.
    pub async fn call_returning_async<T: FromValue>(&self, method: &str, input: DataValue) -> Result<T, RpcError> {
        let output = self.call_async(method, input).await?;
        self.decode(method, &output)
    }

    /// [`RemoteAgent::call_async`] of a method that returns nothing.
    pub async fn call_returning_nothing_async(&self, method: &str, input: DataValue) -> Result<(), RpcError> {
        match self.call_async(method, input).await? {
            DataValue::Tuple(elements) if elements.is_empty() => Ok(()),
            other => Err(self.error(method, RpcErrorKind::Decode(format!("expected no output, got {other:?}")))),
        }
    }

    /// Call `method` and decode its one output as `T`.
    pub fn call_returning<T: FromValue>(&self, method: &str, input: DataValue) -> Result<T, RpcError> {
        let output = self.call(method, input)?;
        self.decode(method, &output)
    }

    /// Call `method`, which returns nothing.
    pub fn call_returning_nothing(&self, method: &str, input: DataValue) -> Result<(), RpcError> {
        match self.call(method, input)? {
            DataValue::Tuple(elements) if elements.is_empty() => Ok(()),
            other => Err(self.error(method, RpcErrorKind::Decode(format!("expected no output, got {other:?}")))),
        }
    }

    fn decode<T: FromValue>(&self, method: &str, output: &DataValue) -> Result<T, RpcError> {
        let decode_error = |m: String| self.error(method, RpcErrorKind::Decode(m));
        match output {
            DataValue::Tuple(elements) => match elements.as_slice() {
                [ElementValue::ComponentModel(value)] => {
                    T::from_wit_value(value).map_err(|e| decode_error(e.to_string()))
                }
                [_] => Err(decode_error("the output is unstructured data, not a component-model value".into())),
                other => Err(decode_error(format!("expected one output value, got {}", other.len()))),
            },
            DataValue::Multimodal(_) => Err(decode_error("expected one output value, got multimodal output".into())),
        }
    }
}

/// A call scheduled with [`RemoteAgent::schedule_cancelable`] (or a
/// client's `schedule_cancelable_` method). Dropping it leaves the call
/// scheduled.
#[derive(Debug)]
pub struct ScheduledCall {
    token: CancellationToken,
}

impl ScheduledCall {
    /// Cancel the call, unless it has been enqueued on the agent already
    /// (then it runs all the same).
    pub fn cancel(self) {
        self.token.cancel();
    }
}

/// `at` as a WASI wall-clock time; times before 1970 are 1970.
fn datetime(at: SystemTime) -> Datetime {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    Datetime { seconds: since.as_secs(), nanoseconds: since.subsec_nanos() }
}

/// Wait, on wstd's executor, until `pollable` is ready.
pub(crate) async fn wait_for(pollable: crate::bindings::wasi::io::poll::Pollable) {
    // The same `wasi:io/poll` resource, as the bindings wstd was built with see it.
    // SAFETY: the handle is taken out of `pollable`, so it is owned once.
    let pollable = unsafe { wstd::__internal::wasip2::io::poll::Pollable::from_handle(pollable.take_handle()) };
    wstd::runtime::AsyncPollable::new(pollable).wait_for().await;
}

/// Agent input from argument values, in parameter order:
/// `input(vec![arg(&sku), arg(&quantity)])`.
pub fn input(args: Vec<ElementValue>) -> DataValue {
    DataValue::Tuple(args)
}

/// One argument of an agent input.
pub fn arg<T: IntoValue + ?Sized>(value: &T) -> ElementValue {
    ElementValue::ComponentModel(value.to_wit_value())
}
