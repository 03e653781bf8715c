//! `golem:api/context@1.5.0`: invocation contexts and spans. Each invocation
//! runs in its own `invoke-exported-function` span, under the spans it
//! inherited (see `invocation_context`); spans started since are recorded in
//! the oplog (start, attributes, finish) and replayed with their recorded ids.

use wasmtime::component::Resource;

use super::HostState;
use super::invocation_context::{self, IncomingContext};
use crate::bindings::golem::api::context::{
    Attribute, AttributeChain, AttributeValue, Host, HostInvocationContext, HostSpan,
};
use crate::bindings::golem::api::oplog::{
    FinishSpanParameters, LocalSpanData, SetSpanAttributeParameters, SpanData, StartSpanParameters,
};
use crate::bindings::wasi::clocks::wall_clock::Datetime;
use crate::bindings::{ContextSnapshot, SpanHandle, SpanState};
use crate::journal::Strict;
use crate::oplog::OplogEntry;

/// The spans of the running invocation: those it inherited, its own
/// `invoke-exported-function` span, and those started since.
#[derive(Debug)]
pub(crate) struct Spans {
    trace_id: String,
    trace_states: Vec<String>,
    spans: Vec<SpanState>,
    /// Whether outgoing HTTP requests carry trace-context headers: on
    /// unless the agent turns it off, as in Golem (`durable_host/mod.rs`).
    pub(crate) forward_headers: bool,
}

impl Default for Spans {
    fn default() -> Self {
        Spans { trace_id: String::new(), trace_states: Vec::new(), spans: Vec::new(), forward_headers: true }
    }
}

/// A span as the context of a started entry describes it.
fn span_state(data: &SpanData, parent: Option<String>) -> SpanState {
    match data {
        SpanData::LocalSpan(s) => SpanState {
            id: s.span_id.clone(),
            parent,
            started_at: s.start,
            attributes: s.attributes.iter().map(|a| (a.key.clone(), a.value.clone())).collect(),
            open: true,
            inherited: s.inherited,
            external: false,
            background: false,
            linked: None,
        },
        SpanData::ExternalSpan(s) => SpanState {
            id: s.span_id.clone(),
            parent,
            started_at: Datetime { seconds: 0, nanoseconds: 0 },
            attributes: Vec::new(),
            open: true,
            inherited: true,
            external: true,
            background: false,
            linked: None,
        },
    }
}

/// A span as a callee's context describes it.
fn span_data(span: &SpanState, linked_context: Option<u64>) -> SpanData {
    if span.external {
        return invocation_context::external(&span.id);
    }
    SpanData::LocalSpan(LocalSpanData {
        span_id: span.id.clone(),
        start: span.started_at,
        parent: span.parent.clone(),
        linked_context,
        attributes: span.attributes.iter().map(|(k, v)| Attribute { key: k.clone(), value: v.clone() }).collect(),
        inherited: span.inherited,
    })
}

impl Spans {
    /// Take up the context of a started entry (written just now, or
    /// replayed): its main chain, innermost first, becomes the span stack,
    /// its first span (the invocation's own) the current one. Parents
    /// follow the chain's order, as Golem reads them back.
    pub(crate) fn begin_invocation(&mut self, trace_id: &str, trace_states: &[String], chains: &[Vec<SpanData>]) {
        self.trace_id = trace_id.to_string();
        self.trace_states = trace_states.to_vec();
        // An RPC client kept from an earlier invocation keeps its connection
        // span, and the spans it hung under (its callees inherit them), never
        // current again.
        let mut kept: Vec<String> =
            self.spans.iter().filter(|s| s.background && s.open).map(|s| s.id.clone()).collect();
        let mut i = 0;
        while let Some(id) = kept.get(i).cloned() {
            if let Some(parent) = self.find(&id).and_then(|s| s.parent.clone())
                && !kept.contains(&parent)
            {
                kept.push(parent);
            }
            i += 1;
        }
        let mut spans: Vec<SpanState> = std::mem::take(&mut self.spans)
            .into_iter()
            .filter(|s| kept.contains(&s.id))
            .map(|s| SpanState { background: true, ..s })
            .collect();
        let chain = chains.first().map(Vec::as_slice).unwrap_or_default();
        spans.extend(
            chain
                .iter()
                .enumerate()
                .rev()
                .map(|(i, data)| span_state(data, chain.get(i + 1).map(|p| invocation_context::id_of(p).to_string()))),
        );
        self.spans = spans;
    }

    /// The W3C trace-context headers naming `span_id` as the parent, with
    /// the invocation's trace states. Golem sends flags `00`
    /// (golem-service-base/src/headers.rs).
    pub(crate) fn trace_headers(&self, span_id: &str) -> Vec<(String, String)> {
        trace_headers(&self.trace_id, span_id, &self.trace_states)
    }

    /// The span new spans start under: the innermost open one of this
    /// invocation's own.
    fn innermost_open(&self) -> Option<&SpanState> {
        self.spans.iter().rev().find(|s| s.open && !s.inherited && !s.background)
    }

    fn find(&self, id: &str) -> Option<&SpanState> {
        self.spans.iter().find(|s| s.id == id)
    }

    fn find_mut(&mut self, id: &str) -> Option<&mut SpanState> {
        self.spans.iter_mut().find(|s| s.id == id)
    }

