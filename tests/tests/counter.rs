//! The counter example: the agent macro's discovery, invocation and errors,
//! under crash verification.
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise::rpc::{arg, input};
use reprise::testing::AgentConnection;
use reprise_e2e::{build_example, schema};
use reprise_example_counter::CounterCall;
use reprise_example_shopping_cart::ShoppingCartCall;
use reprise_testkit::Environment;
use reprise_testkit::bindings::golem::core::types::DataSchema;
use reprise_testkit::guest::component_build_command;
use reprise_testkit::oplog::OplogEntry;
use reprise_testkit::value::Type;
use reprise_testkit::verify::{CrashPlan, Scenario, verify};

#[test]
fn discovery_describes_the_counter() {
    let env = Environment::new().unwrap();
    let component = env.load(build_example("counter")).unwrap();
    let types = component.agent_types().unwrap();
    assert_eq!(types.len(), 1);
    let t = &types[0];
    assert_eq!(t.type_name, "Counter");
    assert_eq!(t.description, "Counts up; one agent per counter name.");
    assert_eq!(t.source_language, "rust");
    assert_eq!(t.constructor.description, "A counter called `name`, starting at zero.");
    assert_eq!(t.constructor.input_schema, schema(&[("name", Type::String)]));
    let methods: Vec<(&str, &str)> = t.methods.iter().map(|m| (m.name.as_str(), m.description.as_str())).collect();
    assert_eq!(
        methods,
        [
            ("increment", "Add `by` and return the new value."),
            ("get", "The current value."),
            ("name", "The counter's name.")
        ]
    );
    assert_eq!(t.methods[0].input_schema, schema(&[("by", Type::U64)]));
    assert_eq!(t.methods[0].output_schema, schema(&[("return_value", Type::U64)]));
    assert_eq!(t.methods[1].input_schema, schema(&[]));

    // The invocation entries carry the schemas, as Golem records them.
    let mut counter = env.create(&component, CounterCall::new("x".into())).unwrap();
    counter.increment(1).unwrap();
    let inputs: Vec<&DataSchema> = counter
        .agent
        .oplog()
        .entries()
        .iter()
        .filter_map(|e| match e {
            OplogEntry::AgentInvocationStarted(p) => Some(match &p.invocation {
                reprise_testkit::bindings::golem::api::oplog::AgentInvocation::AgentInitialization(i) => {
                    &i.constructor_parameters.schema
                }
                reprise_testkit::bindings::golem::api::oplog::AgentInvocation::AgentMethodInvocation(m) => {
                    &m.function_input.schema
                }
                other => panic!("{other:?}"),
            }),
            _ => None,
        })
        .collect();
    assert_eq!(inputs, [&schema(&[("name", Type::String)]), &schema(&[("by", Type::U64)])]);

    let e = env.create_agent(&component, "Countr", &[]).unwrap_err().to_string();
    assert_eq!(e, "the component has no agent type `Countr`; it defines: Counter");
}

