//! What the host keeps behind each WIT resource it implements. The
//! generated bindings name these types (`with:` in [`super`]), so they live
//! beside them; the interfaces using them are in `crate::host`.

use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use super::golem::agent::host::{DataValue, RpcError};
use super::golem::api::context::AttributeValue;
use super::golem::api::host::AgentMetadata;
use super::wasi::clocks::wall_clock::Datetime;
use crate::value::Value;

/// An open key-value bucket.
#[derive(Debug)]
pub struct BucketHandle {
    pub(crate) name: String,
}

/// A key-value value being written by the guest.
#[derive(Debug, Default)]
pub struct OutgoingValue {
    pub(crate) body: Vec<u8>,
    pub(crate) stream: Option<MemoryOutputPipe>,
}

impl OutgoingValue {
    /// What the guest wrote, whichever way it wrote it.
    pub(crate) fn bytes(&self) -> Vec<u8> {
        match &self.stream {
            Some(pipe) => pipe.contents().to_vec(),
            None => self.body.clone(),
        }
    }
}

/// A key-value value read by the guest.
#[derive(Debug)]
pub struct IncomingValue {
    pub(crate) bytes: Vec<u8>,
}

/// A key-value error with its trace text.
#[derive(Debug)]
pub struct KvError {
    pub(crate) trace: String,
}

/// An open blob container.
#[derive(Debug)]
pub struct ContainerHandle {
    pub(crate) name: String,
}

/// Blob object names being listed.
#[derive(Debug)]
pub struct ObjectNames {
    pub(crate) names: Vec<String>,
    pub(crate) next: usize,
}

/// Blob data being written by the guest.
#[derive(Debug, Default)]
pub struct OutgoingBlob {
    pub(crate) stream: Option<MemoryOutputPipe>,
}

/// Blob data read by the guest.
#[derive(Debug)]
pub struct IncomingBlob {
    pub(crate) bytes: Vec<u8>,
}

/// An agent enumeration (`get-agents`): the matching agents, fixed when it
/// was created.
#[derive(Debug)]
pub struct AgentEnumeration {
    pub(crate) agents: Vec<AgentMetadata>,
    pub(crate) next: usize,
}

/// An await of a promise (`get-promise`): which promise.
#[derive(Debug)]
pub struct PromiseAwait {
    pub(crate) agent_id: String,
    pub(crate) oplog_idx: u64,
}

/// A paged read of the calling agent's oplog.
#[derive(Debug)]
pub struct OplogCursor {
    /// 1-based index of the next entry to return.
    pub(crate) next: u64,
    /// Last index to return: the oplog as it was when the read began (reading
    /// journals pages, so the oplog grows while it is read).
    pub(crate) end: u64,
    /// Search text (lower-cased), for `search-oplog`.
    pub(crate) text: Option<String>,
}

/// One span of the current invocation's context.
#[derive(Debug, Clone)]
pub(crate) struct SpanState {
    pub(crate) id: String,
    pub(crate) parent: Option<String>,
    pub(crate) started_at: Datetime,
    pub(crate) attributes: Vec<(String, AttributeValue)>,
    pub(crate) open: bool,
    /// Started by a caller (an RPC caller's spans), not this agent.
    pub(crate) inherited: bool,
    /// Known only by its id (as from a `traceparent`).
    pub(crate) external: bool,
    /// Started by the host beside the current span (`rpc-connection`,
    /// `rpc-invocation`, `outgoing-http-request`): never made current.
    pub(crate) background: bool,
    /// The span whose chain this one links (an `rpc-invocation` links its
    /// connection's).
    pub(crate) linked: Option<String>,
}

/// A span handle held by the guest.
#[derive(Debug)]
pub struct SpanHandle {
    pub(crate) id: String,
}

/// A snapshot of the span stack, innermost first.
#[derive(Debug, Clone)]
pub struct ContextSnapshot {
    pub(crate) trace_id: String,
    pub(crate) trace_states: Vec<String>,
    pub(crate) chain: Vec<SpanState>,
}

/// The agent an RPC client calls.
#[derive(Debug, Clone)]
pub(crate) struct RpcTarget {
    /// The component defining the agent type, and its revision.
    pub(crate) component: (u128, u64),
    /// The type's name as its component defines it.
    pub(crate) agent_type: String,
    pub(crate) args: Vec<Value>,
    /// Which of the agents with that type and arguments, if it is a phantom.
    pub(crate) phantom: Option<super::golem::core::types::Uuid>,
    /// The agent's id, `type(args)` or `type(args)[phantom]`.
    pub(crate) id: String,
}

/// A client bound to one remote agent (`wasm-rpc`). A client whose target
/// does not exist keeps the reason and answers every call with it.
#[derive(Debug)]
pub struct RpcClient {
    pub(crate) target: Result<RpcTarget, RpcError>,
    /// Its `rpc-connection` span, finished when the client is dropped.
    pub(crate) span: Option<String>,
}

/// What an invocation arrives with from its caller: the trace, and the
/// caller's spans.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IncomingContext {
    pub(crate) trace_id: String,
    pub(crate) trace_states: Vec<String>,
    /// The caller's spans, innermost first, down to the root.
    pub(crate) chain: Vec<super::golem::api::oplog::SpanData>,
    /// Linked chains (the caller's `rpc-connection` and its parents).
    pub(crate) linked: Vec<Vec<super::golem::api::oplog::SpanData>>,
}

/// The invocation context an RPC callee inherits: for the call, and for its
/// constructor should the call create it.
#[derive(Debug, Clone)]
pub(crate) struct CalleeContext {
    pub(crate) invocation: IncomingContext,
    pub(crate) creation: Option<IncomingContext>,
}

/// A call started with `async-invoke-and-await`. Live, the call is
/// enqueued on the callee when started and the answer comes into `reply`;
/// replaying, the call is held (Golem defers it) and enqueued only once the
/// future is polled or got live, with the same key (a callee that ran it
/// already answers from memory).
#[derive(Debug)]
pub struct RpcFuture {
    /// The call, while it has not been enqueued.
    pub(crate) call: Option<(RpcTarget, String, DataValue, String, CalleeContext)>,
    /// Where the answer comes, once the call is enqueued; taken by the
    /// `get` that returns it.
    pub(crate) reply: Option<crate::scheduler::Slot<Result<DataValue, RpcError>>>,
    /// The recorded request: target, method, input.
    pub(crate) request: (String, String, String),
    /// Its `rpc-invocation` span, finished by the first `get` that answers.
    pub(crate) span: Option<String>,
}

/// A scheduled invocation's cancellation handle; dropping it cancels
/// nothing.
#[derive(Debug)]
pub struct RpcCancellation {
    pub(crate) schedule_id: String,
}
