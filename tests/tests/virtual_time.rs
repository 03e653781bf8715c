//! Virtual time: a sleeping agent moves its own clock, not the test's
//! (issue 17's first step).
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_e2e::build_test_guest;
use reprise_testkit::Environment;
use reprise_testkit::oplog::OplogEntry;
use reprise_testkit::value::Value;
use reprise_testkit::verify::{CrashPlan, Scenario, verify};

const DAY: u64 = 86_400;

/// The wall-clock readings (seconds) the probe's `sleep-retries` returned.
fn readings(result: &[Value]) -> Vec<u64> {
    let text = result[0].as_str().unwrap();
    text.split(',').map(|s| s.parse().unwrap()).collect()
}

#[test]
fn an_agent_sleeping_thirty_days_between_retries_finishes_at_once_and_its_clock_shows_them() {
    let env = Environment::new().unwrap();
    let probe = env.load(build_test_guest("probe")).unwrap();
    let mut agent = env.create_agent(&probe, "probe", &[Value::string("sleeper")]).unwrap();
    let started = std::time::Instant::now();
    let result = agent.invoke("sleep-retries", &[Value::U64(10)]).unwrap();
    println!("three sleeps of 10 days took {:?} of real time", started.elapsed());

    let seen = readings(&result);
    assert_eq!(seen.len(), 4);
    for pair in seen.windows(2) {
        let slept = pair[1] - pair[0];
        assert!((10 * DAY..10 * DAY + 60).contains(&slept), "{seen:?}");
    }
    assert!(seen[3] - seen[0] >= 30 * DAY);
    // Each sleep suspended the agent as Golem does: a `suspend` entry after
    // the journaled `subscribe_duration`, and the entries after it are
    // stamped 10 days later.
    let entries = agent.oplog().entries();
    let suspends: Vec<usize> =
        entries.iter().enumerate().filter(|(_, e)| matches!(e, OplogEntry::Suspend(_))).map(|(i, _)| i).collect();
    assert_eq!(suspends.len(), 3, "{entries:#?}");
    let subscribed = entries
        .iter()
        .filter(|e| matches!(e, OplogEntry::HostCall(p) if p.function_name == "monotonic_clock::subscribe_duration"))
        .count();
    assert_eq!(subscribed, 3);
    let stamp = |e: &OplogEntry| reprise_testkit::oplog::timestamp(e).seconds;
    let last = suspends[2];
    assert!(stamp(&entries[last + 1]) >= stamp(&entries[last]) + 10 * DAY);

    // A later call still sees the 30 days: the clock does not go back.
    let again = readings(&agent.invoke("sleep-retries", &[Value::U64(0)]).unwrap());
    assert!(again[0] >= seen[3], "{again:?} after {seen:?}");
}

#[test]
fn crashes_while_sleeping_are_recovered_and_the_sleep_is_not_lost() {
    let env = Environment::new().unwrap();
    let probe = env.load(build_test_guest("probe")).unwrap();
    let scenario = Scenario::new("probe", [Value::string("sleeper")]).call("sleep-retries", [Value::U64(10)]);
    let report = verify(&env, &probe, &scenario, &CrashPlan::every_entry()).unwrap();
    println!("{report}");
    assert!(report.is_ok(), "{report}");

    // Crashed right after the second suspension, the agent recovers by
    // replay and its clock still shows every sleep.
    let mut agent = env.create_agent(&probe, "probe", &[Value::string("crashy")]).unwrap();
    let reference = {
        let mut probe_agent = env.create_agent(&probe, "probe", &[Value::string("calm")]).unwrap();
        probe_agent.invoke("sleep-retries", &[Value::U64(10)]).unwrap();
        probe_agent
            .oplog()
            .entries()
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e, OplogEntry::Suspend(_)))
            .map(|(i, _)| i as u64 + 1)
            .nth(1)
            .unwrap()
    };
    agent.schedule_crashes([reprise_testkit::CrashPoint::AfterEntry(reference)]);
    let seen = readings(&agent.invoke("sleep-retries", &[Value::U64(10)]).unwrap());
    assert_eq!(agent.crashes_fired().len(), 1);
    assert!(seen[3] - seen[0] >= 30 * DAY, "{seen:?}");

    // Recovered from its whole oplog (a crash as the next call starts), the
    // agent's clock still counts the 30 days it slept.
    let next = agent.oplog().len() + 1;
    agent.schedule_crashes([reprise_testkit::CrashPoint::AfterEntry(next)]);
    let after = readings(&agent.invoke("sleep-retries", &[Value::U64(0)]).unwrap());
    assert_eq!(agent.crashes_fired().len(), 2);
    assert!(after[0] >= seen[3], "{after:?} after {seen:?}");
}
