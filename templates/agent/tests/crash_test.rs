//! The agent run in Reprise's in-process Golem host: crashed after every
//! oplog entry (and between each side effect and its entry), recovered by
//! replay each time, and compared with a crash-free run.

use {{crate_name}}::{Task, TaskListCall};
use reprise_testkit::Environment;
use reprise_testkit::guest::GuestBuild;
use reprise_testkit::verify::{CrashPlan, Scenario, verify};

#[test]
fn the_task_list_survives_a_crash_at_every_oplog_index() {
    // Builds this crate for wasm32-wasip2, as `reprise build` does (release profile, a cdylib only).
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
    // Typed calls: the agent's own Rust types in and out. The outer `Result`
    // is the host's (a trap, a timeout), the inner one the method's own.
    let mut list = env.create(&component, TaskListCall::new("bob".to_string())).expect("created");
    assert_eq!(list.add("  ".to_string()).expect("invoked"), Err("a task needs a title".to_string()));
    assert_eq!(list.add("buy milk".to_string()).expect("invoked"), Ok(1));
    let milk = Task { id: 1, title: "buy milk".to_string(), done: false };
    assert_eq!(list.pending().expect("invoked"), [milk]);
}

#[test]
fn completed_tasks_stay_completed_through_crashes() {
    let wasm = GuestBuild::new(env!("CARGO_MANIFEST_DIR")).build().expect("the component builds");
    let env = Environment::new().expect("the testkit host starts");
    let component = env.load(&wasm).expect("Golem 1.5 provides every import");
    // A scenario of typed calls, with the results the crash-free run must give.
    let scenario = Scenario::of(TaskListCall::new("ann".to_string()))
        .expect(TaskListCall::add("write report".to_string()), Ok(1))
        .expect(TaskListCall::add("send report".to_string()), Ok(2))
        .then(TaskListCall::complete(1))
        .expect(TaskListCall::pending(), vec![Task { id: 2, title: "send report".to_string(), done: false }]);
    let report = verify(&env, &component, &scenario, &CrashPlan::distinct_outcomes()).expect("the crash-free run works");
    assert!(report.is_ok(), "{report}");
}
