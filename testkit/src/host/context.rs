//! `golem:api/context@1.5.0`: invocation contexts and spans. Each invocation
//! runs in an implicit root span; spans the agent starts are recorded in the
//! oplog (start, attributes, finish) and replayed with their recorded ids.

use wasmtime::component::Resource;

use super::HostState;
use crate::bindings::golem::api::context::{
    Attribute, AttributeChain, AttributeValue, Host, HostInvocationContext, HostSpan,
};
use crate::bindings::golem::api::oplog::{FinishSpanParameters, SetSpanAttributeParameters, StartSpanParameters};
use crate::bindings::wasi::clocks::wall_clock::Datetime;
use crate::bindings::{ContextSnapshot, SpanHandle, SpanState};
use crate::journal::Strict;
use crate::oplog::OplogEntry;

/// The spans of the running invocation; the first is the implicit root.
#[derive(Debug)]
pub(crate) struct Spans {
    trace_id: String,
    spans: Vec<SpanState>,
    /// Whether outgoing HTTP requests carry trace-context headers: on
    /// unless the agent turns it off, as in Golem (`durable_host/mod.rs`).
    pub(crate) forward_headers: bool,
}

impl Default for Spans {
    fn default() -> Self {
        Spans { trace_id: String::new(), spans: Vec::new(), forward_headers: true }
    }
}

fn hex(v: u64, digits: usize) -> String {
    format!("{v:0digits$x}")
}

impl Spans {
    /// Start the implicit root span of an invocation (ids derive from the
    /// seed and the invocation's oplog index, so replay reproduces them).
    pub(crate) fn begin_invocation(&mut self, seed: u64, started_index: u64, method: &str) {
        let trace = crate::journal::seed_from(&[&seed.to_le_bytes(), &started_index.to_le_bytes()]);
        self.trace_id = format!("{}{}", hex(trace, 16), hex(trace.rotate_left(29) ^ 0x5bd1_e995, 16));
        self.spans = vec![SpanState {
            id: hex(trace.rotate_left(7) | 1, 16),
            parent: None,
            started_at: crate::journal::Journal::time_at(started_index),
            attributes: vec![("invocation".into(), AttributeValue::String(method.into()))],
            open: true,
        }];
    }

    /// The W3C trace-context headers naming `span_id` as the parent, with
    /// the trace states of the current spans. Golem sends flags `00`
    /// (golem-service-base/src/headers.rs).
    pub(crate) fn trace_headers(&self, span_id: &str) -> Vec<(String, String)> {
        trace_headers(&self.trace_id, span_id, &self.snapshot().chain)
    }

    fn innermost_open(&self) -> Option<&SpanState> {
        self.spans.iter().rev().find(|s| s.open)
    }

    fn find_mut(&mut self, id: &str) -> Option<&mut SpanState> {
        self.spans.iter_mut().find(|s| s.id == id)
    }

    fn snapshot(&self) -> ContextSnapshot {
        // Walk from the innermost open span up its parents.
        let mut chain = Vec::new();
        let mut next = self.innermost_open().map(|s| s.id.clone());
        while let Some(id) = next {
            let Some(span) = self.spans.iter().find(|s| s.id == id) else { break };
            chain.push(span.clone());
            next = span.parent.clone();
        }
        ContextSnapshot { trace_id: self.trace_id.clone(), chain }
    }
}

impl HostState {
    /// The current span's id.
    pub(super) fn current_span(&self) -> Option<String> {
        self.spans.innermost_open().map(|s| s.id.clone())
    }

    /// Start a span under `parent` as Golem's `start_span` does: live, a
    /// `start-span` entry (buffered) with a new id; replaying, the recorded
    /// entry's id and time. Returns the id and start time.
    pub(super) fn record_span_start(
        &mut self,
        parent: Option<String>,
        attributes: Vec<Attribute>,
        describe: impl FnOnce() -> String,
    ) -> wasmtime::Result<(String, Datetime)> {
        self.journal.draw("golem:api/context::start-span");
        if self.journal.is_live() {
            let id = hex(self.journal.random_u64(0x5a4e) | 1, 16);
            let started_at = self.journal.now();
            self.journal.append(OplogEntry::StartSpan(StartSpanParameters {
                timestamp: started_at,
                span_id: id.clone(),
                parent,
                linked_context_id: None,
                attributes,
            }))?;
            Ok((id, started_at))
        } else {
            let (_, entry) = self.journal.replay(Strict::StartSpan, describe)?;
            match entry {
                OplogEntry::StartSpan(p) => Ok((p.span_id.clone(), p.timestamp)),
                _ => Err(wasmtime::format_err!("replay matched a start-span entry that is not one")),
            }
        }
    }

