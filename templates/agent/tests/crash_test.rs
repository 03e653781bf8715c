//! The agent run in Reprise's in-process Golem host: crashed after every
//! oplog entry (and between each side effect and its entry), recovered by
//! replay each time, and compared with a crash-free run.

use reprise_testkit::Environment;
use reprise_testkit::guest::GuestBuild;
use reprise_testkit::value::Value;
use reprise_testkit::verify::{CrashPlan, Scenario, verify};

#[test]
fn the_task_list_survives_a_crash_at_every_oplog_index() {
    // Builds this crate for wasm32-wasip2, as `cargo build --target wasm32-wasip2 --release` does.
    let wasm = GuestBuild::new(env!("CARGO_MANIFEST_DIR")).build().expect("the component builds");
    let env = Environment::new().expect("the testkit host starts");
    let component = env.load(&wasm).expect("Golem 1.5 provides every import");

    // The script `reprise crash-test` runs, read the same way.
    let script = include_str!("../crash-test.script");
    let scenario = Scenario::from_script(&component, script).expect("the script names the agent's methods");
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).expect("the crash-free run works");
    println!("{report}");
    assert!(report.is_ok(), "{report}");
    assert!(report.runs > 10, "every oplog index is a crash point: {report}");
}

#[test]
fn adding_an_empty_task_is_refused() {
    let wasm = GuestBuild::new(env!("CARGO_MANIFEST_DIR")).build().expect("the component builds");
    let env = Environment::new().expect("the testkit host starts");
    let component = env.load(&wasm).expect("Golem 1.5 provides every import");
    let mut list = env.create_agent(&component, "TaskList", &[Value::string("bob")]).expect("created");
    // A method returning `Result` answers with a result value; the error is the agent's, not the host's.
    let answer = list.invoke("add", &[Value::string("  ")]).expect("invoked");
    assert_eq!(answer, [Value::result(Err(Value::string("a task needs a title")))]);
    assert!(list.invoke("pending", &[]).expect("invoked") == [Value::List(Vec::new())]);
}
