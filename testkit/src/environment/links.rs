//! The environment as the layers below see it: the agent runtime's
//! [`Habitat`] and the host's [`AgentDirectory`].

use std::sync::Arc;

use super::{ConnectError, Environment};
use crate::bindings::golem::agent::host::RpcError;
use crate::bindings::golem::api::oplog::{EnvironmentPluginGrantId, PluginInstallationDescription};
use crate::bindings::golem::core::types::{AgentId, ComponentId, DataValue};
use crate::bindings::{CalleeContext, RpcTarget};
use crate::host::registry::AgentRecord;
use crate::host::{AgentDirectory, AgentIdentity, AgentRequest, DefinedType, World};
use crate::ids::uuid_from_u128;
use crate::journal::Forwarding;
use crate::plugins::Forwarder;
use crate::runtime::{Habitat, LoadedComponent, ProcessBatch};

/// Stack of the thread a call runs the callee on (the callee's guest code
/// gets a stack of its own rather than running on top of the caller's).
const CALL_STACK_BYTES: usize = 16 * 1024 * 1024;

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

    fn call(
        &self,
        target: &RpcTarget,
        method: &str,
        input: DataValue,
        key: String,
        context: CalleeContext,
    ) -> Result<DataValue, RpcError> {
        let Some(component) = self.component_revision(target.component.0, target.component.1) else {
            return Err(RpcError::NotFound(format!("the component defining `{}` is gone", target.agent_type)));
        };
        let run = || {
            let handle = self.connect_owned(&component, &target.agent_type, &target.args, context.creation).map_err(
                |e| match e {
                    ConnectError::HeldByTest(_) => RpcError::Denied(e.to_string()),
                    ConnectError::Creating(_) => RpcError::ProtocolError(e.to_string()),
                    ConnectError::Refused(refused) => RpcError::RemoteAgentError(refused),
                    ConnectError::Failed(error) => {
                        RpcError::RemoteInternalError(format!("creating agent `{}` failed: {error}", target.id))
                    }
                },
            )?;
            let Some(mut agent) = handle.try_lock() else {
                return Err(RpcError::ProtocolError(format!(
                    "agent `{}` is busy running another invocation (a cycle of calls?); the testkit refuses the call instead of deadlocking",
                    target.id
                )));
            };
            match agent.invoke_keyed(method, input, key, context.invocation) {
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
                    Err(RpcError::RemoteInternalError(format!(
                        "the testkit panicked running the call to `{}`",
                        target.id
                    )))
                }),
                Err(e) => Err(RpcError::ProtocolError(format!("could not start the call to `{}`: {e}", target.id))),
            }
        })
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