    /// Finish the agent's span `id`; once only.
    fn finish_span(&mut self, id: &str) -> wasmtime::Result<()> {
        let Some(span) = self.spans.find_mut(id) else { return Ok(()) };
        if !span.open {
            return Ok(());
        }
        span.open = false;
        self.record_span_finish(id)
    }

    /// Record the end of span `id` (`finish-span`, buffered).
    pub(super) fn record_span_finish(&mut self, id: &str) -> wasmtime::Result<()> {
        if self.journal.is_live() {
            let entry =
                OplogEntry::FinishSpan(FinishSpanParameters { timestamp: self.journal.now(), span_id: id.into() });
            self.journal.append(entry)?;
        } else {
            self.journal.replay(Strict::FinishSpan, || format!("finished span {id}"))?;
        }
        Ok(())
    }

    fn set_span_attribute(&mut self, id: &str, name: String, value: AttributeValue) -> wasmtime::Result<()> {
        if self.journal.is_live() {
            let entry = OplogEntry::SetSpanAttribute(SetSpanAttributeParameters {
                timestamp: self.journal.now(),
                span_id: id.into(),
                key: name.clone(),
                value: value.clone(),
            });
            self.journal.append(entry)?;
        } else {
            self.journal.replay(Strict::SetSpanAttribute, || format!("set attribute `{name}` on span {id}"))?;
        }
        if let Some(span) = self.spans.find_mut(id) {
            span.attributes.retain(|(k, _)| *k != name);
            span.attributes.push((name, value));
        }
        Ok(())
    }
}

impl Host for HostState {
    fn start_span(&mut self, name: String) -> wasmtime::Result<Resource<SpanHandle>> {
        let parent = self.spans.innermost_open().map(|s| s.id.clone());
        let attributes = vec![Attribute { key: "name".into(), value: AttributeValue::String(name.clone()) }];
        let (id, started_at) =
            self.record_span_start(parent.clone(), attributes, || format!("started span `{name}`"))?;
        self.spans.spans.push(SpanState {
            id: id.clone(),
            parent,
            started_at,
            attributes: vec![("name".into(), AttributeValue::String(name))],
            open: true,
        });
        Ok(self.table.push(SpanHandle { id })?)
    }

    fn current_context(
        &mut self,
    ) -> wasmtime::Result<Resource<crate::bindings::golem::api::context::InvocationContext>> {
        let snapshot = self.spans.snapshot();
        Ok(self.table.push(snapshot)?)
    }

    fn allow_forwarding_trace_context_headers(&mut self, allow: bool) -> wasmtime::Result<bool> {
        Ok(std::mem::replace(&mut self.spans.forward_headers, allow))
    }
}

impl HostSpan for HostState {
    fn started_at(&mut self, self_: Resource<SpanHandle>) -> wasmtime::Result<Datetime> {
        let id = self.table.get(&self_)?.id.clone();
        Ok(self.spans.spans.iter().find(|s| s.id == id).map_or_else(|| self.journal.now(), |s| s.started_at))
    }

    fn set_attribute(
        &mut self,
        self_: Resource<SpanHandle>,
        name: String,
        value: AttributeValue,
    ) -> wasmtime::Result<()> {
        let id = self.table.get(&self_)?.id.clone();
        self.set_span_attribute(&id, name, value)
    }

    fn set_attributes(&mut self, self_: Resource<SpanHandle>, attributes: Vec<Attribute>) -> wasmtime::Result<()> {
        let id = self.table.get(&self_)?.id.clone();
        for a in attributes {
            self.set_span_attribute(&id, a.key, a.value)?;
        }
        Ok(())
    }

    fn finish(&mut self, self_: Resource<SpanHandle>) -> wasmtime::Result<()> {
        let id = self.table.get(&self_)?.id.clone();
        self.finish_span(&id)
    }

    fn drop(&mut self, rep: Resource<SpanHandle>) -> wasmtime::Result<()> {
        let handle = self.table.delete(rep)?;
        self.finish_span(&handle.id)
    }
}

/// A text attribute of a span the host starts.
pub(super) fn attribute(key: &str, value: &str) -> Attribute {
    Attribute { key: key.into(), value: AttributeValue::String(value.into()) }
}

