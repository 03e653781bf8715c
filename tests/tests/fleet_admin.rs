//! The fleet-admin example: enumerating agents with the filter builder of
//! `reprise::host`, agent metadata, configuration, and crash verification.
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_e2e::build_example;
use reprise_testkit::Environment;
use reprise_testkit::value::Value;
use reprise_testkit::verify::{CrashPlan, Scenario, verify};

/// A `Condition` value: the variant cases in declaration order.
fn prefix(p: &str) -> Value {
    Value::Variant { case: 0, payload: Some(Box::new(Value::string(p))) }
}
fn like(p: &str) -> Value {
    Value::Variant { case: 1, payload: Some(Box::new(Value::string(p))) }
}
fn status(s: &str, negate: bool) -> Value {
    Value::Variant { case: 2, payload: Some(Box::new(Value::Record(vec![Value::string(s), Value::Bool(negate)]))) }
}
fn min_revision(r: u64) -> Value {
    Value::Variant { case: 3, payload: Some(Box::new(Value::U64(r))) }
}
fn config(k: &str, v: &str) -> Value {
    Value::Variant { case: 4, payload: Some(Box::new(Value::Record(vec![Value::string(k), Value::string(v)]))) }
}

/// The names the admin found for `groups` (any of the groups, all within one).
fn find(admin: &mut reprise_testkit::Agent, groups: Vec<Vec<Value>>) -> Vec<String> {
    let any = Value::List(groups.into_iter().map(Value::List).collect());
    let out = admin.invoke("find", &[any]).unwrap();
    let [Value::Result(Ok(Some(list)))] = out.as_slice() else { panic!("{out:?}") };
    let Value::List(found) = &**list else { panic!("{list:?}") };
    found
        .iter()
        .map(|s| match s {
            Value::Record(f) => f[0].as_str().unwrap().to_string(),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn the_admin_enumerates_agents_with_filters() {
    let env = Environment::builder().config("tier", "gold").build().unwrap();
    let component = env.load(build_example("fleet-admin")).unwrap();
    let mut workers = Vec::new();
    for name in ["eu-1", "eu-2", "us-1"] {
        let mut w = env.create_agent(&component, "Worker", &[Value::string(name)]).unwrap();
        assert_eq!(w.invoke("work", &[]).unwrap(), [Value::U32(1)]);
        workers.push(w);
    }
    let ids: Vec<String> = workers.iter().map(|w| w.id().to_string()).collect();
    let mut admin = env.create_agent(&component, "Admin", &[Value::string("root")]).unwrap();
    let admin_id = admin.id().to_string();
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
    assert_eq!(find(&mut admin, vec![vec![min_revision(1)]]), Vec::<String>::new());
    assert_eq!(find(&mut admin, vec![vec![config("tier", "gold"), prefix("admin(")]]), [admin_id.as_str()]);
    assert_eq!(find(&mut admin, vec![vec![config("tier", "silver")]]), Vec::<String>::new());
    let out = admin.invoke("find", &[Value::List(vec![Value::List(vec![status("asleep", false)])])]).unwrap();
    assert_eq!(out, [Value::result(Err(Value::string("unknown status `asleep`")))]);

    let summary =
        |name: &str, status: &str| Value::Record(vec![Value::string(name), Value::string(status), Value::U64(0)]);
    assert_eq!(
        admin.invoke("describe", &[Value::string(&ids[0])]).unwrap(),
        [Value::option(Some(summary(&ids[0], "idle")))]
    );
    assert_eq!(admin.invoke("describe", &[Value::string("nobody")]).unwrap(), [Value::option(None)]);
    assert_eq!(admin.invoke("whoami", &[]).unwrap(), [summary(&admin_id, "running")]);
    assert_eq!(
        admin.invoke("setting", &[Value::string("tier")]).unwrap(),
        [Value::result(Ok(Value::option(Some(Value::string("gold")))))]
    );

    // Enumerations and metadata are journaled reads: replay returns what the
    // live run saw, even though the fleet has changed since.
    let calls: Vec<String> = admin.host_calls().into_iter().map(|c| c.function).collect();
    assert!(calls.iter().filter(|c| *c == "golem::api::get_agents").count() >= 9, "{calls:?}");
    assert!(calls.contains(&"golem::api::get_agent_metadata".to_string()), "{calls:?}");
    let mut late = env.create_agent(&component, "Worker", &[Value::string("eu-3")]).unwrap();
    late.invoke("work", &[]).unwrap();
    admin.crash();
    // Recovery replays every find above (the testkit checks each replayed
    // result against the recorded one); a new find sees the new worker.
    assert_eq!(find(&mut admin, vec![vec![like("%eu-%")]]).len(), 3);
    assert_eq!(admin.recoveries(), 1);

    let scenario = Scenario::new("Admin", [Value::string("ops")])
        .call("find", [Value::List(vec![])])
        .call("whoami", [])
        .call("describe", [Value::string("ghost")])
        .call("find", [Value::List(vec![Value::List(vec![status("running", false), like("admin%")])])]);
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    assert!(report.is_ok(), "{report}");
}

#[test]
fn reverting_an_agent_drops_its_latest_invocations() {
    use reprise_testkit::RevertTarget;
    use reprise_testkit::oplog::OplogEntry;

    let env = Environment::new().unwrap();
    let component = env.load(build_example("fleet-admin")).unwrap();
    let mut worker = env.create_agent(&component, "Worker", &[Value::string("w")]).unwrap();
    for expected in 1..=3 {
        assert_eq!(worker.invoke("work", &[]).unwrap(), [Value::U32(expected)]);
    }
    // Another agent asks the executor to undo the worker's last two jobs.
    let mut admin = env.create_agent(&component, "Admin", &[Value::string("root")]).unwrap();
    admin.invoke("undo", &[Value::string(worker.id()), Value::U64(2)]).unwrap();
    assert_eq!(worker.invoke("work", &[]).unwrap(), [Value::U32(2)], "one job survived the revert");
    let reverts: Vec<_> = worker
        .oplog()
        .entries()
        .iter()
        .filter_map(|e| if let OplogEntry::Revert(p) = e { Some(p.dropped_region) } else { None })
        .collect();
    assert_eq!(reverts.len(), 1);
    // The revert survives recovery: replay passes over the dropped region.
    worker.crash();
    assert_eq!(worker.invoke("work", &[]).unwrap(), [Value::U32(3)]);

    // Reverting to an index directly, and the refusals.
    let before_last = worker.oplog().last_index();
    assert_eq!(worker.invoke("work", &[]).unwrap(), [Value::U32(4)]);
    let dropped = worker.revert(RevertTarget::ToIndex(before_last)).unwrap();
    assert_eq!(*dropped.start(), before_last + 1);
    assert_eq!(worker.invoke("work", &[]).unwrap(), [Value::U32(4)]);
    let e = worker.revert(RevertTarget::ToIndex(1)).unwrap_err().to_string();
    assert!(e.contains("cannot revert to oplog index 1: it must be at least 3"), "{e}");
    let e = worker.revert(RevertTarget::LastInvocations(99)).unwrap_err().to_string();
    assert!(e.contains("cannot revert the last 99 invocation(s)"), "{e}");
    // A revert request for an agent that does not exist fails the caller clearly.
    let e = admin.invoke("undo", &[Value::string("ghost"), Value::U64(1)]).unwrap_err().to_string();
    assert!(e.contains("there is no agent `ghost`"), "{e}");

    let scenario = Scenario::new("Admin", [Value::string("ops")]).call("whoami", []);
    assert!(verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap().is_ok());
}
