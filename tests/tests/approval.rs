//! The approval example (issue 17): an agent waits on a promise for an
//! approver's decision, suspended as on Golem, with a timeout by sleeping
//! and a reminder scheduled for the approver; a buyer starts approvals as
//! phantom agents; crash verification covers crashes while it waits.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use reprise_e2e::build_example;
use reprise_example_approval::{ApprovalCall, ApproverCall, BuyerCall, Request};
use reprise_testkit::bindings::golem::api::host::AgentStatus;
use reprise_testkit::oplog::OplogEntry;
use reprise_testkit::verify::{CallError, CrashPlan, Scenario, verify};
use reprise_testkit::{CrashPoint, Environment, Error, LoadedComponent};

fn approval() -> (Environment, LoadedComponent) {
    let env = Environment::new().unwrap();
    let component = env.load(build_example("approval")).unwrap();
    (env, component)
}

const DAY: Duration = Duration::from_secs(24 * 3600);

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

/// Whether `entries` hold a host call of `function`.
fn calls(entries: &[OplogEntry], function: &str) -> usize {
    entries.iter().filter(|e| matches!(e, OplogEntry::HostCall(p) if p.function_name == function)).count()
}

#[test]
fn the_approver_is_reminded_after_a_day_unless_the_decision_came_first() {
    let (env, component) = approval();
    let mut laptop_approval = env.create(&component, ApprovalCall::new("laptop".into())).unwrap();
    assert!(matches!(laptop_approval.request("alice".into(), 1200, 3), Err(Error::Suspended { .. })));

    // The reminder waits for its day, scheduled by the approval's clock.
    let scheduled = env.scheduled_invocations();
    assert_eq!(scheduled.len(), 1, "{scheduled:?}");
    assert_eq!((scheduled[0].agent_id.as_str(), scheduled[0].method.as_str()), (r#"approver("alice")"#, "remind"));
    // A day from what the approval's wall clock read when it asked.
    assert_eq!(scheduled[0].due_in, DAY, "{scheduled:?}");
    let mut alice = env.connect(&component, ApproverCall::new("alice".into())).unwrap();
    env.advance_time(DAY / 2);
    assert_eq!(alice.reminders().unwrap(), Vec::<String>::new(), "half a day: not yet");
    env.advance_time(DAY / 2);
    assert_eq!(alice.reminders().unwrap(), vec!["laptop".to_string()]);
    assert!(env.scheduled_invocations().is_empty());
    assert_eq!(alice.decide("laptop".into(), true).unwrap(), Ok(()));
    assert_eq!(laptop_approval.status().unwrap(), "approved");

    // Decided within the day: the approval cancels the reminder as it resumes.
    let mut desk_approval = env.create(&component, ApprovalCall::new("desk".into())).unwrap();
    assert!(matches!(desk_approval.request("alice".into(), 300, 3), Err(Error::Suspended { .. })));
    assert_eq!(env.scheduled_invocations().len(), 1);
    assert_eq!(alice.decide("desk".into(), false).unwrap(), Ok(()));
    assert_eq!(desk_approval.status().unwrap(), "rejected");
    assert!(env.scheduled_invocations().is_empty(), "{:?}", env.scheduled_invocations());
    env.advance_time(2 * DAY);
    assert_eq!(alice.reminders().unwrap(), vec!["laptop".to_string()], "no reminder of the desk");

    // Journaled as Golem journals them: the schedule, then the cancellation.
    let entries = desk_approval.agent.oplog().entries();
    assert_eq!(calls(entries, "golem::rpc::wasm-rpc::schedule_invocation"), 1);
    assert_eq!(calls(entries, "golem::rpc::cancellation-token::cancel"), 1);
}

#[test]
fn a_reminder_scheduled_again_after_a_crash_is_one_reminder() {
    let (env, component) = approval();
    // Where the schedule's entry is, from a run without crashes.
    let reference = env.fresh();
    let mut approval = reference.create(&component, ApprovalCall::new("laptop".into())).unwrap();
    let _ = approval.request("alice".into(), 1200, 3);
    let entries = approval.agent.oplog().entries();
    let schedule = entries
        .iter()
        .position(
            |e| matches!(e, OplogEntry::HostCall(p) if p.function_name == "golem::rpc::wasm-rpc::schedule_invocation"),
        )
        .unwrap() as u64
        + 1;

    // Crash right after the schedule's side effect, before its entry is
    // written: recovery schedules it again, under the same id.
    let mut approval = env.create(&component, ApprovalCall::new("laptop".into())).unwrap();
    approval.agent.schedule_crashes([CrashPoint::BeforePersist(schedule)]);
    assert!(matches!(approval.request("alice".into(), 1200, 3), Err(Error::Suspended { .. })));
    assert_eq!(approval.agent.crashes_fired().len(), 1);
    assert_eq!(env.scheduled_invocations().len(), 1, "{:?}", env.scheduled_invocations());
    env.advance_time(DAY);
    let mut alice = env.connect(&component, ApproverCall::new("alice".into())).unwrap();
    assert_eq!(alice.reminders().unwrap(), vec!["laptop".to_string()]);
}

#[test]
fn a_buyer_starts_each_approval_as_a_phantom_agent_of_its_own() {
    let (env, component) = approval();
    let mut buyer = env.create(&component, BuyerCall::new("carol".into())).unwrap();
    let first = buyer.buy("laptop".into(), 1200, "alice".into(), 3).unwrap().unwrap();
    let second = buyer.buy("laptop".into(), 1300, "alice".into(), 3).unwrap().unwrap();
    // `approval("laptop")[<uuid>]`, twice, with different phantom ids.
    for id in [&first, &second] {
        assert!(id.starts_with(r#"approval("laptop")["#) && id.ends_with(']'), "{id}");
    }
    assert_ne!(first, second);
    // Two agents, each waiting for its own decision.
    let mut alice = env.connect(&component, ApproverCall::new("alice".into())).unwrap();
    assert_eq!(alice.pending().unwrap(), vec![laptop(1200), laptop(1300)]);
    for id in [&first, &second] {
        let approval = env.agent_handle(id).unwrap_or_else(|| panic!("no agent {id}"));
        assert!(approval.lock().is_suspended(), "{id}");
    }
    assert!(env.agent_handle(r#"approval("laptop")"#).is_none(), "no agent without a phantom id");
    assert_eq!(alice.decide("laptop".into(), true).unwrap(), Ok(()));
    // The first approval resumed with the decision; the second still waits.
    let status = |id: &str| env.agent_handle(id).unwrap().lock().invoke("status", &[]);
    assert_eq!(format!("{:?}", status(&first).unwrap()), r#"[String("approved")]"#);
    // Calls to it wait behind the suspended `request`.
    assert!(matches!(status(&second), Err(Error::Suspended { agent, .. }) if agent == second));
}

#[test]
fn phantom_approvals_recover_from_every_crash_of_the_buyer() {
    let (env, component) = approval();
    let scenario = Scenario::of(BuyerCall::new("carol".into()))
        .then(BuyerCall::buy("laptop".into(), 1200, "alice".into(), 3))
        .then(BuyerCall::buy("laptop".into(), 1300, "alice".into(), 3))
        .then(BuyerCall::approvals())
        .with(ApproverCall::new("alice".into()))
        .expect(ApproverCall::pending(), vec![laptop(1200), laptop(1300)]);
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    println!("{report}");
    assert!(report.is_ok(), "{report}");
    // A recovered buyer calls the same phantoms, not new ones.
    assert!(report.runs > 20, "{report}");
}
