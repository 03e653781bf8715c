//! An agent's invocation queue: calls other agents enqueued on it, run one
//! at a time in the order they arrived, as Golem's worker runs its pending
//! invocations (golem-worker-executor/src/worker/mod.rs,
//! `enqueue_worker_invocation`; worker/invocation_loop.rs).

use std::sync::Arc;

use super::Agent;
use super::call::Call;
use super::entries::schemas;
use crate::bindings::golem::agent::host::RpcError;
use crate::bindings::golem::api::oplog::PendingAgentInvocationParameters;
use crate::error::Error;
use crate::host::{CallAnswer, QueuedCall};
use crate::oplog::OplogEntry;

impl Agent {
    /// Run the invocations waiting in this agent's queue, oldest first,
    /// each answer going to whoever enqueued it.
    pub(crate) fn run_queue(&mut self) {
        // A suspended invocation holds the queue up until it resumes.
        while !self.is_suspended()
            && let Some(queued) = self.habitat.next_queued(self.id())
        {
            match self.run_queued(&queued) {
                Some(answer) => queued.reply.fill(answer),
                None => self.reply_on_resume(queued.reply),
            }
        }
    }

    /// The answer to a queued call; `None` when the call suspended the agent
    /// (its caller gets the answer once it resumes).
    fn run_queued(&mut self, queued: &QueuedCall) -> Option<CallAnswer> {
        if let Some(answer) = self.answered.get(&queued.key) {
            return Some(answer.clone().map_err(RpcError::RemoteAgentError));
        }
        let call = Call::Method {
            name: queued.method.clone(),
            input: queued.input.clone(),
            key: queued.key.clone(),
            incoming: Some(Arc::new(queued.incoming.clone())),
        };
        // Golem commits a pending invocation when a call arrives; the
        // testkit writes it when the agent takes the call up.
        if let Err(e) = self.pending_entry(&call).and_then(|entry| self.append_executor_entry(entry)) {
            return Some(Err(RpcError::RemoteInternalError(format!("agent `{}`: {e}", self.id()))));
        }
        match self.invoke_keyed(&queued.method, queued.input.clone(), queued.key.clone(), queued.incoming.clone()) {
            Ok(Ok(output)) => Some(Ok(output)),
            Ok(Err(e)) => Some(Err(RpcError::RemoteAgentError(e))),
            Err(Error::Suspended { .. }) if self.is_suspended() => None,
            Err(e) => Some(Err(RpcError::RemoteInternalError(format!("agent `{}`: {e}", self.id())))),
        }
    }

    /// The `pending-agent-invocation` entry of `call`: the invocation its
    /// started entry will record.
    fn pending_entry(&mut self, call: &Call) -> Result<OplogEntry, Error> {
        self.ensure_live()?;
        let (input_schema, _) = schemas(self.definition(), call);
        let OplogEntry::AgentInvocationStarted(started) = self.started_entry(call, input_schema) else {
            return Err(Error::Setup("no started entry for a queued call".into()));
        };
        Ok(OplogEntry::PendingAgentInvocation(PendingAgentInvocationParameters {
            timestamp: started.timestamp,
            invocation: started.invocation,
        }))
    }
}
