//! The OTLP exporter plugin (`examples/otlp-exporter`) on the traced
//! workflow (`examples/traced-workflow`) and the warehouse (RPC), checked at
//! the testkit's loopback collector: the span tree span by span, and every
//! span delivered through crashes of the agent and of the plugin.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;

use reprise_e2e::{build_example, flush_until_sent};
use reprise_example_oplog_auditor::AuditorCall;
use reprise_example_traced_workflow::{FulfilmentCall, Trace};
use reprise_example_warehouse::OrderCall;
use reprise_testkit::collector::{CollectedSpan, OtlpCollector};
use reprise_testkit::plugins::worker_id;
use reprise_testkit::{Agent, CrashPoint, Environment, LoadedComponent};

/// The traced workflow with the exporter installed, sending traces and
/// logs to `collector`.
fn traced(collector: &OtlpCollector) -> (Environment, LoadedComponent) {
    observed("traced-workflow", collector, &[])
}

fn observed(example: &str, collector: &OtlpCollector, kv: &[(&str, &str, &str)]) -> (Environment, LoadedComponent) {
    let mut builder = Environment::builder();
    for &(bucket, key, value) in kv {
        builder = builder.kv_entry(bucket, key, value);
    }
    let env = builder.build().unwrap();
    let component = env.load(build_example(example)).unwrap();
    let exporter = env.load(build_example("otlp-exporter")).unwrap();
    env.define_plugin("otlp", "1.0.0", "OTLP exporter", &exporter).unwrap();
    let config = [("endpoint", collector.url()), ("signals", "traces,logs".to_string())];
    let observed = env.install_plugin(&component, "otlp", "1.0.0", config).unwrap();
    (env, observed)
}

/// Golem's flush timer, until the agent has sent the exporter everything.
fn flush_all(agent: &mut Agent) {
    let plugin = agent.active_plugins().into_iter().find(|p| p.plugin_name == "otlp").expect("the exporter is active");
    flush_until_sent(agent, &plugin);
}

/// Run the workflow for one order of two items; its trace as the agent saw it.
fn fulfil(env: &Environment, component: &LoadedComponent) -> (Agent, Trace) {
    let mut workflow = env.create(component, FulfilmentCall::new("o-1".into())).unwrap();
    let trace = workflow.fulfil(vec!["apple".into(), "pear".into()]).unwrap();
    let mut agent = workflow.agent;
    flush_all(&mut agent);
    // The plugin worker runs what it was sent.
    env.flush_plugins().unwrap();
    (agent, trace)
}

fn by_id(spans: &[CollectedSpan]) -> BTreeMap<String, CollectedSpan> {
    spans.iter().map(|s| (s.span_id.clone(), s.clone())).collect()
}

