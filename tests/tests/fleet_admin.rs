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

#[test]
fn a_worker_branches_into_a_phantom_copy_that_goes_on_from_the_fork() {
    use reprise_testkit::oplog::OplogEntry;

    let env = Environment::new().unwrap();
    let component = env.load(build_example("fleet-admin")).unwrap();
    let mut worker = env.create(&component, WorkerCall::new("eu-1".into())).unwrap();
    worker.work().unwrap();
    worker.work().unwrap();
    let copy_id = worker.branch().unwrap();
    assert!(copy_id.starts_with(r#"worker("eu-1")["#) && copy_id.ends_with(']'), "{copy_id}");
    // The original goes on from its own two jobs ...
    assert_eq!(worker.work().unwrap(), 3);
    // ... and the copy finished `branch` as the copy: two jobs, then 100 more.
    let copy = env.agent_handle(&copy_id).unwrap_or_else(|| panic!("no agent {copy_id}"));
    assert_eq!(format!("{:?}", copy.lock().invoke("work", &[]).unwrap()), "[U32(103)]");

    // The copy's oplog is the original's up to the fork, under its own
    // name, then the fork's entry answering `forked`.
    let original = worker.agent.oplog().entries().to_vec();
    let copied = copy.lock().oplog().entries().to_vec();
    let fork_at = original
        .iter()
        .position(|e| matches!(e, OplogEntry::HostCall(p) if p.function_name == "golem::api::fork"))
        .unwrap();
    let OplogEntry::Create(create) = &copied[0] else { panic!("{:?}", copied[0]) };
    assert_eq!(create.agent_id.agent_id, copy_id);
    assert_eq!(copied[1..fork_at], original[1..fork_at]);
    let (OplogEntry::HostCall(mine), OplogEntry::HostCall(theirs)) = (&original[fork_at], &copied[fork_at]) else {
        panic!("{:?} / {:?}", original[fork_at], copied[fork_at])
    };
    assert_eq!(theirs.function_name, "golem::api::fork");
    assert_ne!(mine.response, theirs.response, "`original` here, `forked` there");

    // Recovered, the original hears `original` again: no second copy.
    worker.agent.crash();
    assert_eq!(worker.work().unwrap(), 4);
    let copies = env.agents().iter().filter(|a| a.name.starts_with(r#"worker("eu-1")["#)).count();
    assert_eq!(copies, 1);
}

#[test]
fn the_admin_clones_a_worker_as_it_was_at_an_oplog_index() {
    use reprise_testkit::oplog::OplogEntry;

    let env = Environment::new().unwrap();
    let component = env.load(build_example("fleet-admin")).unwrap();
    let mut worker = env.connect(&component, WorkerCall::new("eu-1".into())).unwrap();
    for expected in 1..=3 {
        assert_eq!(worker.work().unwrap(), expected);
    }
    let source = env.agent_handle(r#"worker("eu-1")"#).unwrap();
    let entries = source.lock().oplog().entries().to_vec();
    // Right after the second job finished (the constructor's finish is the first).
    let finished: Vec<u64> = (1..=entries.len() as u64)
        .filter(|i| matches!(entries[*i as usize - 1], OplogEntry::AgentInvocationFinished(_)))
        .collect();
    let up_to = finished[2];

    let mut admin = env.create(&component, AdminCall::new("root".into())).unwrap();
    admin.clone_worker(r#"worker("eu-1")"#.into(), r#"worker("eu-9")"#.into(), up_to).unwrap();
    let clone = env.agent_handle(r#"worker("eu-9")"#).expect("the clone runs");
    let copied = clone.lock().oplog().entries().to_vec();
    assert_eq!(copied[1..up_to as usize], entries[1..up_to as usize]);
    let mut clone = env.connect(&component, WorkerCall::new("eu-9".into())).unwrap();
    assert_eq!(clone.work().unwrap(), 3, "two jobs copied, then its own");
    assert_eq!(worker.work().unwrap(), 4, "the source goes on apart");
    let forks = admin.agent.host_calls().iter().filter(|c| c.function == "golem::api::fork_worker").count();
    assert_eq!(forks, 1);

    // Refusals fail the admin's call, naming the problem.
    let e = admin.clone_worker(r#"worker("eu-1")"#.into(), r#"worker("eu-9")"#.into(), up_to).unwrap_err();
    assert!(e.to_string().contains("agent `worker(\"eu-9\")` exists already"), "{e}");
}

/// A branching worker recovers from a crash anywhere but in the window
/// between the fork and its entry: there Golem forks again, making a second
/// copy, and verification fails naming the fork.
#[test]
fn a_branching_worker_recovers_from_every_crash_but_one_that_forks_again() {
    let env = Environment::new().unwrap();
    let component = env.load(build_example("fleet-admin")).unwrap();
    let scenario = Scenario::of(WorkerCall::new("eu-1".into()))
        .expect(WorkerCall::work(), 1)
        .then(WorkerCall::branch())
        .expect(WorkerCall::work(), 2);
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    println!("{report}");
    assert_eq!(report.failures.len(), 1, "{report}");
    let failure = report.failures[0].to_string();
    assert!(failure.contains("before persisting") && failure.contains("`golem::api::fork`"), "{failure}");
    assert!(report.recovered > 10, "{report}");
    // The copy is crashed at every point of its own oplog too.
    assert!(report.reference_oplogs.iter().any(|(id, _)| id.starts_with(r#"worker("eu-1")["#)), "{report}");
}
