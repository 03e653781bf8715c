//! The counter example: the agent macro's discovery, invocation and errors,
//! under crash verification.
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_e2e::build_example;
use reprise_testkit::Environment;
use reprise_testkit::value::Value;
use reprise_testkit::verify::{CrashPlan, Scenario, verify};

#[test]
fn counter_counts_and_survives_crashes() {
    let env = Environment::new().unwrap();
    let component = env.load(build_example("counter")).unwrap();
    let mut agent = env.create_agent(&component, "Counter", &[Value::string("visits")]).unwrap();
    assert_eq!(agent.invoke("increment", &[Value::U64(2)]).unwrap(), [Value::U64(2)]);
    assert_eq!(agent.invoke("increment", &[Value::U64(3)]).unwrap(), [Value::U64(5)]);
    assert_eq!(agent.invoke("get", &[]).unwrap(), [Value::U64(5)]);
    assert_eq!(agent.invoke("name", &[]).unwrap(), [Value::string("visits")]);

    let err = agent.invoke("decrement", &[]).unwrap_err().to_string();
    assert!(err.contains("has no method `decrement`") && err.contains("increment, get, name"), "{err}");
    let err = agent.invoke("increment", &[Value::string("two")]).unwrap_err().to_string();
    assert!(err.contains("method `increment`, argument `by`"), "{err}");

    let scenario = Scenario::new("Counter", [Value::string("c")])
        .call("increment", [Value::U64(1)])
        .call("increment", [Value::U64(10)])
        .call("get", []);
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    assert!(report.is_ok(), "{report}");
}
