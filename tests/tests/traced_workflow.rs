//! The traced-workflow example: custom spans of `reprise::context` nest by
//! scope, attributes are inherited, the oplog records the same tree, and
//! replay after crashes reproduces it.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;

use reprise_e2e::build_example;
use reprise_example_traced_workflow::{FulfilmentCall, Step};
use reprise_testkit::Environment;
use reprise_testkit::oplog::OplogEntry;
use reprise_testkit::verify::{CrashPlan, Scenario, verify};

#[test]
fn spans_nest_by_scope_and_match_the_oplog() {
    let env = Environment::new().unwrap();
    let component = env.load(build_example("traced-workflow")).unwrap();
    let mut agent = env.create(&component, FulfilmentCall::new("o-17".into())).unwrap();
    let trace = agent.fulfil(vec!["tea".into(), "cup".into()]).unwrap();
    let (trace_id, steps, traceparent) = (trace.trace_id, trace.steps, trace.traceparent);
    let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["fulfil-order", "reserve", "reserve-item tea", "reserve-item cup", "ship", "after-ship"]);
    let by_name: BTreeMap<&str, &Step> = steps.iter().map(|s| (s.name.as_str(), s)).collect();
    let order = by_name["fulfil-order"];
    let reserve = by_name["reserve"];
    // Nesting follows scopes: items inside the reservation, shipping beside it.
    assert_eq!(reserve.parent_id.as_deref(), Some(order.span_id.as_str()));
    assert_eq!(by_name["reserve-item tea"].parent_id.as_deref(), Some(reserve.span_id.as_str()));
    assert_eq!(by_name["reserve-item cup"].parent_id.as_deref(), Some(reserve.span_id.as_str()));
    assert_ne!(by_name["reserve-item tea"].span_id, by_name["reserve-item cup"].span_id);
    assert_eq!(by_name["ship"].parent_id.as_deref(), Some(order.span_id.as_str()));
    // Finishing the shipping span makes the order span current again.
    assert_eq!(by_name["after-ship"].span_id, order.span_id);
    // The order id is set once and inherited by every nested span; the stage
    // chain lists the innermost first.
    assert!(steps.iter().all(|s| s.order_id.as_deref() == Some("o-17")), "{steps:?}");
    assert_eq!(by_name["reserve-item tea"].stages, ["reserve", "order"]);
    assert_eq!(by_name["ship"].stages, ["ship", "order"]);
    // W3C traceparent: version, trace id, the current (shipping) span, flags.
    assert_eq!(trace_id.len(), 32);
    assert_eq!(traceparent, format!("00-{trace_id}-{}-00", by_name["ship"].span_id));

    // The oplog holds the same tree: one start per span with its parent, one
    // finish per span, and the attributes set on the spans.
    let mut starts = BTreeMap::new();
    let mut finished = Vec::new();
    let mut attributes = Vec::new();
    for entry in agent.agent.oplog().entries() {
        match entry {
            OplogEntry::StartSpan(p) => {
                starts.insert(p.span_id.clone(), p.parent.clone());
            }
            OplogEntry::FinishSpan(p) => finished.push(p.span_id.clone()),
            OplogEntry::SetSpanAttribute(p) => attributes.push((p.span_id.clone(), p.key.clone())),
            _ => {}
        }
    }
    assert_eq!(starts.len(), 5, "{starts:?}");
    for step in &steps[..5] {
        assert_eq!(starts[&step.span_id], step.parent_id, "{}", step.name);
    }
    assert_eq!(finished.len(), 5, "every span finished: {finished:?}");
    // Spans are entries of their own, not host calls.
    assert!(agent.agent.host_calls().is_empty(), "{:?}", agent.agent.host_calls());
    assert_eq!(finished.last(), Some(&order.span_id), "the order span finishes last");
    for key in ["order-id", "stage", "run", "items"] {
        assert!(attributes.contains(&(order.span_id.clone(), key.to_string())), "{key}: {attributes:?}");
    }

    // The ancestry of a fresh span: itself, the invocation's own span, and
    // the root of the fresh context the invocation came with (Golem's
    // `invoke-exported-function` over a bare root).
    let ids = agent.ancestry().unwrap();
    assert_eq!(ids.len(), 3, "{ids:?}");
    // Forwarding is on until the agent turns it off, as on Golem.
    assert!(agent.forward_headers(false).unwrap());
    assert!(!agent.forward_headers(true).unwrap());

    // Own and inherited attributes and chains (each span also carries the
    // `name` attribute the host sets when it starts it).
    let (own, inherited, chains) = agent.attributes().unwrap();
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    let chain = |k: &str, vs: &[&str]| (k.to_string(), vs.iter().map(|v| v.to_string()).collect::<Vec<_>>());
    assert_eq!(own, [pair("name", "inner"), pair("stage", "inner")]);
    // Inherited: the innermost value of each key, up to the invocation's
    // own span, which names the method being run as Golem's does.
    for expected in [
        pair("name", "inner"),
        pair("stage", "inner"),
        pair("tenant", "acme"),
        pair("function_name", "attributes"),
        pair("invocation_kind", "AgentMethod"),
        pair("agent_type", "fulfilment"),
        pair("agent_parameters", "\"o-17\""),
    ] {
        assert!(inherited.contains(&expected), "{expected:?} in {inherited:?}");
    }
    assert!(chains.contains(&chain("stage", &["inner", "outer"])), "{chains:?}");
    assert!(chains.contains(&chain("tenant", &["acme"])), "{chains:?}");

    let scenario = Scenario::of(FulfilmentCall::new("o-18".into()))
        .then(FulfilmentCall::fulfil(vec!["a".into(), "b".into(), "c".into()]))
        .then(FulfilmentCall::ancestry())
        .then(FulfilmentCall::attributes())
        .then(FulfilmentCall::fulfil(vec![]));
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    assert!(report.is_ok(), "{report}");
    assert!(report.runs > 20, "{report}");
}