#[test]
fn the_traced_workflow_exports_its_span_tree() {
    let collector = OtlpCollector::start().unwrap();
    let (env, component) = traced(&collector);
    let (agent, trace) = fulfil(&env, &component);
    let spans = collector.spans();
    let spans_by_id = by_id(&spans);
    assert_eq!(spans_by_id.len(), spans.len(), "each span once: {spans:#?}");

    // The steps the agent saw are the spans the collector got, id for id.
    let step = |name: &str| trace.steps.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("{name}"));
    let span =
        |name: &str| spans_by_id.get(&step(name).span_id).unwrap_or_else(|| panic!("no span for {name}: {spans:#?}"));
    let order = span("fulfil-order");
    assert_eq!(order.name, "fulfil-order");
    assert_eq!(order.trace_id, trace.trace_id);
    assert_eq!(order.attributes["order-id"], "o-1");
    assert_eq!((order.attributes["run"].as_str(), order.attributes["items"].as_str()), ("1", "2"));
    assert_eq!(order.kind, 1);
    // Its parent is the invocation's span, named as Golem names it, under
    // the root span of the fresh context an API call gets (no name: `unknown`).
    let invocation = &spans_by_id[order.parent_span_id.as_ref().unwrap()];
    assert_eq!(Some(&invocation.span_id), step("fulfil-order").parent_id.as_ref());
    assert_eq!((invocation.name.as_str(), invocation.kind), ("invoke-exported-function", 2));
    assert_eq!(invocation.attributes["function_name"], "fulfil");
    assert_eq!(invocation.trace_id, trace.trace_id);
    let root = &spans_by_id[invocation.parent_span_id.as_ref().unwrap()];
    assert_eq!((root.name.as_str(), root.parent_span_id.as_ref(), &root.trace_id), ("unknown", None, &trace.trace_id));

    let reserve = span("reserve");
    assert_eq!((reserve.name.as_str(), reserve.parent_span_id.as_ref()), ("reserve", Some(&order.span_id)));
    for item in ["apple", "pear"] {
        let reserve_item = span(&format!("reserve-item {item}"));
        assert_eq!(reserve_item.name, "reserve-item");
        assert_eq!(reserve_item.parent_span_id.as_ref(), Some(&reserve.span_id));
        assert_eq!(reserve_item.attributes["sku"], item);
        assert!(reserve.start_unix_nano <= reserve_item.start_unix_nano);
        assert!(reserve_item.end_unix_nano <= reserve.end_unix_nano);
    }
    let ship = span("ship");
    assert_eq!(ship.parent_span_id.as_ref(), Some(&order.span_id));
    assert!(reserve.end_unix_nano <= ship.start_unix_nano, "shipping starts after the reservation ends");
    assert!(order.start_unix_nano <= order.end_unix_nano && invocation.end_unix_nano >= order.end_unix_nano);
    // The traceparent the agent would send names the shipping span.
    assert_eq!(trace.traceparent, format!("00-{}-{}-00", trace.trace_id, ship.span_id));

    // Two invocations (the constructor and `fulfil`), seven spans in the
    // workflow's trace, nothing in error; all named by the same resource.
    let invocations: Vec<&CollectedSpan> = spans.iter().filter(|s| s.name == "invoke-exported-function").collect();
    assert_eq!(invocations.len(), 2);
    assert_eq!(spans.iter().filter(|s| s.trace_id == trace.trace_id).count(), 7);
    assert_eq!(spans.len(), 9);
    assert!(spans.iter().all(|s| s.error.is_none()));
    let component_uuid = invocation.resource["golem.component.id"].clone();
    assert_eq!(component_uuid.len(), 36);
    let agent_key = format!("{component_uuid}/{}", agent.id());
    for s in &spans {
        assert_eq!(s.resource["service.name"], agent_key);
        assert_eq!(s.resource["golem.agent.id"], agent_key);
        assert_eq!(s.resource["golem.component.version"], component.revision().to_string());
    }
}

/// A span as a path of names from its root (ids differ between runs).
fn paths(spans: &[CollectedSpan]) -> BTreeMap<String, usize> {
    let ids = by_id(spans);
    let mut counts = BTreeMap::new();
    for span in ids.values() {
        let mut path = vec![format!("{}{:?}", span.name, span.attributes.get("sku"))];
        let mut at = span;
        while let Some(parent) = at.parent_span_id.as_ref().and_then(|p| ids.get(p)) {
            path.push(parent.name.clone());
            at = parent;
        }
        path.reverse();
        *counts.entry(path.join(" / ")).or_default() += 1;
    }
    counts
}

/// Repeats at the collector are whole exports sent again: every export
/// carries a key, and exports under one key carry the same body.
fn assert_repeats_are_the_same_export(collector: &OtlpCollector, run: &str) {
    let mut bodies: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for request in collector.requests() {
        let key = request.idempotency_key.unwrap_or_else(|| panic!("{run}: an export without a key"));
        if let Some(first) = bodies.insert(key.clone(), request.body.clone()) {
            assert!(first == request.body, "{run}: two different exports under key {key}");
        }
    }
    // And a span is never in two different exports.
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for span in collector.spans() {
        let key = span.export_key.clone().unwrap_or_default();
        if let Some(first) = seen.insert(span.span_id.clone(), key.clone()) {
            assert_eq!(first, key, "{run}: span {} came in two different exports", span.span_id);
        }
    }
}

