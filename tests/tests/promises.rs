//! Promises (issue 17, a step): created by an agent, completed by a test
//! (as through Golem's API) or by another agent, awaited by their creator,
//! journaled as Golem journals them and replayed after crashes.
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_e2e::build_test_guest;
use reprise_testkit::bindings::golem::api::host::AgentStatus;
use reprise_testkit::bindings::golem::api::host::PromiseId;
use reprise_testkit::oplog::OplogEntry;
use reprise_testkit::value::Value;
use reprise_testkit::{Agent, CrashPoint, Environment, Error, LoadedComponent};

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
fn another_agent_completes_a_promise_its_creator_awaits() {
    let (env, probe) = setup();
    let mut asker = env.create_agent(&probe, "probe", &[Value::string("asker")]).unwrap();
    let mut approver = env.create_agent(&probe, "probe", &[Value::string("approver")]).unwrap();
    let created = index(asker.invoke("create-promise", &[]).unwrap());
    let done = approver
        .invoke("complete-promise", &[Value::string(asker.id()), Value::U64(created), Value::string("yes")])
        .unwrap();
    assert_eq!(text(done), "true");
    assert_eq!(text(asker.invoke("await-promise", &[Value::U64(created)]).unwrap()), "yes");
}

/// Golem suspends an agent awaiting a promise nobody has completed: a
/// committed `suspend` entry, no poll entry, the instance unloaded
/// (golem-worker-executor/src/durable_host/io/poll.rs). Completing the
/// promise resumes it: the poll runs again, live.
#[test]
fn awaiting_a_pending_promise_suspends_the_agent_until_it_is_completed() {
    let (env, probe) = setup();
    let mut asker = env.create_agent(&probe, "probe", &[Value::string("asker")]).unwrap();
    let created = index(asker.invoke("create-promise", &[]).unwrap());
    let before = asker.oplog().len();
    let e = asker.invoke("await-promise", &[Value::U64(created)]).unwrap_err();
    let Error::Suspended { waiting_for, .. } = &e else { panic!("{e}") };
    assert_eq!(*waiting_for, format!("promise {created} of `{}`", asker.id()));
    assert!(asker.is_suspended());
    let tail: Vec<&OplogEntry> = asker.oplog().entries()[before as usize..].iter().collect();
    assert!(matches!(tail.last(), Some(OplogEntry::Suspend(_))), "{tail:?}");
    assert!(
        !tail.iter().any(|e| matches!(e, OplogEntry::HostCall(p) if p.function_name == "io::poll::poll")),
        "a suspended poll leaves no entry: {tail:?}"
    );
    assert_eq!(env.agents().iter().find(|a| a.name == asker.id()).unwrap().status, AgentStatus::Suspended);

    // Calls wait behind the suspended invocation; resuming early changes
    // nothing (the agent is not even replayed).
    let suspend_at = asker.oplog().len();
    assert!(matches!(asker.invoke("count", &[]), Err(Error::Suspended { .. })));
    assert!(matches!(asker.resume(), Err(Error::Suspended { .. })));
    assert_eq!((asker.oplog().len(), asker.recoveries()), (suspend_at, 0));

    // A crash while it waits (right after the suspend entry) loses nothing.
    let promise = promise_of(&asker, created);
    assert!(env.complete_promise(&promise, b"approved").unwrap());
    asker.schedule_crashes([CrashPoint::AfterEntry(suspend_at + 2)]);
    assert_eq!(asker.resume().unwrap().map(text).as_deref(), Some("approved"));
    assert!(!asker.is_suspended());
    assert_eq!(asker.crashes_fired().len(), 1, "the crash fired in the resumed invocation");
    assert_eq!(asker.invoke("count", &[]).unwrap(), [Value::U64(1)]);
    assert_eq!(asker.resume().unwrap(), None, "nothing left to resume");
}

/// An agent the environment owns resumes as soon as its promise is
/// completed, by the test or by another agent.
#[test]
fn an_environment_owned_agent_resumes_when_its_promise_is_completed() {
    let (env, probe) = setup();
    let asker = env.connect_agent(&probe, "probe", &[Value::string("asker")]).unwrap();
    let created = index(asker.lock().invoke("create-promise", &[]).unwrap());
    assert!(matches!(asker.lock().invoke("await-promise", &[Value::U64(created)]), Err(Error::Suspended { .. })));
    let mut approver = env.create_agent(&probe, "probe", &[Value::string("approver")]).unwrap();
    let id = asker.id().to_string();
    approver.invoke("complete-promise", &[Value::string(&id), Value::U64(created), Value::string("yes")]).unwrap();
    assert!(!asker.lock().is_suspended(), "resumed when the approver completed the promise");
    assert_eq!(env.agents().iter().find(|a| a.name == id).unwrap().status, AgentStatus::Idle);
}
