//! `golem:api/host`'s `fork-agent` and `fork`: new agents started from a
//! copy of an oplog, journaled as Golem journals them
//! (golem-worker-executor/src/durable_host/golem/v1x.rs,
//! services/worker_fork.rs):
//!
//! - `fork-agent(source, target, cut-off)` is a write-remote host call,
//!   `golem::api::fork_worker`; the target gets the source's entries up to
//!   the cut-off and goes on from there. A refusal is recorded, then traps.
//! - `fork()` is a write-remote host call, `golem::api::fork`: the target is
//!   the calling agent with a new phantom id; its copy ends with this call's
//!   entry answering `forked`, so the copy replays up to the call, hears
//!   `forked` and goes on live, while the caller hears `original`.

use super::HostState;
use crate::bindings::golem::api::host::{AgentId, ForkDetails, ForkResult, Uuid};
use crate::bindings::golem::api::oplog::WrappedFunctionType;
use crate::host::{ForkRequest, names};
use crate::ids::{uuid_v4, with_phantom, without_phantom};
use crate::journal::{host_call_entry, journaled_record};

struct ForkAgentRequest {
    source: String,
    target: String,
    cut_off: u64,
}

journaled_record!(ForkAgentRequest {
    source: "source-agent-id",
    target: "target-agent-id",
    cut_off: "oplog-index-cut-off",
});

/// What `fork` answers: the copy's phantom id, and which side this is
/// (`original` or `forked`) or why there is no copy.
struct ForkAnswer {
    phantom: Uuid,
    side: Result<String, String>,
}

journaled_record!(ForkAnswer { phantom: "forked-phantom-id", side: "result" });

const ORIGINAL: &str = "original";
const FORKED: &str = "forked";

impl HostState {
    /// `fork-agent`.
    pub(super) fn fork_other(&mut self, source: AgentId, target: AgentId, cut_off: u64) -> wasmtime::Result<()> {
        let request = ForkAgentRequest { source: source.agent_id, target: target.agent_id, cut_off };
        let own_entries = (request.source == self.agent.name).then(|| self.journal.oplog.entries().to_vec());
        let directory = self.directory.clone();
        let done: Result<(), String> =
            self.journal.call(names::FORK_AGENT, WrappedFunctionType::WriteRemote, &request, |_| {
                directory.fork(ForkRequest {
                    source: request.source.clone(),
                    own_entries,
                    target: request.target.clone(),
                    cut_off,
                    then: Vec::new(),
                })
            })?;
        done.map_err(|e| wasmtime::format_err!("fork-agent of `{}` into `{}`: {e}", request.source, request.target))
    }

    /// `fork`.
    pub(super) fn fork_self(&mut self) -> wasmtime::Result<ForkResult> {
        let me = self.agent.name.clone();
        // The copy is this agent under a new phantom id.
        let base = without_phantom(&me).to_string();
        let directory = self.directory.clone();
        let answer: ForkAnswer = self.journal.call(names::FORK, WrappedFunctionType::WriteRemote, &(), |j| {
            let phantom = uuid_v4(j.random_u64(0xf0), j.random_u64(0xf1));
            let cut_off = j.last_index();
            let forked = ForkAnswer { phantom, side: Ok(FORKED.to_string()) };
            let request = ForkRequest {
                source: me.clone(),
                own_entries: Some(j.oplog.entries().to_vec()),
                target: with_phantom(base, Some(&phantom)),
                cut_off,
                then: vec![host_call_entry(names::FORK, WrappedFunctionType::WriteRemote, &(), &forked, j.now())],
            };
            ForkAnswer { phantom, side: directory.fork(request).map(|()| ORIGINAL.to_string()) }
        })?;
        let details = ForkDetails { forked_phantom_id: answer.phantom };
        match answer.side {
            Ok(side) if side == FORKED => Ok(ForkResult::Forked(details)),
            Ok(_) => Ok(ForkResult::Original(details)),
            Err(e) => Err(wasmtime::format_err!("fork of `{me}`: {e}")),
        }
    }
}
