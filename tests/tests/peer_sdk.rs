//! Components built with the peer SDK run in the testkit: a counter written
//! against the published golem-rust 2.1.0 crate (`tests/fixtures/golem-rust-counter`)
//! is discovered, created, invoked and crash-verified like a Reprise agent.
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_e2e::{build_example, build_fixture, schema};
use reprise_testkit::Environment;
use reprise_testkit::value::{Type, Value};
use reprise_testkit::verify::{CrashPlan, Scenario, verify};

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
