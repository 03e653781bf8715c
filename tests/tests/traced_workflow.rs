//! The traced-workflow example: custom spans of `reprise::context` nest by
//! scope, attributes are inherited, the oplog records the same tree, and
//! replay after crashes reproduces it.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;

use reprise_e2e::build_example;
use reprise_testkit::Environment;
use reprise_testkit::oplog::OplogEntry;
use reprise_testkit::value::Value;
use reprise_testkit::verify::{CrashPlan, Scenario, verify};

/// A step as the agent reported it.
#[derive(Debug)]
struct Step {
    name: String,
    span: String,
    parent: Option<String>,
    order_id: Option<String>,
    stages: Vec<String>,
}

fn text(v: &Value) -> String {
    v.as_str().unwrap().to_string()
}

fn opt_text(v: &Value) -> Option<String> {
    match v {
        Value::Option(o) => o.as_deref().map(text),
        other => panic!("{other:?}"),
    }
}

fn steps(trace: &Value) -> (String, Vec<Step>, String) {
    let Value::Record(f) = trace else { panic!("{trace:?}") };
    let Value::List(steps) = &f[1] else { panic!("{trace:?}") };
    let steps = steps
        .iter()
        .map(|s| {
            let Value::Record(s) = s else { panic!("{s:?}") };
            let Value::List(stages) = &s[4] else { panic!("{s:?}") };
            Step {
                name: text(&s[0]),
                span: text(&s[1]),
                parent: opt_text(&s[2]),
                order_id: opt_text(&s[3]),
                stages: stages.iter().map(text).collect(),
            }
        })
        .collect();
    (text(&f[0]), steps, text(&f[2]))
}

#[test]
fn spans_nest_by_scope_and_match_the_oplog() {
    let env = Environment::new().unwrap();
    let component = env.load(build_example("traced-workflow")).unwrap();
    let mut agent = env.create_agent(&component, "Fulfilment", &[Value::string("o-17")]).unwrap();
    let items = Value::List(vec![Value::string("tea"), Value::string("cup")]);
    let out = agent.invoke("fulfil", &[items]).unwrap();
    let (trace_id, steps, traceparent) = steps(&out[0]);
    let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["fulfil-order", "reserve", "reserve-item tea", "reserve-item cup", "ship", "after-ship"]);
    let by_name: BTreeMap<&str, &Step> = steps.iter().map(|s| (s.name.as_str(), s)).collect();
    let order = by_name["fulfil-order"];
    let reserve = by_name["reserve"];
    // Nesting follows scopes: items inside the reservation, shipping beside it.
    assert_eq!(reserve.parent.as_deref(), Some(order.span.as_str()));
    assert_eq!(by_name["reserve-item tea"].parent.as_deref(), Some(reserve.span.as_str()));
    assert_eq!(by_name["reserve-item cup"].parent.as_deref(), Some(reserve.span.as_str()));
    assert_ne!(by_name["reserve-item tea"].span, by_name["reserve-item cup"].span);
    assert_eq!(by_name["ship"].parent.as_deref(), Some(order.span.as_str()));
    // Finishing the shipping span makes the order span current again.
    assert_eq!(by_name["after-ship"].span, order.span);
    // The order id is set once and inherited by every nested span; the stage
    // chain lists the innermost first.
    assert!(steps.iter().all(|s| s.order_id.as_deref() == Some("o-17")), "{steps:?}");
    assert_eq!(by_name["reserve-item tea"].stages, ["reserve", "order"]);
    assert_eq!(by_name["ship"].stages, ["ship", "order"]);
    // W3C traceparent: version, trace id, the current (shipping) span, flags.
    assert_eq!(trace_id.len(), 32);
    assert_eq!(traceparent, format!("00-{trace_id}-{}-00", by_name["ship"].span));

    // The oplog holds the same tree: one start per span with its parent, one
    // finish per span, and the attributes set on the spans.
    let mut starts = BTreeMap::new();
    let mut finished = Vec::new();
    let mut attributes = Vec::new();
    for entry in agent.oplog().entries() {
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
        assert_eq!(starts[&step.span], step.parent, "{}", step.name);
    }
    assert_eq!(finished.len(), 5, "every span finished: {finished:?}");
    // Spans are entries of their own, not host calls.
    assert!(agent.host_calls().is_empty(), "{:?}", agent.host_calls());
    assert_eq!(finished.last(), Some(&order.span), "the order span finishes last");
    for key in ["order-id", "stage", "run", "items"] {
        assert!(attributes.contains(&(order.span.clone(), key.to_string())), "{key}: {attributes:?}");
    }

    // The ancestry of a fresh span: itself, the invocation's own span, and
    // the root of the fresh context the invocation came with (Golem's
    // `invoke-exported-function` over a bare root).
    let out = agent.invoke("ancestry", &[]).unwrap();
    let Value::List(ids) = &out[0] else { panic!("{out:?}") };
    assert_eq!(ids.len(), 3, "{ids:?}");
    // Forwarding is on until the agent turns it off, as on Golem.
    assert_eq!(agent.invoke("forward_headers", &[Value::Bool(false)]).unwrap(), [Value::Bool(true)]);
    assert_eq!(agent.invoke("forward_headers", &[Value::Bool(true)]).unwrap(), [Value::Bool(false)]);

    // Own and inherited attributes and chains (each span also carries the
    // `name` attribute the host sets when it starts it).
    let out = agent.invoke("attributes", &[]).unwrap();
    let pair = |k: &str, v: &str| Value::Tuple(vec![Value::string(k), Value::string(v)]);
    let chain = |k: &str, vs: &[&str]| {
        Value::Tuple(vec![Value::string(k), Value::List(vs.iter().map(|v| Value::string(*v)).collect())])
    };
    let Value::Tuple(parts) = &out[0] else { panic!("{out:?}") };
    assert_eq!(parts[0], Value::List(vec![pair("name", "inner"), pair("stage", "inner")]));
    // Inherited: the innermost value of each key, up to the invocation's
    // own span, which names the method being run as Golem's does.
    let Value::List(inherited) = &parts[1] else { panic!("{out:?}") };
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
    let Value::List(chains) = &parts[2] else { panic!("{out:?}") };
    assert!(chains.contains(&chain("stage", &["inner", "outer"])), "{chains:?}");
    assert!(chains.contains(&chain("tenant", &["acme"])), "{chains:?}");

    let scenario = Scenario::new("Fulfilment", [Value::string("o-18")])
        .call("fulfil", [Value::List(vec![Value::string("a"), Value::string("b"), Value::string("c")])])
        .call("ancestry", [])
        .call("attributes", [])
        .call("fulfil", [Value::List(vec![])]);
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    assert!(report.is_ok(), "{report}");
    assert!(report.runs > 20, "{report}");
}