/// `traceparent` naming `span_id` in trace `trace_id`, and `tracestate`
/// when `chain` has states (golem-service-base/src/headers.rs: flags `00`).
fn trace_headers(trace_id: &str, span_id: &str, chain: &[SpanState]) -> Vec<(String, String)> {
    let mut headers = vec![("traceparent".to_string(), format!("00-{trace_id}-{span_id}-00"))];
    let states = trace_states(chain);
    if !states.is_empty() {
        headers.push(("tracestate".into(), states.join(",")));
    }
    headers
}

/// The `tracestate` attributes along a span chain.
fn trace_states(chain: &[SpanState]) -> Vec<String> {
    chain
        .iter()
        .filter_map(|s| s.attributes.iter().find(|(k, _)| k == "tracestate").map(|(_, v)| value_text(v).to_string()))
        .collect()
}

fn value_text(v: &AttributeValue) -> &str {
    match v {
        AttributeValue::String(s) => s,
    }
}

impl HostInvocationContext for HostState {
    fn trace_id(&mut self, self_: Resource<ContextSnapshot>) -> wasmtime::Result<String> {
        Ok(self.table.get(&self_)?.trace_id.clone())
    }

    fn span_id(&mut self, self_: Resource<ContextSnapshot>) -> wasmtime::Result<String> {
        Ok(self.table.get(&self_)?.chain.first().map(|s| s.id.clone()).unwrap_or_default())
    }

    fn parent(&mut self, self_: Resource<ContextSnapshot>) -> wasmtime::Result<Option<Resource<ContextSnapshot>>> {
        let snapshot = self.table.get(&self_)?;
        if snapshot.chain.len() < 2 {
            return Ok(None);
        }
        let parent = ContextSnapshot { trace_id: snapshot.trace_id.clone(), chain: snapshot.chain[1..].to_vec() };
        Ok(Some(self.table.push(parent)?))
    }

    fn get_attribute(
        &mut self,
        self_: Resource<ContextSnapshot>,
        key: String,
        inherited: bool,
    ) -> wasmtime::Result<Option<AttributeValue>> {
        let snapshot = self.table.get(&self_)?;
        let spans = if inherited { &snapshot.chain[..] } else { &snapshot.chain[..snapshot.chain.len().min(1)] };
        Ok(spans.iter().find_map(|s| s.attributes.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| v.clone())))
    }

    fn get_attributes(
        &mut self,
        self_: Resource<ContextSnapshot>,
        inherited: bool,
    ) -> wasmtime::Result<Vec<Attribute>> {
        let snapshot = self.table.get(&self_)?;
        let spans = if inherited { &snapshot.chain[..] } else { &snapshot.chain[..snapshot.chain.len().min(1)] };
        let mut out: Vec<Attribute> = Vec::new();
        for span in spans {
            for (k, v) in &span.attributes {
                if !out.iter().any(|a| a.key == *k) {
                    out.push(Attribute { key: k.clone(), value: v.clone() });
                }
            }
        }
        Ok(out)
    }

    fn get_attribute_chain(
        &mut self,
        self_: Resource<ContextSnapshot>,
        key: String,
    ) -> wasmtime::Result<Vec<AttributeValue>> {
        let snapshot = self.table.get(&self_)?;
        Ok(snapshot
            .chain
            .iter()
            .filter_map(|s| s.attributes.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| v.clone()))
            .collect())
    }

    fn get_attribute_chains(&mut self, self_: Resource<ContextSnapshot>) -> wasmtime::Result<Vec<AttributeChain>> {
        let snapshot = self.table.get(&self_)?;
        let mut keys: Vec<String> = Vec::new();
        for span in &snapshot.chain {
            for (k, _) in &span.attributes {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
        Ok(keys
            .into_iter()
            .map(|key| AttributeChain {
                values: snapshot
                    .chain
                    .iter()
                    .filter_map(|s| s.attributes.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| v.clone()))
                    .collect(),
                key,
            })
            .collect())
    }

    fn trace_context_headers(&mut self, self_: Resource<ContextSnapshot>) -> wasmtime::Result<Vec<(String, String)>> {
        let snapshot = self.table.get(&self_)?;
        let span = snapshot.chain.first().map(|s| s.id.clone()).unwrap_or_else(|| "0".repeat(16));
        Ok(trace_headers(&snapshot.trace_id, &span, &snapshot.chain))
    }

    fn drop(&mut self, rep: Resource<ContextSnapshot>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}
