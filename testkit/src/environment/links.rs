//! The environment as the layers below see it: the agent runtime's
//! [`Habitat`] and the host's [`AgentDirectory`].

use std::sync::Arc;

use super::registry::Inbound;
use super::{ConnectError, Environment};
use crate::bindings::golem::agent::host::RpcError;
use crate::bindings::golem::api::oplog::{EnvironmentPluginGrantId, PluginInstallationDescription};
use crate::bindings::golem::core::types::{AgentId, ComponentId, DataValue};
use crate::bindings::{CalleeContext, IncomingContext, RpcTarget};
use crate::host::registry::AgentRecord;
use crate::host::{
    AgentDirectory, AgentIdentity, AgentRequest, CallAnswer, DefinedType, ForkRequest, QueuedCall, ScheduledCall, World,
};
use crate::ids::uuid_from_u128;
use crate::journal::Forwarding;
use crate::plugins::Forwarder;
use crate::runtime::{AgentHandle, Habitat, LoadedComponent, ProcessBatch};
use crate::scheduler::Slot;

impl Habitat for Environment {
    fn world(&self) -> &Arc<World> {
        &self.shared.world
    }

    fn directory(&self) -> Arc<dyn AgentDirectory> {
        Arc::new(self.unrooted())
    }

    fn register(&self, identity: &AgentIdentity, agent_type: &str, revision: u64) {
        self.shared.registry().register(identity, agent_type, revision, &self.shared.world.config);
    }

    fn update_record(&self, id: &str, update: &mut dyn FnMut(&mut AgentRecord)) {
        self.shared.registry().update_record(id, update);
    }

    fn take_requests(&self, id: &str) -> Vec<AgentRequest> {
        self.shared.registry().take_requests(id)
    }

    fn component_revision(&self, id: u128, revision: u64) -> Option<LoadedComponent> {
        Environment::component_revision(self, id, revision)
    }

    fn batch(&self, key: &str) -> Result<Arc<ProcessBatch>, String> {
        self.shared.plugins().payload(key).ok_or_else(|| format!("no batch was enqueued under key `{key}`"))
    }

    fn next_queued(&self, id: &str) -> Option<QueuedCall> {
        self.shared.registry().next_queued(id)
    }

    fn forwarding(&self, agent: &AgentIdentity, component: &LoadedComponent) -> Option<Arc<dyn Forwarding>> {
        if component.plugins().is_empty() {
            return None;
        }
        let source = AgentId {
            component_id: ComponentId { uuid: uuid_from_u128(agent.component_id) },
            agent_id: agent.name.clone(),
        };
        Some(Arc::new(Forwarder::new(self.unrooted(), source)))
    }
}

