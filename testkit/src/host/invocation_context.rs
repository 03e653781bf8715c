//! The invocation context an `agent-invocation-started` entry carries, as a
//! Golem 1.5.9 executor writes it (golem-common/src/model/invocation_context.rs,
//! golem-worker-executor/src/worker/invocation_loop.rs `invoke_agent_with_context`,
//! src/model/public_oplog/mod.rs, golem-common/src/model/oplog/payload/types.rs
//! `encode_span_data`):
//!
//! - the trace id and trace states come with the invocation (an RPC caller's)
//!   or are fresh: a new trace id and a bare root span, as for an invocation
//!   through Golem's REST API;
//! - one span per invocation, `invoke-exported-function`, is the first of
//!   the chain (innermost first), under the incoming spans; it is not
//!   recorded by start- or finish-span entries, it ends with the invocation;
//! - an RPC callee inherits the caller's chain from its `rpc-invocation`
//!   span up, every local span marked inherited; `rpc-invocation` links the
//!   caller's `rpc-connection` chain, which follows as a second list.
//!
//! Ids derive from the agent's seed and the started entry's index (Golem's
//! are random): the same run writes the same context.

pub(crate) use crate::bindings::IncomingContext;
use crate::bindings::golem::api::context::{Attribute, AttributeValue};
use crate::bindings::golem::api::oplog::{ExternalSpanData, LocalSpanData, SpanData};
use crate::bindings::wasi::clocks::wall_clock::Datetime;
use crate::journal::seed_from;

/// The invocation's own span: what its attributes say.
#[derive(Debug, Clone)]
pub(crate) struct InvocationSpan {
    /// `AgentMethod` or `AgentInitialization`.
    pub(crate) kind: &'static str,
    /// The method, or `initialize`.
    pub(crate) function_name: String,
    pub(crate) idempotency_key: String,
    /// The component's id and the agent's id, `{component}/{agent}`.
    pub(crate) agent_id: String,
    /// The agent type and its constructor parameters (the agent id's
    /// argument list), when the agent id parses.
    pub(crate) agent_type: Option<(String, String)>,
}

/// The context fields of a started entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InvocationContext {
    pub(crate) trace_id: String,
    pub(crate) trace_states: Vec<String>,
    /// The main chain (the invocation's span first, the root last), then
    /// linked chains.
    pub(crate) chains: Vec<Vec<SpanData>>,
}

/// 64 bits as 16 hex digits, as span ids are written.
pub(crate) fn hex16(v: u64) -> String {
    format!("{v:016x}")
}

/// A word derived from the agent's seed, the started entry's index and a
/// tag: the invocation's ids and key, the same whenever it is written.
pub(crate) fn derived(seed: u64, started_index: u64, tag: &[u8]) -> u64 {
    seed_from(&[&seed.to_le_bytes(), &started_index.to_le_bytes(), tag])
}

/// A span id from the seed, the started index and a tag (never zero).
fn span_id(seed: u64, started_index: u64, tag: &[u8]) -> String {
    hex16(derived(seed, started_index, tag) | 1)
}

pub(crate) fn attribute(key: &str, value: &str) -> Attribute {
    Attribute { key: key.into(), value: AttributeValue::String(value.into()) }
}

