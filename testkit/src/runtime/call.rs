//! What an invocation asks for, and what an agent answers.

use std::sync::Arc;

use crate::bindings::IncomingContext;
use crate::bindings::golem::agent::common::AgentError;
use crate::bindings::golem::api::host::AgentMetadata;
use crate::bindings::golem::core::types::{AgentId, DataValue};
use crate::oplog::RawOplogEntry;

/// What an agent answered to one invocation: its output or its own error.
pub(crate) type Answer = Result<DataValue, AgentError>;

/// What an invocation asked for.
#[derive(Debug, Clone)]
pub(crate) enum Call {
    Initialize {
        agent_type: String,
        input: DataValue,
        /// The context an RPC caller passed (`None`: a fresh one).
        incoming: Option<Arc<IncomingContext>>,
    },
    Method {
        name: String,
        input: DataValue,
        /// The caller's idempotency key (empty when it gave none).
        key: String,
        /// The context an RPC caller passed (`None`: a fresh one).
        incoming: Option<Arc<IncomingContext>>,
    },
    /// An exported function of a plain component.
    Export { function: String, input: DataValue },
    /// A batch for an oplog-processor plugin.
    Process { key: String, batch: Arc<ProcessBatch> },
}

impl Call {
    /// A method call from the testkit's API: no caller's key or context.
    pub(crate) fn method(name: &str, input: DataValue) -> Call {
        Call::Method { name: name.into(), input, key: String::new(), incoming: None }
    }

    /// The function name and kind Golem gives the invocation's span.
    pub(super) fn span_function(&self) -> (&str, &'static str) {
        match self {
            Call::Initialize { .. } => ("initialize", "AgentInitialization"),
            Call::Method { name, .. } | Call::Export { function: name, .. } => (name, "AgentMethod"),
            Call::Process { .. } => ("process", "ProcessOplogEntries"),
        }
    }

    /// The context the caller passed, if any.
    pub(super) fn incoming(&self) -> Option<&IncomingContext> {
        match self {
            Call::Initialize { incoming, .. } | Call::Method { incoming, .. } => incoming.as_deref(),
            _ => None,
        }
    }
}

/// The arguments of one `golem:api/oplog-processor.process` call.
#[derive(Debug)]
pub(crate) struct ProcessBatch {
    pub(crate) config: Vec<(String, String)>,
    pub(crate) agent_id: AgentId,
    pub(crate) metadata: AgentMetadata,
    pub(crate) first_index: u64,
    pub(crate) entries: Vec<RawOplogEntry>,
}
