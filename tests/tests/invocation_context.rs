//! The invocation context of `agent-invocation-started` entries, as a Golem
//! 1.5.9 executor writes it: a trace and an `invoke-exported-function` span
//! per invocation, and across RPC the caller's chain, inherited.
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_e2e::build_example;
use reprise_testkit::bindings::golem::api::context::AttributeValue;
use reprise_testkit::bindings::golem::api::oplog::{AgentInvocation, LocalSpanData, SpanData};
use reprise_testkit::oplog::OplogEntry;
use reprise_testkit::value::Value;
use reprise_testkit::{Environment, LoadedComponent};

fn warehouse() -> (Environment, LoadedComponent) {
    let env = Environment::builder().kv_entry("stock-levels", "main", r#"{"apple":5,"pear":2}"#).build().unwrap();
    let component = env.load(build_example("warehouse")).unwrap();
    (env, component)
}

/// Each started entry's function name, trace id and span chains.
fn started(entries: &[OplogEntry]) -> Vec<(String, String, Vec<Vec<SpanData>>)> {
    entries
        .iter()
        .filter_map(|e| match e {
            OplogEntry::AgentInvocationStarted(p) => match &p.invocation {
                AgentInvocation::AgentInitialization(i) => {
                    Some(("initialize".into(), i.trace_id.clone(), i.invocation_context.clone()))
                }
                AgentInvocation::AgentMethodInvocation(m) => {
                    Some((m.method_name.clone(), m.trace_id.clone(), m.invocation_context.clone()))
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn local(span: &SpanData) -> &LocalSpanData {
    match span {
        SpanData::LocalSpan(s) => s,
        SpanData::ExternalSpan(s) => panic!("external span {}", s.span_id),
    }
}

fn attribute<'a>(span: &'a LocalSpanData, key: &str) -> Option<&'a str> {
    span.attributes.iter().find(|a| a.key == key).map(|a| match &a.value {
        AttributeValue::String(v) => v.as_str(),
    })
}

/// Parents run along the chain, as Golem reads them back.
fn assert_linked(chain: &[SpanData]) {
    for pair in chain.windows(2) {
        let parent = match &pair[1] {
            SpanData::LocalSpan(s) => s.span_id.clone(),
            SpanData::ExternalSpan(s) => s.span_id.clone(),
        };
        assert_eq!(local(&pair[0]).parent.as_ref(), Some(&parent), "{chain:?}");
    }
}

#[test]
fn each_invocation_has_its_own_span_over_a_fresh_root() {
    let (env, component) = warehouse();
    let mut order = env.create_agent(&component, "Order", &[Value::string("o-1"), Value::string("main")]).unwrap();
    order.invoke("lines", &[]).unwrap();
    let invocations = started(order.oplog().entries());
    let [(init, init_trace, init_chains), (method, trace, chains)] = invocations.as_slice() else {
        panic!("{invocations:?}")
    };
    assert_eq!((init.as_str(), method.as_str()), ("initialize", "lines"));
    assert!(trace.len() == 32 && trace.chars().all(|c| c.is_ascii_hexdigit()), "{trace}");
    assert_ne!(trace, init_trace, "each invocation through the API starts its own trace");

    assert_eq!(chains.len(), 1, "no linked contexts");
    let [own, root] = chains[0].as_slice() else { panic!("{chains:?}") };
    let (own, root) = (local(own), local(root));
    assert_linked(&chains[0]);
    assert_eq!(attribute(own, "name"), Some("invoke-exported-function"));
    assert_eq!(attribute(own, "function_name"), Some("lines"));
    assert_eq!(attribute(own, "invocation_kind"), Some("AgentMethod"));
    assert_eq!(attribute(own, "agent_type"), Some("order"));
    assert_eq!(attribute(own, "agent_parameters"), Some(r#""o-1","main""#));
    assert!(attribute(own, "agent_id").unwrap().ends_with(r#"/order("o-1","main")"#));
    assert!(!own.inherited && !root.inherited && root.parent.is_none() && root.attributes.is_empty());

    let init = local(&init_chains[0][0]);
    assert_eq!(attribute(init, "function_name"), Some("initialize"));
    assert_eq!(attribute(init, "invocation_kind"), Some("AgentInitialization"));
    assert!(attribute(init, "idempotency_key").unwrap().starts_with("init-"));

    // Spans the agent's code starts hang under the invocation's span.
    let own_id = own.span_id.clone();
    order.invoke("add_line", &[Value::string("apple"), Value::U32(1)]).unwrap();
    let connection = order.oplog().entries().iter().find_map(|e| match e {
        OplogEntry::StartSpan(p) if p.attributes.iter().any(|a| a.key == "target_agent_id") => Some(p.clone()),
        _ => None,
    });
    let add_line = started(order.oplog().entries()).pop().unwrap();
    let add_line_span = local(&add_line.2[0][0]).span_id.clone();
    assert_ne!(add_line_span, own_id);
    assert_eq!(connection.unwrap().parent.as_ref(), Some(&add_line_span));
}

#[test]
fn an_rpc_callee_continues_the_callers_trace_and_inherits_its_spans() {
    let (env, component) = warehouse();
    let mut order = env.create_agent(&component, "Order", &[Value::string("o-2"), Value::string("main")]).unwrap();
    order.invoke("add_line", &[Value::string("apple"), Value::U32(2)]).unwrap();
    let (_, caller_trace, caller_chains) = started(order.oplog().entries()).pop().unwrap();
    let caller_span = local(&caller_chains[0][0]).span_id.clone();
    let spans: Vec<_> = order
        .oplog()
        .entries()
        .iter()
        .filter_map(|e| match e {
            OplogEntry::StartSpan(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    let [connection, invocation] = spans.as_slice() else { panic!("{spans:?}") };
    // The invocation span links its connection's chain (Golem links it).
    assert_eq!(invocation.linked_context_id.as_ref(), Some(&connection.span_id));

    let inventory = env.agent_handle(r#"inventory("main")"#).unwrap();
    let callee = started(inventory.lock().oplog().entries());
    let [(init, init_trace, init_chains), (method, trace, chains)] = callee.as_slice() else { panic!("{callee:?}") };
    assert_eq!((init.as_str(), method.as_str()), ("initialize", "reserve"));
    assert_eq!((trace, init_trace), (&caller_trace, &caller_trace), "one trace across the call");

    // The call: own span, rpc-invocation, rpc-connection, the caller's span, its root.
    let main = &chains[0];
    assert_eq!(main.len(), 5, "{main:?}");
    assert_linked(main);
    let ids: Vec<&str> = main.iter().map(|s| local(s).span_id.as_str()).collect();
    assert_eq!(ids[1..4], [invocation.span_id.as_str(), connection.span_id.as_str(), caller_span.as_str()]);
    assert!(!local(&main[0]).inherited && main[1..].iter().all(|s| local(s).inherited), "{main:?}");
    assert_eq!(attribute(local(&main[1]), "function_name"), Some("reserve"));
    assert_eq!(local(&main[1]).linked_context, Some(2), "Golem numbers the first linked chain 2");
    // The linked chain: the connection (inherited) and its parents as they were.
    assert_eq!(chains.len(), 2);
    let linked: Vec<(&str, bool)> = chains[1].iter().map(|s| (local(s).span_id.as_str(), local(s).inherited)).collect();
    assert_eq!(linked[..2], [(connection.span_id.as_str(), true), (caller_span.as_str(), false)]);

    // The constructor the call ran: under the connection, no rpc-invocation.
    let init_main = &init_chains[0];
    assert_eq!(attribute(local(&init_main[0]), "invocation_kind"), Some("AgentInitialization"));
    assert_eq!(local(&init_main[1]).span_id, connection.span_id);
    assert_eq!(local(&init_main[2]).span_id, caller_span);
}

#[test]
fn replay_reads_the_context_back_from_the_oplog() {
    let (env, component) = warehouse();
    let mut order = env.create_agent(&component, "Order", &[Value::string("o-3"), Value::string("main")]).unwrap();
    order.invoke("add_line", &[Value::string("pear"), Value::U32(1)]).unwrap();
    let before = order.oplog().entries().to_vec();
    order.crash();
    // Recovery replays both invocations; the next one continues the oplog.
    order.invoke("lines", &[]).unwrap();
    let after = order.oplog().entries();
    assert_eq!(&after[..before.len()], before.as_slice(), "replay wrote nothing and changed nothing");
}
