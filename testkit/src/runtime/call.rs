//! What an invocation asks for, and what an agent answers.

use std::sync::Arc;

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
    },
    Method {
        name: String,
        input: DataValue,
        /// The caller's idempotency key (empty when it gave none).
        key: String,
    },
    /// An exported function of a plain component.
    Export {
        function: String,
        input: DataValue,
    },
    /// A batch for an oplog-processor plugin.
    Process {
        key: String,
        batch: Arc<ProcessBatch>,
    },
}

impl Call {
    /// The name of the invocation's root span.
    pub(super) fn span_name(&self) -> &str {
        match self {
            Call::Initialize { agent_type, .. } => agent_type,
            Call::Method { name, .. } | Call::Export { function: name, .. } => name,
            Call::Process { .. } => "process",
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
