//! Components built with the peer SDK run in the testkit: agents written
//! against the published golem-rust 2.1.0 crate (`tests/fixtures/golem-rust-counter`)
//! are discovered, created, invoked and crash-verified like Reprise agents,
//! and their HTTP calls go out and are journaled as on Golem; an
//! oplog-processor plugin written with it (`tests/fixtures/golem-rust-plugin`)
//! runs in the plugin host.
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_e2e::{build_example, build_fixture, build_fixture_with, oplog_shape, schema};
use std::collections::BTreeMap;

use reprise_example_counter::CounterCall;
use reprise_testkit::oplog::{OplogEntry, kind_name};
use reprise_testkit::recording::RecordingService;
use reprise_testkit::value::{Type, Value};
use reprise_testkit::verify::{CrashPlan, Scenario, verify};
use reprise_testkit::{Environment, kebab_case};

#[test]
fn a_golem_rust_agent_runs_and_recovers_in_the_testkit() {
    let env = Environment::new().unwrap();
    let component = env.load(build_fixture("golem-rust-counter")).unwrap();

    let types = component.agent_types().unwrap();
    assert_eq!(types.len(), 1);
    let t = &types[0];
    assert_eq!(t.type_name, "CounterAgent");
    assert_eq!(t.constructor.input_schema, schema(&[("name", Type::String)]));
    let methods: Vec<&str> = t.methods.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(methods, ["increment", "get"]);
    assert_eq!(t.methods[0].input_schema, schema(&[("by", Type::U64)]));
    assert_eq!(t.methods[0].output_schema, schema(&[("return_value", Type::U64)]));

    let mut agent = env.create_agent(&component, "CounterAgent", &[Value::string("visits")]).unwrap();
    assert_eq!(agent.id(), r#"counter-agent("visits")"#);
    assert_eq!(agent.invoke("increment", &[Value::U64(2)]).unwrap(), [Value::U64(2)]);
    assert_eq!(agent.invoke("increment", &[Value::U64(3)]).unwrap(), [Value::U64(5)]);
    agent.crash();
    assert_eq!(agent.invoke("get", &[]).unwrap(), [Value::U64(5)], "recovered by replay");
    assert_eq!(agent.recoveries(), 1);

    let scenario = Scenario::new("CounterAgent", [Value::string("c")])
        .call("increment", [Value::U64(1)])
        .call("increment", [Value::U64(10)])
        .call("get", []);
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    assert!(report.is_ok(), "{report}");

    // The same counter written with Reprise has the same interface.
    let reprise = env.load(build_example("counter")).unwrap();
    let ours = &reprise.agent_types().unwrap()[0];
    assert_eq!(ours.constructor.input_schema, t.constructor.input_schema);
    assert_eq!(ours.methods[0].input_schema, t.methods[0].input_schema);
    assert_eq!(ours.methods[0].output_schema, t.methods[0].output_schema);
}

/// Golem's behaviour (durable_host/http/outgoing_http.rs, http/types.rs,
/// io/streams.rs at v1.5.9): `handle` begins a committed remote-write batch
/// and an `outgoing-http-request` span, adds `traceparent` (naming that span)
/// and an `idempotency-key` header when the guest set none, and sends the
/// request with its body streaming, so wstd's body written after `handle`
/// arrives; the response, each body chunk and the trailers are host calls of
/// the batch; letting go of the response ends it.
#[test]
fn a_golem_rust_agent_posting_with_wstd_reaches_the_server_as_on_golem() {
    let service = RecordingService::start().unwrap();
    let authority = Value::string(service.addr().to_string());
    let env = Environment::builder().recording_service(&service).build().unwrap();
    let component = env.load(build_fixture_with("golem-rust-counter", "webhook")).unwrap();
    let names: Vec<String> = component.agent_types().unwrap().iter().map(|t| t.type_name.clone()).collect();
    assert_eq!(names, ["CounterAgent", "WebhookAgent"]);

    let mut agent = env.create_agent(&component, "WebhookAgent", &[Value::string("ops")]).unwrap();
    let started = std::time::Instant::now();
    let reply = agent.invoke("notify", &[authority.clone(), Value::string("deployed v2")]).unwrap();
    assert_eq!(reply, [Value::string("200 accepted 11 bytes")]);
    assert!(started.elapsed() < std::time::Duration::from_secs(4), "no stall waiting for the body");

    let requests = service.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!((requests[0].method.as_str(), requests[0].path.as_str()), ("POST", "/hooks/ops"));
    assert_eq!(requests[0].body, b"deployed v2");
    let key = requests[0].idempotency_key.clone().expect("Golem adds an idempotency key");
    assert_eq!(key.len(), 36, "a UUID: {key}");
    let headers = &service.headers()[0];
    let traceparent = headers.iter().find(|(k, _)| k == "traceparent").map(|(_, v)| v.clone()).unwrap();

    // The oplog holds the exchange as Golem writes it.
    let entries = agent.oplog().entries().to_vec();
    let shape = oplog_shape(&agent);
    let position =
        |name: &str| shape.iter().position(|s| s == name).unwrap_or_else(|| panic!("no {name} in {shape:?}"));
    let begin = position("begin-remote-write");
    assert_eq!(shape[begin + 1], "start-span", "{shape:?}");
    // wstd writes the body after `handle`: those writes are steps too.
    assert!(position("http::types::outgoing_body_stream::write") > begin);
    assert!(position("http::types::future_incoming_response::get") > begin);
    assert!(
        position("http::types::incoming_body_stream::read") > position("http::types::future_incoming_response::get")
    );
    assert_eq!(&shape[shape.len() - 2..], ["end-remote-write", "finish-span"], "{shape:?}");
    let span = entries
        .iter()
        .find_map(|e| match e {
            OplogEntry::StartSpan(p) => Some(p.span_id.clone()),
            _ => None,
        })
        .unwrap();
    assert!(
        traceparent.starts_with("00-") && traceparent.ends_with(&format!("-{span}-00")),
        "{traceparent} names span {span}"
    );

    // A crash anywhere in the exchange: recovery re-sends it with the same key
    // or replays it, and the agent's answers stay the same.
    service.reset();
    let scenario = Scenario::new("WebhookAgent", [Value::string("deploys")])
        .call("notify", [authority.clone(), Value::string("first")])
        .call("notify", [authority, Value::string("second")]);
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    assert!(report.is_ok(), "{report}");
    assert!(report.retried_effects > 0, "some crashes re-sent a request: {report}");
    let keys: Vec<_> = report.reference.http_requests.iter().map(|r| r.idempotency_key.clone()).collect();
    assert_eq!(keys.len(), 2);
    assert_ne!(keys[0], keys[1]);
}

/// A plugin built with golem-rust 2.1.0 is defined, installed and fed the
/// observed agent's oplog as a Reprise plugin is: the counts per entry kind
/// it keeps in its bucket are those of the agent's oplog.
#[test]
fn a_golem_rust_plugin_counts_the_entries_of_the_agent_it_observes() {
    let env = Environment::new().unwrap();
    let plugin = env.load(build_fixture("golem-rust-plugin")).unwrap();
    env.define_plugin("entry-counts", "1.0.0", "entry counts by kind", &plugin).unwrap();
    let counter = env.load(build_example("counter")).unwrap();
    let observed = env.install_plugin(&counter, "entry-counts", "1.0.0", [("bucket", "counts")]).unwrap();
    let mut agent = env.create(&observed, CounterCall::new("a".into())).unwrap();
    for n in 1..=5 {
        assert_eq!(agent.increment(1).unwrap(), n);
    }
    // Golem's flush timer: the last commits reach the plugin too.
    agent.agent.flush_plugins().unwrap();

    // The plugin names a kind by its bindings' case (`AgentInvocationStarted`),
    // the testkit as WIT spells it (`agent-invocation-started`). It is sent
    // every entry up to the last confirmed batch, the agent's own
    // checkpoints included (those written by the last flush come later).
    let entries = agent.agent.oplog().entries();
    let installed = observed.plugin("entry-counts").unwrap();
    let confirmed = agent.agent.plugin_checkpoint(installed).unwrap().confirmed_up_to as usize;
    let mut expected = BTreeMap::<String, u64>::new();
    for entry in &entries[..confirmed] {
        *expected.entry(kind_name(entry)).or_default() += 1;
    }
    assert!(expected.contains_key("oplog-processor-checkpoint"), "{expected:?}");
    let prefix = format!("{}/", agent.agent.id());
    let counted: BTreeMap<String, u64> = env.kv_contents()["counts"]
        .iter()
        .filter_map(|(key, n)| {
            Some((kebab_case(key.strip_prefix(&prefix)?), String::from_utf8_lossy(n).parse().unwrap()))
        })
        .collect();
    assert_eq!(counted, expected);
    assert_eq!(counted["agent-invocation-started"], 6, "the constructor and five increments");
}