#[test]
fn every_span_reaches_the_collector_through_crashes_of_the_agent_and_of_the_plugin() {
    let collector = OtlpCollector::start().unwrap();
    let (env, component) = traced(&collector);
    let reference = env.fresh();
    let (agent, _) = fulfil(&reference, &component);
    let expected = paths(&collector.spans());
    assert_eq!(expected.values().sum::<usize>(), 9, "{expected:#?}");
    let agent_entries = agent.oplog().len();
    let worker = worker_id(component.plugin("otlp").unwrap(), 0);
    let worker_entries = reference.agent_handle(&worker).unwrap().lock().oplog().len();
    let (mut runs, mut repeats) = (0, 0);
    let points = (1..=agent_entries)
        .flat_map(|i| {
            [
                (agent.id().to_string(), CrashPoint::AfterEntry(i)),
                (agent.id().to_string(), CrashPoint::BeforePersist(i)),
            ]
        })
        .chain((1..=worker_entries).flat_map(|i| {
            [(worker.clone(), CrashPoint::AfterEntry(i)), (worker.clone(), CrashPoint::BeforePersist(i))]
        }));
    for (target, point) in points {
        collector.reset();
        let env = env.fresh();
        env.schedule_crashes(&target, [point]);
        let (agent, _) = fulfil(&env, &component);
        let fired =
            agent.crashes_fired().len() + env.agent_handle(&worker).map_or(0, |h| h.lock().crashes_fired().len());
        if fired == 0 {
            continue;
        }
        runs += 1;
        let run = format!("crash of `{target}` {point}");
        let spans = collector.spans();
        assert_eq!(paths(&spans), expected, "{run}");
        assert_repeats_are_the_same_export(&collector, &run);
        repeats += spans.len() - by_id(&spans).len();
    }
    println!(
        "{runs} crashed runs ({agent_entries} agent entries, {worker_entries} plugin worker entries); {repeats} spans exported again"
    );
    assert!(runs > agent_entries as usize, "crashes in the agent and in the plugin: {runs}");
}

#[test]
fn an_rpc_call_hangs_under_the_callers_rpc_span() {
    let collector = OtlpCollector::start().unwrap();
    let (env, component) = observed("warehouse", &collector, &[("stock-levels", "main", r#"{"apple":5}"#)]);
    let mut order = env.create(&component, OrderCall::new("o-1".into(), "main".into())).unwrap();
    assert_eq!(order.add_line("apple".into(), 2).unwrap(), Ok(3));
    flush_all(&mut order.agent);
    let inventory = env.agent_handle(r#"inventory("main")"#).unwrap();
    flush_all(&mut inventory.lock());
    env.flush_plugins().unwrap();

    let spans = collector.spans();
    let ids = by_id(&spans);
    let rpc = spans
        .iter()
        .find(|s| s.name == "rpc-invocation" && s.resource["golem.agent.id"].ends_with(order.agent.id()))
        .unwrap_or_else(|| panic!("{spans:#?}"));
    assert_eq!(rpc.kind, 3);
    let reserve = spans
        .iter()
        .find(|s| {
            s.name == "invoke-exported-function"
                && s.attributes.get("function_name").map(String::as_str) == Some("reserve")
        })
        .unwrap_or_else(|| panic!("{spans:#?}"));
    assert_eq!(reserve.parent_span_id.as_ref(), Some(&rpc.span_id), "the callee's span is under the caller's call");
    assert_eq!(reserve.trace_id, rpc.trace_id);
    assert!(reserve.resource["golem.agent.id"].ends_with(r#"inventory("main")"#));
    // The caller's span chain: the RPC span under the connection, under `add_line`'s invocation.
    let connection = &ids[rpc.parent_span_id.as_ref().unwrap()];
    assert_eq!(connection.name, "rpc-connection");
}

#[test]
fn log_entries_are_exported_as_log_records_in_their_invocations_trace() {
    let collector = OtlpCollector::start().unwrap();
    let (env, component) = observed("oplog-auditor", &collector, &[]);
    let mut auditor = env.create(&component, AuditorCall::new("a".into())).unwrap();
    assert_eq!(auditor.note("first".into()).unwrap(), Ok(1));
    flush_all(&mut auditor.agent);
    env.flush_plugins().unwrap();

    let logs = collector.logs();
    assert_eq!(logs.len(), 1, "{logs:#?}");
    let log = &logs[0];
    assert_eq!(log.body, "note 1: first");
    assert_eq!((log.severity_number, log.severity_text.as_str()), (9, "INFO"));
    assert_eq!(log.attributes["log.context"], "auditor");
    // In the trace of the `note` invocation that wrote it.
    let note = collector
        .spans()
        .into_iter()
        .find(|s| s.attributes.get("function_name").map(String::as_str) == Some("note"))
        .unwrap();
    assert_eq!(log.trace_id.as_ref(), Some(&note.trace_id));
    assert!(note.start_unix_nano <= log.time_unix_nano && log.time_unix_nano <= note.end_unix_nano);
    assert!(log.resource["golem.agent.id"].ends_with(auditor.agent.id()));
}
