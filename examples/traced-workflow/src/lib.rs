//! An order-fulfilment workflow traced with custom spans
//! (`reprise::context`): a span per stage, nested spans per item, attributes
//! inherited down the chain, and the W3C headers a downstream call would carry.

use reprise::context::{self, Span};

/// What one step saw of the invocation context.
#[derive(reprise::Value, Debug, Clone, PartialEq)]
pub struct Step {
    /// The step's name.
    pub name: String,
    /// The current span's id during the step.
    pub span_id: String,
    /// The parent span's id.
    pub parent_id: Option<String>,
    /// The `order-id` attribute as the step inherits it.
    pub order_id: Option<String>,
    /// Every value of `stage` along the chain, innermost first.
    pub stages: Vec<String>,
}

/// The trace of one fulfilment.
#[derive(reprise::Value, Debug, Clone, PartialEq)]
pub struct Trace {
    /// The trace every span belongs to.
    pub trace_id: String,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The `traceparent` header inside the shipping span.
    pub traceparent: String,
}

fn step(name: &str) -> Step {
    let ctx = context::current();
    Step {
        name: name.to_string(),
        span_id: ctx.span_id(),
        parent_id: ctx.parent().map(|p| p.span_id()),
        order_id: ctx.inherited_attribute("order-id"),
        stages: ctx.attribute_chain("stage"),
    }
}

/// Span attributes as key-value pairs.
pub type Attributes = Vec<(String, String)>;

/// A fulfilment workflow.
#[derive(Debug)]
pub struct Fulfilment {
    order_id: String,
    runs: u32,
}

/// Fulfils one order, leaving a trace of nested spans.
#[reprise::agent]
impl Fulfilment {
    /// The workflow of order `order_id`.
    pub fn new(order_id: String) -> Self {
        Fulfilment { order_id, runs: 0 }
    }

    /// Reserve every item, then ship; returns what each step saw.
    pub fn fulfil(&mut self, items: Vec<String>) -> Trace {
        self.runs += 1;
        let order =
            Span::start("fulfil-order").attribute("order-id", self.order_id.clone()).attribute("stage", "order");
        order.set_attributes([("run", self.runs.to_string()), ("items", items.len().to_string())]);
        let mut steps = vec![step("fulfil-order")];
        {
            let _reserve = Span::start("reserve").attribute("stage", "reserve");
            steps.push(step("reserve"));
            for item in &items {
                context::in_span("reserve-item", |span| {
                    span.set_attribute("sku", item.clone());
                    steps.push(step(&format!("reserve-item {item}")));
                });
            }
        } // the reservation span finishes here
        let ship = Span::start("ship").attribute("stage", "ship");
        steps.push(step("ship"));
        let traceparent = context::current()
            .trace_context_headers()
            .into_iter()
            .find(|(k, _)| k == "traceparent")
            .map(|(_, v)| v)
            .unwrap_or_default();
        ship.finish();
        steps.push(step("after-ship"));
        let trace_id = context::current().trace_id();
        Trace { trace_id, steps, traceparent }
    }

    /// Whether outgoing calls carry trace headers from now on; returns the
    /// previous setting.
    pub fn forward_headers(&mut self, allow: bool) -> bool {
        context::forward_trace_headers(allow)
    }

    /// Inside a span `inner` (attribute `stage=inner`) within a span `outer`
    /// (attributes `stage=outer`, `tenant=acme`): the inner span's own
    /// attributes, the attributes it inherits (nearer spans winning), and
    /// every attribute's chain, each sorted by key.
    pub fn attributes(&self) -> (Attributes, Attributes, Vec<(String, Vec<String>)>) {
        let _outer = Span::start("outer").attribute("stage", "outer").attribute("tenant", "acme");
        let _inner = Span::start("inner").attribute("stage", "inner");
        let ctx = context::current();
        let mut own = ctx.attributes(false);
        let mut inherited = ctx.attributes(true);
        let mut chains = ctx.attribute_chains();
        own.sort();
        inherited.sort();
        chains.sort();
        (own, inherited, chains)
    }

    /// The ancestry of the current span as ids, innermost first.
    pub fn ancestry(&self) -> Vec<String> {
        let _probe = Span::start("ancestry");
        context::current().ancestors().map(|c| c.span_id()).collect()
    }
}

reprise::export_agents!(Fulfilment);
