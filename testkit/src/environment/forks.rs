//! Agents started from a copy of another agent's oplog (`fork-agent`,
//! `fork`), as Golem's worker fork service starts them
//! (golem-worker-executor/src/services/worker_fork.rs): the copy's `create`
//! entry names the new agent (a new instance id, no parent, the rest the
//! source's), entries 2 to the cut-off follow unchanged, then a
//! `cancel-pending-invocation` for each invocation queued and not started,
//! then what the fork adds; the new agent recovers from it and goes on.

use std::sync::Arc;

use super::Environment;
use crate::bindings::golem::api::oplog::CancelPendingInvocationParameters;
use crate::bindings::golem::api::oplog::{AgentInvocation, AgentInvocationStartedParameters};
use crate::host::ForkRequest;
use crate::ids::{parse_uuid, split_agent_id, u128_from_uuid, uuid_v4};
use crate::journal::seed_from;
use crate::oplog::{Oplog, OplogEntry};
use crate::runtime::{Agent, AgentHandle, NewAgent};

impl Environment {
    /// Start `request.target` from a copy of `request.source`'s oplog, on a
    /// task of its own; `Err` when the fork cannot be made.
    pub(crate) fn fork_from(&self, request: ForkRequest) -> Result<(), String> {
        let ForkRequest { source, own_entries, target, cut_off, then } = request;
        let entries = match own_entries {
            Some(entries) => entries,
            None => self.entries_of(&source)?,
        };
        // Golem refuses to copy less than the `create` entry and one more.
        if cut_off < 2 || cut_off > entries.len() as u64 {
            return Err(format!(
                "the cut-off {cut_off} is outside agent `{source}`'s oplog (indexes 2 to {})",
                entries.len()
            ));
        }
        let Some(OplogEntry::Create(create)) = entries.first() else {
            return Err(format!("agent `{source}`'s oplog does not start with a `create` entry"));
        };
        let component = self
            .component_revision(u128_from_uuid(&create.agent_id.component_id.uuid), create.component_revision)
            .ok_or_else(|| format!("the component of agent `{source}` is not loaded"))?;
        let (source_type, _, _) = split_agent_id(&source)?;
        let (target_type, _, phantom) = split_agent_id(&target).map_err(|e| format!("the target `{target}`: {e}"))?;
        if source_type != target_type {
            return Err(format!(
                "the target `{target}` is not a `{source_type}` agent, so it cannot run `{source}`'s oplog"
            ));
        }
        let phantom = phantom.map(parse_uuid).transpose().map_err(|e| format!("the target `{target}`: {e}"))?;

        let mut copy = create.clone();
        copy.agent_id.agent_id = target.clone();
        copy.parent = None;
        let seed = seed_from(&[b"fork instance", target.as_bytes()]);
        copy.instance_id = uuid_v4(seed, seed.rotate_left(29));
        let mut oplog = vec![OplogEntry::Create(copy)];
        oplog.extend_from_slice(&entries[1..cut_off as usize]);
        let timestamp = crate::oplog::timestamp(&oplog[oplog.len() - 1]);
        oplog.extend(unstarted(&oplog).into_iter().map(|key| {
            OplogEntry::CancelPendingInvocation(CancelPendingInvocationParameters { timestamp, idempotency_key: key })
        }));
        oplog.extend(then);
        let (agent_type, args) = component.agent_of_id(&target).map_err(|e| format!("the target: {e}"))?;

        {
            let mut registry = self.shared.registry();
            if registry.record(&target).is_some() || registry.owned(&target).is_some() || registry.creating(&target) {
                return Err(format!("agent `{target}` exists already"));
            }
            registry.begin_creating(&target).map_err(|_| format!("agent `{target}` exists already"))?;
        }
        let env = self.unrooted();
        let id = target.clone();
        let started = self.shared.world.scheduler.spawn(format!("fork {target}"), move || {
            let new = NewAgent { oplog: Oplog::from_entries(oplog), phantom, ..NewAgent::agent(&agent_type, &args) };
            // Recovery replays the copy and completes its last invocation live.
            let created = Agent::create_or_refuse(Arc::new(env.unrooted()), component, new);
            env.shared.registry().end_creating(&id, created.ok().map(AgentHandle::new));
        });
        if let Err(e) = started {
            self.shared.registry().end_creating(&target, None);
            return Err(e);
        }
        Ok(())
    }

    /// The entries of environment-owned agent `id`.
    fn entries_of(&self, id: &str) -> Result<Vec<OplogEntry>, String> {
        let handle = {
            let registry = self.shared.registry();
            if registry.held_by_test(id) {
                return Err(format!(
                    "agent `{id}` is held by the test; fork-agent copies agents the environment owns \
                     (`Environment::connect_agent`, or agents created by RPC)"
                ));
            }
            registry.owned(id).ok_or_else(|| format!("there is no agent `{id}` in this environment"))?
        };
        let agent = handle.lock_taking_turns().map_err(|_| format!("agent `{id}` waits for this fork"))?;
        Ok(agent.oplog().entries().to_vec())
    }
}

/// The idempotency keys of the invocations `entries` queue and never start.
fn unstarted(entries: &[OplogEntry]) -> Vec<String> {
    let key = |invocation: &AgentInvocation| match invocation {
        AgentInvocation::AgentMethodInvocation(p) => Some(p.idempotency_key.clone()),
        _ => None,
    };
    let started: Vec<String> = entries
        .iter()
        .filter_map(|e| match e {
            OplogEntry::AgentInvocationStarted(AgentInvocationStartedParameters { invocation, .. }) => key(invocation),
            _ => None,
        })
        .collect();
    entries
        .iter()
        .filter_map(|e| match e {
            OplogEntry::PendingAgentInvocation(p) => key(&p.invocation),
            _ => None,
        })
        .filter(|k| !started.contains(k))
        .collect()
}
