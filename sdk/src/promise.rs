//! Promises (`golem:api/host@1.5.0`): an agent creates one, hands its id to
//! whoever decides (a person through an API, another agent, a system) and
//! waits until they complete it. While it waits, Golem suspends the agent:
//! it costs nothing, however long the wait, and carries on when the promise
//! is completed.
//!
//! ```no_run
//! use std::time::Duration;
//! use reprise::promise::Promise;
//!
//! // An approval that waits two days at most.
//! let promise = Promise::create();
//! // ... hand `promise.id()` to the approver (an RPC argument, an e-mail) ...
//! match promise.wait_for(Duration::from_secs(2 * 24 * 3600)) {
//!     Some(answer) => println!("answered {}", String::from_utf8_lossy(&answer)),
//!     None => println!("no answer in two days"),
//! }
//! ```
//!
//! Whoever holds the id completes it once, with a payload:
//! [`complete`] (another agent) or Golem's API (`reprise_testkit`'s
//! `Environment::complete_promise` in tests). Only the agent that created a
//! promise may wait for it.

use std::time::Duration;

use crate::bindings::golem::api::host as raw;
use crate::bindings::golem::core::types::{AgentId, ComponentId, WitNode, WitTypeNode};
use crate::bindings::wasi::clocks::monotonic_clock;
use crate::bindings::wasi::io::poll;
use crate::value::{FromValue, IntoValue, NodeIndex, Schema, TypeBuilder, ValueBuilder, ValueError, ValueReader};

pub use crate::bindings::golem::api::host::PromiseId;

/// A promise this agent created.
#[derive(Debug, Clone)]
pub struct Promise {
    id: PromiseId,
}

impl Promise {
    /// Create a promise, pending until someone completes it (a journaled
    /// call: replay gets the same id back).
    pub fn create() -> Promise {
        Promise { id: raw::create_promise() }
    }

    /// A promise this agent created earlier, by its id.
    pub fn from_id(id: PromiseId) -> Promise {
        Promise { id }
    }

    /// Its id, for whoever will complete it.
    pub fn id(&self) -> PromiseId {
        self.id.clone()
    }

    /// Wait until it is completed; returns the payload. Golem suspends the
    /// agent meanwhile.
    pub fn wait(&self) -> Vec<u8> {
        let result = raw::get_promise(&self.id);
        result.subscribe().block();
        result.get().unwrap_or_default()
    }

    /// Wait until it is completed or `timeout` has passed, whichever comes
    /// first: the payload, or `None` when the time ran out. Golem suspends
    /// the agent meanwhile.
    pub fn wait_for(&self, timeout: Duration) -> Option<Vec<u8>> {
        let result = raw::get_promise(&self.id);
        let completed = result.subscribe();
        let nanos = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
        let timer = monotonic_clock::subscribe_duration(nanos);
        let ready = poll::poll(&[&completed, &timer]);
        if ready.contains(&0) { result.get() } else { None }
    }

    /// The payload if it is completed already, without waiting.
    pub fn try_get(&self) -> Option<Vec<u8>> {
        let result = raw::get_promise(&self.id);
        if result.subscribe().ready() { result.get() } else { None }
    }
}

/// Complete the promise `id` with `data`: `true` if it was pending, `false`
/// if it had been completed already (the first payload stays).
pub fn complete(id: &PromiseId, data: &[u8]) -> bool {
    raw::complete_promise(id, data)
}

/// A promise id is Golem's `promise-id` record: the creating agent's id
/// (component and name) and the oplog index of the promise's creation, so
/// agent methods can take and return it.
impl Schema for PromiseId {
    fn add_type(b: &mut TypeBuilder) -> NodeIndex {
        let at = b.reserve();
        let agent = b.reserve();
        let component = b.reserve();
        let uuid = uuid::Uuid::add_type(b);
        b.set(component, WitTypeNode::RecordType(vec![("uuid".into(), uuid)]));
        b.name(component, "component-id", Some("golem:core/types@1.5.0"));
        let name = String::add_type(b);
        b.set(agent, WitTypeNode::RecordType(vec![("component-id".into(), component), ("agent-id".into(), name)]));
        b.name(agent, "agent-id", Some("golem:core/types@1.5.0"));
        let index = u64::add_type(b);
        b.set(at, WitTypeNode::RecordType(vec![("agent-id".into(), agent), ("oplog-idx".into(), index)]));
        b.name(at, "promise-id", Some("golem:api/host@1.5.0"))
    }
}

impl IntoValue for PromiseId {
    fn add_value(&self, b: &mut ValueBuilder) -> NodeIndex {
        let at = b.reserve();
        let agent = b.reserve();
        let component = b.reserve();
        let uuid = uuid::Uuid::from(self.agent_id.component_id.uuid).add_value(b);
        b.set(component, WitNode::RecordValue(vec![uuid]));
        let name = self.agent_id.agent_id.add_value(b);
        b.set(agent, WitNode::RecordValue(vec![component, name]));
        let index = self.oplog_idx.add_value(b);
        b.set(at, WitNode::RecordValue(vec![agent, index]))
    }
}

impl FromValue for PromiseId {
    fn read(r: &ValueReader<'_>, at: NodeIndex) -> Result<Self, ValueError> {
        let record = |at: NodeIndex, len: usize, what: &str| match r.node(at)? {
            WitNode::RecordValue(fields) if fields.len() == len => Ok(fields.clone()),
            other => Err(ValueError::new(what.to_string(), crate::value::describe(other))),
        };
        let fields = record(at, 2, "a promise-id record")?;
        let agent = record(fields[0], 2, "an agent-id record").map_err(|e| e.within(".agent-id"))?;
        let component = record(agent[0], 1, "a component-id record").map_err(|e| e.within(".agent-id.component-id"))?;
        let uuid = uuid::Uuid::read(r, component[0]).map_err(|e| e.within(".agent-id.component-id.uuid"))?;
        Ok(PromiseId {
            agent_id: AgentId {
                component_id: ComponentId { uuid: uuid.into() },
                agent_id: String::read(r, agent[1]).map_err(|e| e.within(".agent-id.agent-id"))?,
            },
            oplog_idx: u64::read(r, fields[1]).map_err(|e| e.within(".oplog-idx"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::golem::core::types::Uuid;

    fn id() -> PromiseId {
        PromiseId {
            agent_id: AgentId {
                component_id: ComponentId { uuid: Uuid { high_bits: 7, low_bits: 9 } },
                agent_id: "approval(\"o-7\")".into(),
            },
            oplog_idx: 12,
        }
    }

    #[test]
    fn a_promise_id_travels_as_golems_record_and_back() {
        let value = id().to_wit_value();
        let back = PromiseId::from_wit_value(&value).unwrap();
        assert_eq!((back.agent_id.agent_id.as_str(), back.oplog_idx), ("approval(\"o-7\")", 12));
        assert_eq!((back.agent_id.component_id.uuid.high_bits, back.agent_id.component_id.uuid.low_bits), (7, 9));
        let typ = PromiseId::wit_type();
        let names: Vec<Option<&str>> = typ.nodes.iter().map(|n| n.name.as_deref()).collect();
        assert!(names.contains(&Some("promise-id")) && names.contains(&Some("agent-id")), "{names:?}");
        // A value of another shape is refused with the path to the mismatch.
        let wrong = 12u64.to_wit_value();
        assert!(PromiseId::from_wit_value(&wrong).unwrap_err().to_string().contains("promise-id"));
    }
}