    /// `id` and its ancestors, innermost first.
    fn chain_from(&self, id: &str) -> Vec<SpanState> {
        let mut chain = Vec::new();
        let mut next = Some(id.to_string());
        while let Some(id) = next {
            let Some(span) = self.find(&id) else { break };
            chain.push(span.clone());
            next = span.parent.clone();
        }
        chain
    }

    fn snapshot(&self) -> ContextSnapshot {
        let chain = self.innermost_open().map(|s| self.chain_from(&s.id)).unwrap_or_default();
        ContextSnapshot { trace_id: self.trace_id.clone(), trace_states: self.trace_states.clone(), chain }
    }

    /// What a callee reached through the `rpc-invocation` span `invocation`
    /// inherits: that span's chain, every local span inherited, and the
    /// chain of the connection it links (Golem's `clone_as_inherited_stack`).
    pub(crate) fn context_for_callee(&self, invocation: &str) -> IncomingContext {
        let chain = self.chain_from(invocation);
        let linked: Vec<Vec<SpanData>> = chain
            .first()
            .and_then(|s| s.linked.as_deref())
            .filter(|connection| self.find(connection).is_some())
            .map(|connection| {
                let linked = self.chain_from(connection);
                // Only the linked span itself is marked inherited.
                linked
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let data = span_data(s, None);
                        if i == 0 { invocation_context::inherited(data) } else { data }
                    })
                    .collect()
            })
            .into_iter()
            .collect();
        let main = chain
            .iter()
            .enumerate()
            // Golem numbers the first linked chain 2 (`encode_span_data`).
            .map(|(i, s)| span_data(s, (i == 0 && !linked.is_empty()).then_some(2)))
            .map(invocation_context::inherited)
            .collect();
        IncomingContext {
            trace_id: self.trace_id.clone(),
            trace_states: self.trace_states.clone(),
            chain: main,
            linked,
        }
    }

    /// What an invocation scheduled under span `current` carries: the trace,
    /// with that span as an external parent (Golem's
    /// `InvocationContextSpan::external_parent` in `schedule_cancelable_invocation`).
    pub(crate) fn context_for_scheduled(&self, current: Option<&str>) -> IncomingContext {
        IncomingContext {
            trace_id: self.trace_id.clone(),
            trace_states: self.trace_states.clone(),
            chain: current.map(invocation_context::external).into_iter().collect(),
            linked: Vec::new(),
        }
    }

    /// What an agent created through the connection span `connection`
    /// inherits for its constructor: the connection's chain, inherited.
    pub(crate) fn context_for_new_agent(&self, connection: &str) -> IncomingContext {
        IncomingContext {
            trace_id: self.trace_id.clone(),
            trace_states: self.trace_states.clone(),
            chain: self
                .chain_from(connection)
                .iter()
                .map(|s| invocation_context::inherited(span_data(s, None)))
                .collect(),
            linked: Vec::new(),
        }
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
        linked: Option<String>,
        attributes: Vec<Attribute>,
        describe: impl FnOnce() -> String,
    ) -> wasmtime::Result<(String, Datetime)> {
        self.journal.draw("golem:api/context::start-span");
        if self.journal.is_live() {
            let id = invocation_context::hex16(self.journal.random_u64(0x5a4e) | 1);
            let started_at = self.journal.now();
            self.journal.append(OplogEntry::StartSpan(StartSpanParameters {
                timestamp: started_at,
                span_id: id.clone(),
                parent,
                linked_context_id: linked,
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

    /// Start a span the host opens beside the current one (never made
    /// current): recorded like any, and kept so that a callee can inherit
    /// its chain. Returns its id.
    pub(super) fn start_background_span(
        &mut self,
        parent: Option<String>,
        linked: Option<String>,
        attributes: Vec<Attribute>,
        describe: impl FnOnce() -> String,
    ) -> wasmtime::Result<String> {
        let kept = attributes.iter().map(|a| (a.key.clone(), a.value.clone())).collect();
        let (id, started_at) = self.record_span_start(parent.clone(), linked.clone(), attributes, describe)?;
        self.spans.spans.push(SpanState {
            id: id.clone(),
            parent,
            started_at,
            attributes: kept,
            open: true,
            inherited: false,
            external: false,
            background: true,
            linked,
        });
        Ok(id)
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
        if let Some(span) = self.spans.find_mut(id) {
            span.open = false;
        }
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
            self.record_span_start(parent.clone(), None, attributes, || format!("started span `{name}`"))?;
        self.spans.spans.push(SpanState {
            id: id.clone(),
            parent,
            started_at,
            attributes: vec![("name".into(), AttributeValue::String(name))],
            open: true,
            inherited: false,
            external: false,
            background: false,
            linked: None,
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
/// when there are states (golem-service-base/src/headers.rs: flags `00`).
fn trace_headers(trace_id: &str, span_id: &str, states: &[String]) -> Vec<(String, String)> {
    let mut headers = vec![("traceparent".to_string(), format!("00-{trace_id}-{span_id}-00"))];
    if !states.is_empty() {
        headers.push(("tracestate".into(), states.join(",")));
    }
    headers
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
        let parent = ContextSnapshot {
            trace_id: snapshot.trace_id.clone(),
            trace_states: snapshot.trace_states.clone(),
            chain: snapshot.chain[1..].to_vec(),
        };
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
        Ok(trace_headers(&snapshot.trace_id, &span, &snapshot.trace_states))
    }

    fn drop(&mut self, rep: Resource<ContextSnapshot>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}
