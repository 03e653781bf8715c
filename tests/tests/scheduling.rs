//! Agents that run side by side (issue 17): calls wait in the callee's
//! queue, `invoke` returns before the callee runs, a seeded schedule
//! interleaves agents the same way on every run, and a call cycle that
//! Golem finishes finishes here too.
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_e2e::build_test_guest;
use reprise_testkit::bindings::golem::api::oplog::AgentInvocation;
use reprise_testkit::oplog::OplogEntry;
use reprise_testkit::value::Value;
use reprise_testkit::verify::{CrashPlan, Scenario, verify};
use reprise_testkit::{Environment, LoadedComponent, Schedule};

fn setup(schedule: Schedule) -> (Environment, LoadedComponent) {
    let env = Environment::builder().schedule(schedule).build().unwrap();
    let probe = env.load(build_test_guest("probe")).unwrap();
    (env, probe)
}

/// What `trigger-put` read back: `b`'s write, if `b` ran before the read.
fn trigger_and_read(env: &Environment, probe: &LoadedComponent) -> Option<String> {
    let mut a = env.create_agent(probe, "probe", &[Value::string("a")]).unwrap();
    let read = a.invoke("trigger-put", &[Value::string("b"), Value::string("k"), Value::string("v")]).unwrap();
    match &read[0] {
        Value::Option(None) => None,
        Value::Option(Some(v)) => Some(v.as_str().unwrap().to_string()),
        other => panic!("{other:?}"),
    }
}