#[test]
fn counter_counts_and_survives_crashes() {
    let env = Environment::new().unwrap();
    let component = env.load(build_example("counter")).unwrap();
    let mut counter = env.create(&component, CounterCall::new("visits".into())).unwrap();
    // Golem's agent id: the type in kebab-case, the arguments in WAVE.
    assert_eq!(counter.agent.id(), r#"counter("visits")"#);
    assert_eq!(counter.increment(2).unwrap(), 2);
    assert_eq!(counter.increment(3).unwrap(), 5);
    assert_eq!(counter.get().unwrap(), 5);
    assert_eq!(counter.name().unwrap(), "visits");

    // Calls the typed handle cannot make: an unknown method, a wrong argument.
    let err = counter.agent.call_data("decrement", input(Vec::new())).unwrap_err().to_string();
    assert!(err.contains("has no method `decrement`") && err.contains("increment, get, name"), "{err}");
    let err = counter.agent.call_data("increment", input(vec![arg("two")])).unwrap_err().to_string();
    assert!(err.contains("method `increment`, argument `by`"), "{err}");

    let scenario = Scenario::of(CounterCall::new("c".into()))
        .then(CounterCall::increment(1))
        .then(CounterCall::increment(10))
        .expect(CounterCall::get(), 11);
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    assert!(report.is_ok(), "{report}");
}

/// The script `reprise crash-test` reads is a scenario in tests too, with
/// the results it states checked against the crash-free run.
#[test]
fn a_crash_test_script_is_a_scenario_with_its_stated_results() {
    let env = Environment::new().unwrap();
    let component = env.load(build_example("counter")).unwrap();
    let script = "# a counter\nCounter(\"visits\")\nincrement(2) -> 2\nincrement(3) -> 5\nget()\n";
    let scenario = Scenario::from_script(&component, script).unwrap();
    assert_eq!(scenario.agent_type, "Counter");
    assert_eq!(scenario.calls.len(), 3);
    let report = verify(&env, &component, &scenario, &CrashPlan::distinct_outcomes()).unwrap();
    assert!(report.is_ok() && report.unmet.is_empty(), "{report}");

    // A result the crash-free run does not give fails the report, naming the line.
    let wrong = Scenario::from_script(&component, "Counter(\"v\")\nincrement(2) -> 2\nincrement(3) -> 6\n").unwrap();
    let report = verify(&env, &component, &wrong, &CrashPlan::distinct_outcomes()).unwrap();
    assert!(!report.is_ok() && report.failures.is_empty(), "{report}");
    assert_eq!(report.unmet.len(), 1);
    assert_eq!(report.unmet[0].to_string(), "line 3: increment(3) returned 5, the script expects 6");

    // Bad scripts are refused with their line.
    let e = Scenario::from_script(&component, "Counter(\"v\")\nincrement(-1)\n").unwrap_err().to_string();
    assert!(e.contains("script line 2: bad arguments for `increment`"), "{e}");
    let e = Scenario::from_script(&component, "Counter(\"v\")\nincrement(1) -> one\n").unwrap_err().to_string();
    assert!(e.contains("script line 2: the expected result `one` is not a u64"), "{e}");
}

/// A result a typed scenario states is checked against the crash-free run;
/// one it does not give fails the report, naming the call in WAVE.
#[test]
fn a_typed_scenario_states_results_in_the_agents_own_types() {
    let env = Environment::new().unwrap();
    let component = env.load(build_example("counter")).unwrap();
    let wrong = Scenario::of(CounterCall::new("v".into()))
        .expect(CounterCall::increment(2), 2)
        .expect(CounterCall::name(), "w".to_string());
    let report = verify(&env, &component, &wrong, &CrashPlan::distinct_outcomes()).unwrap();
    assert!(!report.is_ok() && report.failures.is_empty(), "{report}");
    let unmet: Vec<String> = report.unmet.iter().map(ToString::to_string).collect();
    assert_eq!(unmet, [r#"call 2: name() returned "v", the test expects "w""#]);

    // A call of another agent type's method is refused before anything runs.
    let mixed = Scenario::of(CounterCall::new("v".into())).then(ShoppingCartCall::checkout());
    let e = verify(&env, &component, &mixed, &CrashPlan::distinct_outcomes()).unwrap_err().to_string();
    assert!(e.contains("`ShoppingCart.checkout` is called while the calls go to a `Counter` agent"), "{e}");
}

/// The examples are `rlib`s too (their tests use their types); cargo would
/// build such a library without link-time optimisation, so components are
/// built as a `cdylib` only, and stay as small as before.
#[test]
fn a_component_crate_that_is_also_an_rlib_is_built_as_a_cdylib_only() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let counter = component_build_command(&examples.join("counter/Cargo.toml")).unwrap();
    assert_eq!(counter, ["rustc", "--lib", "--crate-type", "cdylib"]);
    let command = component_build_command(&examples.join("smoke/Cargo.toml")).unwrap();
    assert_eq!(command, ["build"], "a command component has no library");
}
