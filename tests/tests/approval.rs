//! The approval example (issue 17): an agent waits on a promise for an
//! approver's decision, suspended as on Golem, with a timeout by sleeping;
//! crash verification covers crashes while it waits.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use reprise_e2e::build_example;
use reprise_example_approval::{ApprovalCall, ApproverCall, Request};
use reprise_testkit::bindings::golem::api::host::AgentStatus;
use reprise_testkit::oplog::OplogEntry;
use reprise_testkit::verify::{CallError, CrashPlan, Scenario, verify};
use reprise_testkit::{CrashPoint, Environment, Error, LoadedComponent};

fn approval() -> (Environment, LoadedComponent) {
    let env = Environment::new().unwrap();
    let component = env.load(build_example("approval")).unwrap();
    (env, component)
}

fn laptop(amount: u64) -> Request {
    Request { purchase: "laptop".into(), amount }
}

/// Approval of a laptop by alice, who approves it two hours later.
fn approved_by_alice() -> Scenario {
    Scenario::of(ApprovalCall::new("laptop".into()))
        .then(ApprovalCall::request("alice".into(), 1200, 2))
        .with(ApproverCall::new("alice".into()))
        .expect(ApproverCall::pending(), vec![laptop(1200)])
        .expect(ApproverCall::decide("laptop".into(), true), Ok(()))
        .expect(ApproverCall::pending(), vec![])
        .with(ApprovalCall::new("laptop".into()))
        .expect(ApprovalCall::status(), "approved".to_string())
}

#[test]
fn an_approval_waits_suspended_until_the_approver_decides() {
    let (env, component) = approval();
    let mut approval = env.create(&component, ApprovalCall::new("laptop".into())).unwrap();
    let e = approval.request("alice".into(), 1200, 2).unwrap_err();
    let Error::Suspended { waiting_for, .. } = &e else { panic!("{e}") };
    // The promise, or the two days of its timeout.
    assert!(waiting_for.starts_with("promise ") && waiting_for.ends_with(" or 172800 s to pass"), "{waiting_for}");
    assert!(matches!(approval.agent.oplog().entries().last(), Some(OplogEntry::Suspend(_))));
    let id = approval.agent.id().to_string();
    assert_eq!(env.agents().iter().find(|a| a.name == id).unwrap().status, AgentStatus::Suspended);

    // The approver got the request while the approval waited; it decides.
    let mut alice = env.connect(&component, ApproverCall::new("alice".into())).unwrap();
    assert_eq!(alice.pending().unwrap(), vec![laptop(1200)]);
    assert_eq!(alice.decide("laptop".into(), false).unwrap(), Ok(()));

    // The suspended call completes on resumption, with the decision.
    let outputs = approval.agent.resume().unwrap().expect("it was suspended");
    assert_eq!(format!("{outputs:?}"), r#"[Result(Ok(Some(String("rejected"))))]"#);
    assert_eq!(approval.status().unwrap(), "rejected");
    assert!(approval.request("alice".into(), 1200, 2).unwrap().unwrap_err().contains("requested already"));
}

#[test]
fn an_approval_nobody_decides_times_out_when_its_days_have_passed() {
    let (env, component) = approval();
    let mut approval = env.create(&component, ApprovalCall::new("desk".into())).unwrap();
    assert!(matches!(approval.request("bob".into(), 300, 1), Err(Error::Suspended { .. })));
    // A crash while it waits: the agent recovers when it resumes.
    let waiting_at = approval.agent.oplog().len();
    approval.agent.schedule_crashes([CrashPoint::AfterEntry(waiting_at + 1)]);

    // Half a day: still waiting.
    env.advance_time(Duration::from_secs(12 * 3600));
    assert!(matches!(approval.agent.resume(), Err(Error::Suspended { .. })));
    assert_eq!(approval.agent.oplog().len(), waiting_at, "an early resume writes nothing");

    // A day and a half: the timeout has passed.
    env.advance_time(Duration::from_secs(24 * 3600));
    assert_eq!(approval.status().unwrap(), "timed out");
    assert_eq!(approval.agent.crashes_fired().len(), 1);
    // Its clock saw the day go by: the entries after the wait are stamped a day later.
    let stamp = |e: &OplogEntry| reprise_testkit::oplog::timestamp(e).seconds;
    let entries = approval.agent.oplog().entries();
    let waited = stamp(entries.last().unwrap()) - stamp(&entries[waiting_at as usize - 1]);
    // It woke at its deadline, a day after it began to wait, not when the test looked.
    assert!((24 * 3600..25 * 3600).contains(&waited), "{waited} s");
}

#[test]
fn the_approval_workflow_recovers_from_every_crash_waiting_included() {
    let (env, component) = approval();
    let report = verify(&env, &component, &approved_by_alice(), &CrashPlan::every_entry()).unwrap();
    println!("{report}");
    assert!(report.is_ok(), "{report}");
    // The request suspended the approval; the status call resumed it.
    assert!(matches!(&report.reference.results[0], Err(CallError::Suspended(w)) if w.starts_with("promise ")));
    // Crashes hit the approval's oplog at its suspend entry and after it.
    let (approval_id, oplog) = &report.reference_oplogs[0];
    let suspend = oplog.iter().position(|e| matches!(e, OplogEntry::Suspend(_))).unwrap() as u64 + 1;
    let crashed_waiting = report
        .crash_runs
        .iter()
        .flatten()
        .filter(|c| c.agent == *approval_id && c.point == CrashPoint::AfterEntry(suspend))
        .count();
    assert_eq!(crashed_waiting, 1, "{report}");
    assert!(report.runs as u64 > suspend + 10, "{report}");
}