impl AgentDirectory for Environment {
    fn agent_types(&self) -> Vec<DefinedType> {
        // The newest revision of every component.
        let mut latest: std::collections::BTreeMap<u128, LoadedComponent> = Default::default();
        for ((id, _), c) in self.shared.components().iter() {
            if latest.get(id).is_none_or(|seen| seen.revision() < c.revision()) {
                latest.insert(*id, c.clone());
            }
        }
        latest
            .into_values()
            .flat_map(|c| {
                let component = (c.inner.id, c.revision());
                c.agent_types()
                    .unwrap_or_default()
                    .iter()
                    .map(|definition| DefinedType { component, definition: definition.clone() })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn enqueue(
        &self,
        target: &RpcTarget,
        method: &str,
        input: DataValue,
        key: String,
        context: CalleeContext,
        awaited: bool,
    ) -> Result<Slot<CallAnswer>, RpcError> {
        let mut registry = self.shared.registry();
        let held = registry.held_by_test(&target.id);
        if held && awaited {
            return Err(RpcError::Denied(format!(
                "{}; only calls nobody awaits are queued for it, to run when the test next calls it",
                ConnectError::HeldByTest(target.id.clone())
            )));
        }
        let CalleeContext { invocation, creation } = context;
        let call = QueuedCall { method: method.into(), input, key, incoming: invocation, reply: Slot::new() };
        let reply = registry.enqueue(Inbound { target: target.clone(), creation, call });
        // An agent the test holds takes its queue up when the test next calls it.
        if !held && registry.start_runner(&target.id) {
            drop(registry);
            let env = self.unrooted();
            let id = target.id.clone();
            let started = self.shared.world.scheduler.spawn(format!("queue of {id}"), move || run_queue(&env, &id));
            if let Err(e) = started {
                self.shared.registry().runner_done(&target.id);
                return Err(RpcError::ProtocolError(e));
            }
        }
        Ok(reply)
    }

    fn schedule(&self, schedule_id: String, call: ScheduledCall) {
        self.keep_scheduled(schedule_id, call);
    }

    fn cancel_scheduled(&self, schedule_id: &str) {
        self.cancel_scheduled_call(schedule_id);
    }

    fn fork(&self, request: ForkRequest) -> Result<(), String> {
        self.fork_from(request)
    }

    fn promise_completed(&self, creator: &str) {
        self.resume_suspended(Some(creator));
    }

    fn record(&self, id: &str) -> Option<AgentRecord> {
        self.shared.registry().record(id)
    }

    fn records(&self) -> Vec<AgentRecord> {
        self.shared.registry().records()
    }

    fn request(&self, id: String, request: AgentRequest) {
        self.shared.registry().request(id, request);
    }

    fn plugin_installation(&self, grant: &EnvironmentPluginGrantId) -> Option<PluginInstallationDescription> {
        self.shared.plugins().installation(grant)
    }
}

/// Run the queue of environment-owned agent `id` (a task of the
/// scheduler): create the agent if the oldest call is the first to reach
/// it, then let it run what is queued. Stops when the queue is empty, or
/// when the agent cannot be had (the test holds it: its next call runs
/// the queue).
fn run_queue(env: &Environment, id: &str) {
    loop {
        let Some((target, creation)) = env.shared.registry().queue_front(id) else { break };
        let handle = match env.callee(&target, creation) {
            Ok(handle) => handle,
            Err(Some(error)) => {
                if let Some(call) = env.shared.registry().next_queued(id) {
                    call.reply.fill(Err(error));
                }
                continue;
            }
            Err(None) => break,
        };
        let Ok(mut agent) = handle.lock_taking_turns() else { break };
        agent.run_queue();
    }
    env.shared.registry().runner_done(id);
}

impl Environment {
    /// The environment-owned agent a queued call reaches, created if needed:
    /// `Err(Some)` when it cannot be (the call fails with it), `Err(None)`
    /// when the test holds it.
    fn callee(&self, target: &RpcTarget, creation: Option<IncomingContext>) -> Result<AgentHandle, Option<RpcError>> {
        let Some(component) = self.component_revision(target.component.0, target.component.1) else {
            return Err(Some(RpcError::NotFound(format!("the component defining `{}` is gone", target.agent_type))));
        };
        loop {
            return match self.connect_owned(
                &component,
                &target.agent_type,
                &target.args,
                target.phantom,
                creation.clone(),
            ) {
                Ok(handle) => Ok(handle),
                Err(ConnectError::HeldByTest(_)) => Err(None),
                Err(ConnectError::Creating(_)) => {
                    // Another task runs its constructor: wait for it.
                    let shared = self.shared.clone();
                    let id = target.id.clone();
                    if crate::scheduler::wait_until(move || !shared.registry().creating(&id)).is_err() {
                        return Err(Some(RpcError::ProtocolError(format!(
                            "agent `{}` is being created by a call that waits for this one",
                            target.id
                        ))));
                    }
                    continue;
                }
                Err(ConnectError::Refused(refused)) => Err(Some(RpcError::RemoteAgentError(refused))),
                Err(ConnectError::Failed(error)) => {
                    Err(Some(RpcError::RemoteInternalError(format!("creating agent `{}` failed: {error}", target.id))))
                }
            };
        }
    }
}