/// The method names of an oplog's pending invocations, in order.
fn pending_methods(entries: &[OplogEntry]) -> Vec<String> {
    entries
        .iter()
        .filter_map(|e| match e {
            OplogEntry::PendingAgentInvocation(p) => match &p.invocation {
                AgentInvocation::AgentMethodInvocation(m) => Some(m.method_name.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[test]
fn an_invoked_call_waits_in_the_callees_queue_and_runs_after_its_caller() {
    let (env, probe) = setup(Schedule::Sequential);
    // Sequentially, the callee runs once its caller is done: the read misses the write.
    assert_eq!(trigger_and_read(&env, &probe), None);
    // The test's call returns with the environment at rest: the write happened.
    assert_eq!(env.kv_contents()["probe"]["k"], b"v");
    let b = env.agent_handle(r#"probe("b")"#).expect("created by the call");
    let b = b.lock();
    assert_eq!(pending_methods(b.oplog().entries()), ["put"]);
    // Golem's order: the pending invocation, then its start.
    let pending = b.oplog().entries().iter().position(|e| matches!(e, OplogEntry::PendingAgentInvocation(_))).unwrap();
    assert!(matches!(b.oplog().entries()[pending + 1], OplogEntry::AgentInvocationStarted(_)));
}

#[test]
fn a_race_between_a_trigger_and_a_read_is_found_by_seeds_and_each_seed_replays_its_run() {
    let (loaded, probe) = setup(Schedule::Sequential);
    let mut outcomes = Vec::new();
    for seed in 0..100 {
        outcomes.push((seed, trigger_and_read(&loaded.fresh_with(Schedule::Seeded(seed)), &probe)));
    }
    let first_seeing = outcomes.iter().find(|(_, read)| read.is_some()).map(|(s, _)| *s);
    let first_missing = outcomes.iter().find(|(_, read)| read.is_none()).map(|(s, _)| *s);
    let (Some(seeing), Some(missing)) = (first_seeing, first_missing) else {
        panic!("100 seeds never interleaved the callee's write and the caller's read both ways: {outcomes:?}")
    };
    // Each seed alone gives its run again, oplogs and all.
    for seed in [seeing, missing] {
        let oplogs = |_: ()| {
            let env = loaded.fresh_with(Schedule::Seeded(seed));
            let read = trigger_and_read(&env, &probe);
            let b = env.agent_handle(r#"probe("b")"#).unwrap();
            let entries = b.lock().oplog().entries().to_vec();
            (read, entries)
        };
        assert_eq!(oplogs(()), oplogs(()), "seed {seed} ran differently twice");
    }
}

#[test]
fn a_call_cycle_finishes_as_on_golem() {
    // `a` awaits `b`, which triggers `count` back on `a` while `a` waits:
    // the trigger waits in `a`'s queue and runs once `a` is done.
    let (env, probe) = setup(Schedule::Sequential);
    let mut a = env.create_agent(&probe, "probe", &[Value::string("a")]).unwrap();
    a.invoke("call-back", &[Value::string("b"), Value::string("trigger-count")]).unwrap();
    assert_eq!(pending_methods(a.oplog().entries()), ["count"]);
    assert_eq!(a.invoke("count", &[]).unwrap(), [Value::U64(2)], "the triggered count ran once");

    // The same with `a` owned by the environment, under seeded schedules.
    for seed in 0..10 {
        let env = env.fresh_with(Schedule::Seeded(seed));
        let a = env.connect_agent(&probe, "probe", &[Value::string("a")]).unwrap();
        a.lock().invoke("call-back", &[Value::string("b"), Value::string("trigger-count")]).unwrap();
        assert_eq!(a.lock().invoke("count", &[]).unwrap(), [Value::U64(2)], "seed {seed}");
    }
}

#[test]
fn a_cycle_of_awaited_calls_fails_clearly_instead_of_hanging() {
    // `a` awaits `b`, which awaits `count` on `a`: `a` is busy awaiting
    // `b`, so on Golem both would wait forever.
    let (env, probe) = setup(Schedule::Sequential);
    let a = env.connect_agent(&probe, "probe", &[Value::string("a")]).unwrap();
    let e = a.lock().invoke("call-back", &[Value::string("b"), Value::string("await-count")]).unwrap_err();
    let message = e.to_string();
    assert!(message.contains("can never be answered"), "{message}");
    // The wait that closed the cycle is the one that fails: `b`'s, for `a`.
    assert!(message.contains(r#"the call to `probe(\\\"a\\\")`"#), "{message}");
}

#[test]
fn verification_explores_seeds_until_one_breaks_an_expectation_and_that_seed_alone_reproduces_it() {
    let (env, probe) = setup(Schedule::Sequential);
    // What the author saw run sequentially: the read misses the write.
    let script = "probe(\"a\")\ntrigger-put(\"b\", \"k\", \"v\") -> none\n";
    let scenario = Scenario::from_script(&probe, script).unwrap();
    let sequential = verify(&env, &probe, &scenario, &CrashPlan::Points(Vec::new())).unwrap();
    assert!(sequential.is_ok(), "{sequential}");

    let plan = CrashPlan::Points(Vec::new()).under_schedules(0..100);
    let report = verify(&env, &probe, &scenario, &plan).unwrap();
    assert!(!report.is_ok(), "100 seeds never let `b` write before `a` read:\n{report}");
    let Some(Schedule::Seeded(seed)) = report.schedule else { panic!("{report}") };
    assert_eq!(report.schedules_explored as u64, seed + 1, "stops at the first failing seed");
    assert_eq!(report.unmet.len(), 1, "{report}");
    assert_eq!(report.unmet[0].actual, "some(\"v\")");
    let text = report.to_string();
    assert!(text.contains(&format!("reported: seed {seed}")), "{text}");
    assert!(text.contains("-> queue of probe(\"b\")"), "the interleaving is shown: {text}");

    // That seed alone gives the failure again, and the same interleaving.
    let alone =
        verify(&env.fresh_with(Schedule::Seeded(seed)), &probe, &scenario, &CrashPlan::Points(Vec::new())).unwrap();
    assert_eq!(alone.unmet, report.unmet);
    assert_eq!(alone.reference.interleaving, report.reference.interleaving);
}

#[test]
fn a_call_cycle_recovers_from_every_crash_under_every_seed() {
    let (env, probe) = setup(Schedule::Sequential);
    let scenario = Scenario::new("probe", [Value::string("a")])
        .call("call-back", [Value::string("b"), Value::string("trigger-count")])
        .call("count", []);
    let report = verify(&env, &probe, &scenario, &CrashPlan::distinct_outcomes().under_schedules(0..5)).unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.schedules_explored, 5);
    assert_eq!(report.reference.results[1], Ok(vec![Value::U64(2)]));
    assert!(report.crashes_fired > 10, "{report}");
}