/// The context of the invocation whose started entry has index
/// `started_index` and time `start`.
pub(crate) fn build(
    seed: u64,
    started_index: u64,
    start: Datetime,
    own: &InvocationSpan,
    incoming: Option<&IncomingContext>,
) -> InvocationContext {
    let fresh;
    let incoming = match incoming {
        Some(incoming) => incoming,
        None => {
            let trace = |tag: &[u8]| derived(seed, started_index, tag);
            fresh = IncomingContext {
                trace_id: format!("{}{}", hex16(trace(b"trace-high")), hex16(trace(b"trace-low") | 1)),
                trace_states: Vec::new(),
                chain: vec![SpanData::LocalSpan(LocalSpanData {
                    span_id: span_id(seed, started_index, b"root"),
                    start,
                    parent: None,
                    linked_context: None,
                    attributes: Vec::new(),
                    inherited: false,
                })],
                linked: Vec::new(),
            };
            &fresh
        }
    };
    let mut attributes = vec![
        attribute("name", "invoke-exported-function"),
        attribute("idempotency_key", &own.idempotency_key),
        attribute("function_name", &own.function_name),
        attribute("invocation_kind", own.kind),
        attribute("agent_id", &own.agent_id),
    ];
    if let Some((agent_type, parameters)) = &own.agent_type {
        attributes.push(attribute("agent_type", agent_type));
        attributes.push(attribute("agent_parameters", parameters));
    }
    let invocation = SpanData::LocalSpan(LocalSpanData {
        span_id: span_id(seed, started_index, b"invocation"),
        start,
        parent: incoming.chain.first().map(|s| id_of(s).to_string()),
        linked_context: None,
        attributes,
        inherited: false,
    });
    let mut main = vec![invocation];
    main.extend(incoming.chain.iter().cloned());
    let mut chains = vec![main];
    chains.extend(incoming.linked.iter().cloned());
    InvocationContext { trace_id: incoming.trace_id.clone(), trace_states: incoming.trace_states.clone(), chains }
}

pub(crate) fn id_of(span: &SpanData) -> &str {
    match span {
        SpanData::LocalSpan(s) => &s.span_id,
        SpanData::ExternalSpan(s) => &s.span_id,
    }
}

/// A span as a callee inherits it: local spans marked inherited.
pub(crate) fn inherited(span: SpanData) -> SpanData {
    match span {
        SpanData::LocalSpan(s) => SpanData::LocalSpan(LocalSpanData { inherited: true, ..s }),
        external @ SpanData::ExternalSpan(_) => external,
    }
}

/// An external span (one only named by id, as by a `traceparent`).
pub(crate) fn external(span_id: &str) -> SpanData {
    SpanData::ExternalSpan(ExternalSpanData { span_id: span_id.into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own() -> InvocationSpan {
        InvocationSpan {
            kind: "AgentMethod",
            function_name: "add".into(),
            idempotency_key: "k".into(),
            agent_id: "c/cart(\"a\")".into(),
            agent_type: Some(("cart".into(), "\"a\"".into())),
        }
    }

    #[test]
    fn a_fresh_invocation_has_its_own_span_over_a_bare_root() {
        let at = Datetime { seconds: 1, nanoseconds: 0 };
        let context = build(7, 3, at, &own(), None);
        assert_eq!(context.trace_id.len(), 32);
        assert_eq!(context.chains.len(), 1);
        let [SpanData::LocalSpan(span), SpanData::LocalSpan(root)] = context.chains[0].as_slice() else {
            panic!("{context:?}")
        };
        assert_eq!(span.parent.as_deref(), Some(root.span_id.as_str()));
        assert!(root.parent.is_none() && root.attributes.is_empty() && !root.inherited && !span.inherited);
        let names: Vec<&str> = span.attributes.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(
            names,
            [
                "name",
                "idempotency_key",
                "function_name",
                "invocation_kind",
                "agent_id",
                "agent_type",
                "agent_parameters"
            ]
        );
        // The same run writes the same context; another invocation another.
        assert_eq!(build(7, 3, at, &own(), None), context);
        assert_ne!(build(7, 5, at, &own(), None).trace_id, context.trace_id);
    }

    #[test]
    fn a_callee_continues_its_callers_trace() {
        let at = Datetime { seconds: 1, nanoseconds: 0 };
        let incoming = IncomingContext {
            trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
            trace_states: vec!["a=1".into()],
            chain: vec![inherited(build(1, 2, at, &own(), None).chains[0][0].clone()), external("00f067aa0ba902b7")],
            linked: vec![vec![external("00f067aa0ba902b7")]],
        };
        let context = build(7, 3, at, &own(), Some(&incoming));
        assert_eq!(
            (context.trace_id.as_str(), context.trace_states.as_slice()),
            ("4bf92f3577b34da6a3ce929d0e0e4736", &["a=1".to_string()][..])
        );
        assert_eq!(context.chains.len(), 2);
        assert_eq!(context.chains[0].len(), 3);
        let SpanData::LocalSpan(span) = &context.chains[0][0] else { panic!() };
        assert_eq!(span.parent.as_deref(), Some(id_of(&incoming.chain[0])));
    }
}
