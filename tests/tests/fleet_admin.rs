//! The fleet-admin example: enumerating agents with the filter builder of
//! `reprise::host`, agent metadata, configuration, and crash verification.
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_e2e::build_example;
use reprise_example_fleet_admin::{AdminCall, AdminHandle, AgentSummary, Condition, WorkerCall};
use reprise_testkit::verify::{CrashPlan, Scenario, verify};
use reprise_testkit::{Agent, Environment};

fn prefix(p: &str) -> Condition {
    Condition::NamePrefix(p.into())
}
fn like(p: &str) -> Condition {
    Condition::NameLike(p.into())
}
fn status(s: &str, negate: bool) -> Condition {
    Condition::Status { status: s.into(), negate }
}
fn config(k: &str, v: &str) -> Condition {
    Condition::Config { key: k.into(), value: v.into() }
}

/// The names the admin found for `groups` (any of the groups, all within one).
fn find(admin: &mut AdminHandle<Agent>, groups: Vec<Vec<Condition>>) -> Vec<String> {
    let found = admin.find(groups).unwrap().unwrap_or_else(|e| panic!("find refused: {e}"));
    found.into_iter().map(|s| s.name).collect()
}

#[test]
fn the_admin_enumerates_agents_with_filters() {
    let env = Environment::builder().config("tier", "gold").build().unwrap();
    let component = env.load(build_example("fleet-admin")).unwrap();
    let mut workers = Vec::new();
    for name in ["eu-1", "eu-2", "us-1"] {
        let mut w = env.create(&component, WorkerCall::new(name.into())).unwrap();
        assert_eq!(w.work().unwrap(), 1);
        workers.push(w);
    }
    let ids: Vec<String> = workers.iter().map(|w| w.agent.id().to_string()).collect();
    let mut admin = env.create(&component, AdminCall::new("root".into())).unwrap();
    let admin_id = admin.agent.id().to_string();
    let mut everyone = ids.clone();
    everyone.push(admin_id.clone());
    everyone.sort();

    assert_eq!(find(&mut admin, vec![]), everyone);
    assert_eq!(find(&mut admin, vec![vec![prefix("worker(")]]), ids);
    assert_eq!(find(&mut admin, vec![vec![like("%eu-%")]]), ids[..2]);
    // Any of two groups, all within one: (Worker ∧ %us%) ∨ Admin.
    let mut expected = vec![ids[2].clone(), admin_id.clone()];
    expected.sort();
    assert_eq!(find(&mut admin, vec![vec![prefix("worker("), like("%us%")], vec![prefix("admin(")]]), expected);
    // Only the admin runs while it enumerates; the workers are idle.
    assert_eq!(find(&mut admin, vec![vec![status("running", false)]]), [admin_id.as_str()]);
    assert_eq!(find(&mut admin, vec![vec![status("running", true)]]), ids);
    assert_eq!(find(&mut admin, vec![vec![Condition::MinRevision(1)]]), Vec::<String>::new());
    assert_eq!(find(&mut admin, vec![vec![config("tier", "gold"), prefix("admin(")]]), [admin_id.as_str()]);
    assert_eq!(find(&mut admin, vec![vec![config("tier", "silver")]]), Vec::<String>::new());
    let out = admin.find(vec![vec![status("asleep", false)]]).unwrap();
    assert_eq!(out, Err("unknown status `asleep`".to_string()));

    let summary = |name: &str, status: &str| AgentSummary { name: name.into(), status: status.into(), revision: 0 };
    assert_eq!(admin.describe(ids[0].clone()).unwrap(), Some(summary(&ids[0], "idle")));
    assert_eq!(admin.describe("nobody".into()).unwrap(), None);
    assert_eq!(admin.whoami().unwrap(), summary(&admin_id, "running"));
    assert_eq!(admin.setting("tier".into()).unwrap(), Ok(Some("gold".to_string())));

    // Enumerations and metadata are journaled reads: replay returns what the
    // live run saw, even though the fleet has changed since.
    let calls: Vec<String> = admin.agent.host_calls().into_iter().map(|c| c.function).collect();
    assert!(calls.iter().filter(|c| *c == "golem::api::get_agents").count() >= 9, "{calls:?}");
    assert!(calls.contains(&"golem::api::get_agent_metadata".to_string()), "{calls:?}");
    let mut late = env.create(&component, WorkerCall::new("eu-3".into())).unwrap();
    late.work().unwrap();
    admin.agent.crash();
    // Recovery replays every find above (the testkit checks each replayed
    // result against the recorded one); a new find sees the new worker.
    assert_eq!(find(&mut admin, vec![vec![like("%eu-%")]]).len(), 3);
    assert_eq!(admin.agent.recoveries(), 1);

    let scenario = Scenario::of(AdminCall::new("ops".into()))
        .then(AdminCall::find(vec![]))
        .then(AdminCall::whoami())
        .then(AdminCall::describe("ghost".into()))
        .then(AdminCall::find(vec![vec![status("running", false), like("admin%")]]));
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    assert!(report.is_ok(), "{report}");
}

#[test]
fn reverting_an_agent_drops_its_latest_invocations() {
    use reprise_testkit::RevertTarget;
    use reprise_testkit::oplog::OplogEntry;

    let env = Environment::new().unwrap();
    let component = env.load(build_example("fleet-admin")).unwrap();
    let mut worker = env.create(&component, WorkerCall::new("w".into())).unwrap();
    for expected in 1..=3 {
        assert_eq!(worker.work().unwrap(), expected);
    }
    // Another agent asks the executor to undo the worker's last two jobs.
    let mut admin = env.create(&component, AdminCall::new("root".into())).unwrap();
    admin.undo(worker.agent.id().to_string(), 2).unwrap();
    assert_eq!(worker.work().unwrap(), 2, "one job survived the revert");
    let reverts: Vec<_> = worker
        .agent
        .oplog()
        .entries()
        .iter()
        .filter_map(|e| if let OplogEntry::Revert(p) = e { Some(p.dropped_region) } else { None })
        .collect();
    assert_eq!(reverts.len(), 1);
    // The revert survives recovery: replay passes over the dropped region.
    worker.agent.crash();
    assert_eq!(worker.work().unwrap(), 3);

    // Reverting to an index directly, and the refusals.
    let before_last = worker.agent.oplog().last_index();
    assert_eq!(worker.work().unwrap(), 4);
    let dropped = worker.agent.revert(RevertTarget::ToIndex(before_last)).unwrap();
    assert_eq!(*dropped.start(), before_last + 1);
    assert_eq!(worker.work().unwrap(), 4);
    let e = worker.agent.revert(RevertTarget::ToIndex(1)).unwrap_err().to_string();
    assert!(e.contains("cannot revert to oplog index 1: it must be at least 3"), "{e}");
    let e = worker.agent.revert(RevertTarget::LastInvocations(99)).unwrap_err().to_string();
    assert!(e.contains("cannot revert the last 99 invocation(s)"), "{e}");
    // A revert request for an agent that does not exist fails the caller clearly.
    let e = admin.undo("ghost".into(), 1).unwrap_err().to_string();
    assert!(e.contains("there is no agent `ghost`"), "{e}");

    let scenario = Scenario::of(AdminCall::new("ops".into())).then(AdminCall::whoami());
    assert!(verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap().is_ok());
}
