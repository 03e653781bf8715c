//! Promises (issue 17, a step): created by an agent, completed by a test
//! (as through Golem's API) or by another agent, awaited by their creator,
//! journaled as Golem journals them and replayed after crashes.
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_e2e::build_test_guest;
use reprise_testkit::bindings::golem::api::host::PromiseId;
use reprise_testkit::oplog::OplogEntry;
use reprise_testkit::value::Value;
use reprise_testkit::{Agent, CrashPoint, Environment, LoadedComponent};

fn setup() -> (Environment, LoadedComponent) {
    let env = Environment::new().unwrap();
    let probe = env.load(build_test_guest("probe")).unwrap();
    (env, probe)
}

/// The probe's promise at `index`, as a test names it.
fn promise_of(agent: &Agent, index: u64) -> PromiseId {
    match &agent.oplog().entries()[0] {
        OplogEntry::Create(p) => PromiseId { agent_id: p.agent_id.clone(), oplog_idx: index },
        other => panic!("{other:?}"),
    }
}

fn text(result: Vec<Value>) -> String {
    result[0].as_str().unwrap().to_string()
}

fn index(result: Vec<Value>) -> u64 {
    match result[0] {
        Value::U64(n) => n,
        ref other => panic!("{other:?}"),
    }
}

#[test]
fn a_promise_completed_by_the_test_is_seen_by_its_creator_and_replayed_after_a_crash() {
    let (env, probe) = setup();
    let mut agent = env.create_agent(&probe, "probe", &[Value::string("asker")]).unwrap();
    let created = index(agent.invoke("create-promise", &[]).unwrap());
    // The id is the index of the creation entry, a journaled write-local call.
    match &agent.oplog().entries()[created as usize - 1] {
        OplogEntry::HostCall(p) => assert_eq!(p.function_name, "golem::api::create_promise"),
        other => panic!("{other:?}"),
    }
    let promise = promise_of(&agent, created);
    assert!(env.complete_promise(&promise, b"approved").unwrap());
    assert!(!env.complete_promise(&promise, b"again").unwrap(), "a promise completes once");

    // Awaited, with a crash right after the read of its result (a buffered
    // read-remote entry, lost with the crash): recovery reads it again.
    let read_at = agent.oplog().len() + 3; // started, poll, get_promise_result
    agent.schedule_crashes([CrashPoint::AfterEntry(read_at)]);
    assert_eq!(text(agent.invoke("await-promise", &[Value::U64(created)]).unwrap()), "approved");
    assert_eq!(agent.crashes_fired().len(), 1);
    let functions: Vec<String> = agent
        .oplog()
        .entries()
        .iter()
        .filter_map(|e| match e {
            OplogEntry::HostCall(p) => Some(p.function_name.clone()),
            _ => None,
        })
        .collect();
    assert!(functions.contains(&"golem::api::get_promise_result".to_string()), "{functions:?}");

    let unknown = env.complete_promise(&promise_of(&agent, 9999), b"x").unwrap_err().to_string();
    assert!(unknown.contains("created no promise at oplog index 9999"), "{unknown}");
}

#[test]
fn another_agent_completes_a_promise_and_awaiting_a_pending_one_is_a_clear_error() {
    let (env, probe) = setup();
    let mut asker = env.create_agent(&probe, "probe", &[Value::string("asker")]).unwrap();
    let mut approver = env.create_agent(&probe, "probe", &[Value::string("approver")]).unwrap();
    let created = index(asker.invoke("create-promise", &[]).unwrap());

    // Nobody completed it yet: Golem would suspend the agent; the testkit says so.
    let e = asker.invoke("await-promise", &[Value::U64(created)]).unwrap_err().to_string();
    assert!(e.contains(&format!("awaits promise {created} of `{}`, which nobody has completed", asker.id())), "{e}");

    let mut asker = env.create_agent(&probe, "probe", &[Value::string("asker-2")]).unwrap();
    let created = index(asker.invoke("create-promise", &[]).unwrap());
    let done = approver
        .invoke("complete-promise", &[Value::string(asker.id()), Value::U64(created), Value::string("yes")])
        .unwrap();
    assert_eq!(text(done), "true");
    assert_eq!(text(asker.invoke("await-promise", &[Value::U64(created)]).unwrap()), "yes");
}
