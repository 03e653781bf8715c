//! Invocation context (`golem:api/context@1.5.0`): the trace an invocation
//! belongs to, its spans and their attributes, and custom spans.
//!
//! A [`Span`] is a guard: it starts as a child of the current span, becomes
//! the current span, and finishes when dropped, so nesting follows scopes.
//! Spans are recorded in the oplog and replayed like everything else.
//!
//! ```no_run
//! use reprise::context::{self, Span};
//!
//! let order = Span::start("place-order").attribute("order-id", "o-17");
//! {
//!     let _payment = Span::start("charge");
//!     assert_eq!(context::current().parent().unwrap().span_id(), order.id());
//! } // "charge" finishes here
//! let total = context::in_span("sum", |span| {
//!     span.set_attribute("items", "3");
//!     42
//! });
//! drop(order);
//! println!("{:?}", context::current().trace_context_headers());
//! # let _ = total;
//! ```

use crate::bindings::golem::api::context::{self as raw, Attribute, AttributeValue};
use crate::bindings::wasi::clocks::wall_clock::Datetime;

/// The invocation context of the current span.
pub fn current() -> InvocationContext {
    InvocationContext { raw: raw::current_context() }
}

/// Run `f` inside a new span called `name`, finished when `f` returns.
pub fn in_span<T>(name: &str, f: impl FnOnce(&Span) -> T) -> T {
    let span = Span::start(name);
    f(&span)
}

/// Whether outgoing HTTP requests carry the W3C trace-context headers
/// (`traceparent`, `tracestate`); returns the previous setting.
pub fn forward_trace_headers(allow: bool) -> bool {
    raw::allow_forwarding_trace_context_headers(allow)
}

fn text(value: AttributeValue) -> String {
    match value {
        AttributeValue::String(s) => s,
    }
}

/// A span in the invocation context: its identifiers, attributes and parent
/// chain.
#[derive(Debug)]
pub struct InvocationContext {
    raw: raw::InvocationContext,
}

impl InvocationContext {
    /// The trace this span belongs to (W3C trace id, 32 hex digits).
    pub fn trace_id(&self) -> String {
        self.raw.trace_id()
    }

    /// This span's id (16 hex digits).
    pub fn span_id(&self) -> String {
        self.raw.span_id()
    }

    /// The parent span's context, if this is not the root.
    pub fn parent(&self) -> Option<InvocationContext> {
        self.raw.parent().map(|raw| InvocationContext { raw })
    }

    /// This span and its ancestors, innermost first.
    pub fn ancestors(self) -> impl Iterator<Item = InvocationContext> {
        std::iter::successors(Some(self), InvocationContext::parent)
    }

    /// The attribute `key` set on this span itself.
    pub fn attribute(&self, key: &str) -> Option<String> {
        self.raw.get_attribute(key, false).map(text)
    }

    /// The attribute `key` from this span or, if unset here, the nearest
    /// ancestor that sets it.
    pub fn inherited_attribute(&self, key: &str) -> Option<String> {
        self.raw.get_attribute(key, true).map(text)
    }

    /// The attributes of this span only (`inherited = false`) or of this span
    /// and its ancestors, nearer spans winning (`inherited = true`).
    pub fn attributes(&self, inherited: bool) -> Vec<(String, String)> {
        self.raw.get_attributes(inherited).into_iter().map(|a| (a.key, text(a.value))).collect()
    }

    /// Every value of attribute `key` along the chain, innermost first.
    pub fn attribute_chain(&self, key: &str) -> Vec<String> {
        self.raw.get_attribute_chain(key).into_iter().map(text).collect()
    }

    /// Every attribute with its values along the chain, innermost first.
    pub fn attribute_chains(&self) -> Vec<(String, Vec<String>)> {
        self.raw.get_attribute_chains().into_iter().map(|c| (c.key, c.values.into_iter().map(text).collect())).collect()
    }

    /// The W3C trace-context headers for this span (`traceparent`, and
    /// `tracestate` when there is state).
    pub fn trace_context_headers(&self) -> Vec<(String, String)> {
        self.raw.trace_context_headers()
    }
}

/// A custom span, current until it is finished or dropped.
#[derive(Debug)]
pub struct Span {
    raw: raw::Span,
    id: String,
    finished: bool,
}

impl Span {
    /// Start a span called `name` as a child of the current span.
    pub fn start(name: &str) -> Span {
        let raw = raw::start_span(name);
        let id = current().span_id();
        Span { raw, id, finished: false }
    }

    /// The span's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// When the span started.
    pub fn started_at(&self) -> Datetime {
        self.raw.started_at()
    }

    /// Set attribute `key` (replacing an earlier value).
    pub fn set_attribute(&self, key: &str, value: impl Into<String>) {
        self.raw.set_attribute(key, &AttributeValue::String(value.into()));
    }

    /// Set several attributes at once.
    pub fn set_attributes<K: Into<String>, V: Into<String>>(&self, attributes: impl IntoIterator<Item = (K, V)>) {
        let list: Vec<Attribute> = attributes
            .into_iter()
            .map(|(k, v)| Attribute { key: k.into(), value: AttributeValue::String(v.into()) })
            .collect();
        self.raw.set_attributes(&list);
    }

    /// Builder form of [`set_attribute`](Span::set_attribute).
    pub fn attribute(self, key: &str, value: impl Into<String>) -> Span {
        self.set_attribute(key, value);
        self
    }

    /// Finish the span now; its parent becomes current again.
    pub fn finish(mut self) {
        self.end();
    }

    fn end(&mut self) {
        if !self.finished {
            self.finished = true;
            self.raw.finish();
        }
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        self.end();
    }
}
