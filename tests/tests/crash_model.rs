//! The crash model of a Golem 1.5 executor (golemcloud/golem v1.5.9; see
//! docs/golem-fidelity.md): the oplog is buffered and committed at Golem's
//! commit points, a crash loses the uncommitted tail, and a remote write
//! interrupted with idempotence off cannot be retried. Each test states
//! Golem's behaviour and checks the testkit's. Uses the `probe` guest.
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_e2e::{build_test_guest, oplog_shape};
use reprise_testkit::oplog::OplogEntry;
use reprise_testkit::value::Value;
use reprise_testkit::verify::{CallError, CrashPlan, Scenario, VerificationReport, verify, verify_from_start};
use reprise_testkit::{Agent, CrashPoint, Environment, Error, LoadedComponent};

fn probe(env: &Environment) -> LoadedComponent {
    env.load(build_test_guest("probe")).expect("probe loads")
}

/// Index of the first host call of `function` at or after index `from`.
fn host_call_index(agent: &Agent, function: &str, from: u64) -> u64 {
    agent
        .oplog()
        .entries()
        .iter()
        .enumerate()
        .skip(usize::try_from(from.saturating_sub(1)).unwrap())
        .find(|(_, e)| matches!(e, OplogEntry::HostCall(p) if p.function_name == function))
        .map(|(pos, _)| pos as u64 + 1)
        .unwrap_or_else(|| panic!("no host call `{function}` from index {from}"))
}

/// Whether each call of `function` ran live (`true`) or was replayed.
fn live_runs(agent: &Agent, function: &str) -> Vec<bool> {
    agent.host_calls().iter().filter(|c| c.function == function).map(|c| !c.replayed).collect()
}

const RANDOM: &str = "random::get_random_u64";
const KV_SET: &str = "keyvalue::eventual::set";

/// Golem buffers a read-local host call (durable_host/durability.rs: no
/// commit at the end of read-local functions). A crash right after it loses
/// the entry, so recovery executes the call again, live.
#[test]
fn a_crash_loses_uncommitted_entries_and_recovery_executes_them_again() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[Value::string("p")]).unwrap();
    // The call's entry will be the next-but-one (after the invocation start).
    let next = agent.oplog().last_index() + 2;
    agent.schedule_crashes([CrashPoint::AfterEntry(next)]);
    agent.invoke("random-buffered", &[]).unwrap();

    assert_eq!(agent.crashes_fired().len(), 1);
    assert_eq!(host_call_index(&agent, RANDOM, 1), next, "the re-executed call takes the lost entry's place");
    assert_eq!(live_runs(&agent, RANDOM), [true, true], "the lost call ran live again, not from the oplog");
}

/// `golem:api/host.oplog-commit` commits the buffer (golem/v1x.rs
/// `oplog_commit` → `wait_for_replicas`, which commits first): after it, a
/// crash loses nothing and recovery replays the call.
#[test]
fn oplog_commit_makes_buffered_entries_survive_a_crash() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[Value::string("p")]).unwrap();
    let next = agent.oplog().last_index() + 2;
    agent.schedule_crashes([CrashPoint::AfterEntry(next)]);
    agent.invoke("random-committed", &[]).unwrap();
    // The crash fired before the commit: the entry was lost and re-run.
    assert_eq!(live_runs(&agent, RANDOM), [true, true]);

    agent.crash();
    agent.invoke("count", &[]).unwrap();
    // Committed by then: the recovery after the second crash replays it.
    assert_eq!(live_runs(&agent, RANDOM), [true, true, false]);
}

/// A write-remote host call commits the oplog at its end
/// (`end_durable_function` commits for write-remote types), so a crash right
/// after it loses nothing and the write is not performed again.
#[test]
fn a_remote_write_commits_and_is_not_repeated_after_a_later_crash() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[Value::string("p")]).unwrap();
    agent.invoke("put", &[Value::string("colour"), Value::string("green")]).unwrap();
    agent.crash();
    agent.invoke("count", &[]).unwrap();
    assert_eq!(live_runs(&agent, KV_SET), [true, false]);
    assert_eq!(env.kv_writes().len(), 1);
}

/// With idempotence off, Golem brackets a write-remote call with a committed
/// `begin-remote-write` and an `end-remote-write` (durable_host/mod.rs
/// `begin_function` / `end_function`); recovery that finds the begin without
/// its end fails the agent with "Non-idempotent remote write operation was
/// not completed, cannot retry".
#[test]
fn a_crash_inside_a_non_idempotent_write_fails_the_agent_with_golems_message() {
    let env = Environment::new().unwrap();
    let component = probe(&env);

    // Crash-free: the write is bracketed.
    let mut agent = env.create_agent(&component, "probe", &[Value::string("a")]).unwrap();
    agent.invoke("write-non-idempotent", &[]).unwrap();
    let set = host_call_index(&agent, KV_SET, 1);
    let entries = agent.oplog().entries();
    assert!(matches!(entries[set as usize - 2], OplogEntry::BeginRemoteWrite(_)), "{:?}", entries[set as usize - 2]);
    assert!(matches!(&entries[set as usize], OplogEntry::EndRemoteWrite(p) if p.begin_index == set - 1));

    // The write happens, the crash comes before its entry is persisted.
    let fresh = env.fresh();
    let component = probe(&fresh);
    let mut agent = fresh
        .create_agent_with_crashes(&component, "probe", &[Value::string("a")], vec![CrashPoint::BeforePersist(set)])
        .unwrap();
    let err = agent.invoke("write-non-idempotent", &[]).unwrap_err();
    let Error::Unrecoverable(reason) = &err else { panic!("expected an unrecoverable agent, got {err}") };
    assert_eq!(reason, "Non-idempotent remote write operation was not completed, cannot retry");
    assert_eq!(fresh.kv_writes().len(), 1, "the write was not retried");
    assert!(matches!(agent.oplog().entries().last(), Some(OplogEntry::Error(_))), "the failure is recorded");
    let later = agent.invoke("count", &[]).unwrap_err();
    assert!(matches!(later, Error::AgentFailed(_)), "{later}");

    // Crash verification reports it, with Golem's message.
    let scenario = Scenario::new("probe", [Value::string("a")]).call("write-non-idempotent", []);
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    assert!(!report.is_ok(), "{report}");
    assert!(report.to_string().contains("cannot retry"), "{report}");
}

/// The same crash with idempotence on (Golem's default): the write is
/// retried, and verification accepts the identical repeat.
#[test]
fn with_idempotence_on_the_interrupted_write_is_retried() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[Value::string("b")]).unwrap();
    agent.invoke("put", &[Value::string("k"), Value::string("v")]).unwrap();
    let set = host_call_index(&agent, KV_SET, 1);

    let fresh = env.fresh();
    let component = probe(&fresh);
    let mut agent = fresh
        .create_agent_with_crashes(&component, "probe", &[Value::string("b")], vec![CrashPoint::BeforePersist(set)])
        .unwrap();
    agent.invoke("put", &[Value::string("k"), Value::string("v")]).unwrap();
    assert_eq!(fresh.kv_writes().len(), 2, "performed, lost, performed again");
    assert!(!agent.oplog().entries().iter().any(|e| matches!(e, OplogEntry::BeginRemoteWrite(_))));
}

/// Reads are buffered (read-remote does not commit), so a crash after a
/// later write has happened but before it is persisted loses the reads too;
/// executed again, they see the store as the lost attempt left it. On Golem
/// this agent answers differently after such a crash, and verification says
/// so; committing the reads first (`oplog-commit`) makes the answer stable.
#[test]
fn reads_lost_in_a_crash_see_the_lost_attempts_writes() {
    let env = Environment::new().unwrap();
    let component = probe(&env);

    let stale = Scenario::new("probe", [Value::string("s")]).call("read-then-delete", []);
    let report = verify(&env, &component, &stale, &CrashPlan::every_entry()).unwrap();
    assert!(!report.is_ok(), "{report}");
    let text = report.to_string();
    assert!(text.contains("before persisting entry"), "{text}");
    assert!(text.contains(r#"returned Ok([Option(None)])"#), "the re-executed read found the key deleted: {text}");

    let committed = Scenario::new("probe", [Value::string("s")]).call("read-commit-then-delete", []);
    let report = verify(&env, &component, &committed, &CrashPlan::every_entry()).unwrap();
    assert!(report.is_ok(), "{report}");
}

/// Golem draws clock readings afresh when it executes a call again after a
/// crash. An agent that reads the clock and writes the value in the same
/// invocation writes a second, different value when a crash lands between
/// the write and its commit: verification fails, naming both writes.
#[test]
fn a_clock_value_written_twice_after_a_crash_fails_verification_with_both_payloads() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let scenario = Scenario::new("probe", [Value::string("t")]).call("stamp", []);
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    assert!(!report.is_ok(), "{report}");
    let text = report.to_string();
    assert!(text.contains("before persisting entry"), "{text}");
    assert!(text.contains("the write set stamps/last = \"1767225600"), "{text}");
    assert!(text.contains("was repeated with another payload: set stamps/last = \"1767229200"), "{text}");
    // The report says what the crash lost, as Golem would have lost it.
    assert!(text.contains("lost and run again (host call `wall_clock::now` (read-local), "), "{text}");
    // And where the crash struck, in terms of the scenario's calls.
    assert!(text.contains("is host call `keyvalue::eventual::set` (write-remote) of call 1, `stamp`)"), "{text}");
    // Only the before-persist point fails: every other crash leaves one write.
    assert_eq!(report.failures.len(), 1, "{text}");
}

/// An idempotency key is derived from the oplog position on Golem and
/// survives the crash: the retried write repeats it exactly.
#[test]
fn an_idempotency_key_written_after_a_crash_is_the_same_key() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let scenario = Scenario::new("probe", [Value::string("k")]).call("stamp-key", []);
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    assert!(report.is_ok(), "{report}");
    assert!(report.retried_effects > 0, "the write was retried at least once: {report}");
}

/// Returning the clock, with no side effect, is fine on Golem: the result
/// of a call that read the clock after a crash is not compared.
#[test]
fn returning_the_clock_passes_and_the_clock_moves_on_after_a_crash() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let scenario = Scenario::new("probe", [Value::string("c")]).call("now", []).call("count", []);
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    assert!(report.is_ok(), "{report}");

    let mut agent = env.create_agent(&component, "probe", &[Value::string("c2")]).unwrap();
    let before = agent.invoke("now", &[]).unwrap();
    let next = agent.oplog().last_index() + 2;
    agent.schedule_crashes([CrashPoint::AfterEntry(next)]);
    let after = agent.invoke("now", &[]).unwrap();
    let (Value::U64(before), Value::U64(after)) = (&before[0], &after[0]) else { panic!("{before:?} {after:?}") };
    assert!(after > before, "{after} after {before}");
    assert!(agent.fresh_values() > 0);
}

/// An HTTP request made with idempotence off is bracketed like any remote
/// write, and a completed one replays: recovery passes over it without
/// sending it again.
#[test]
fn a_completed_non_idempotent_request_replays_after_a_crash() {
    use reprise_testkit::recording::RecordingService;

    let service = RecordingService::start().unwrap();
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[Value::string("h")]).unwrap();
    let args = [Value::string(service.addr().to_string()), Value::string("/pay"), Value::string("x")];
    agent.invoke("http-post-non-idempotent", &args).unwrap();
    assert!(agent.oplog().entries().iter().any(|e| matches!(e, OplogEntry::BeginRemoteWrite(_))));
    agent.crash();
    agent.invoke("count", &[]).unwrap();
    assert_eq!(service.requests().len(), 1, "sent once, replayed after the crash");
}

fn error_entries(agent: &Agent) -> Vec<(bool, String)> {
    agent
        .oplog()
        .entries()
        .iter()
        .filter_map(|e| match e {
            OplogEntry::Error(p) => Some((p.inside_atomic_region, p.error.clone())),
            _ => None,
        })
        .collect()
}

/// Golem retries a deterministic trap (a panic) only inside an atomic region
/// (durable_host/mod.rs, `fixed_decision_for_trap_type`): each failed attempt
/// adds a committed `error` entry, the agent recovers by replay, and the open
/// region is jumped over and runs again live, here until the attempt counter
/// it keeps in the store lets it finish.
#[test]
fn a_panic_inside_an_atomic_region_is_retried_until_it_succeeds() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[Value::string("region")]).unwrap();
    assert_eq!(agent.invoke("panic-in-region-until", &[Value::U64(3)]).unwrap(), [Value::U64(3)]);
    let errors = error_entries(&agent);
    assert_eq!(errors.len(), 2, "two failed attempts: {errors:?}");
    assert!(errors.iter().all(|(inside, message)| *inside && message.contains("panics")), "{errors:?}");
    assert_eq!(agent.recoveries(), 2);
    let jumps = agent.oplog().entries().iter().filter(|e| matches!(e, OplogEntry::Jump(_))).count();
    assert_eq!(jumps, 2, "each retry passes over the region the failed attempt left open");
    // Replay after a crash sees only the successful attempt.
    agent.crash();
    assert_eq!(agent.invoke("count", &[]).unwrap(), [Value::U64(1)]);
}

/// The same panic outside an atomic region is not retried: the agent fails.
#[test]
fn a_panic_outside_an_atomic_region_fails_the_agent_at_once() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[Value::string("plain")]).unwrap();
    let err = agent.invoke("panic-until", &[Value::U64(2)]).unwrap_err();
    assert!(matches!(&err, Error::Trap { .. }) && err.to_string().contains("attempt 1 of 2 panics"), "{err}");
    assert_eq!(error_entries(&agent).len(), 1, "one error entry, no retry");
    assert_eq!(agent.recoveries(), 0);
    assert!(matches!(agent.invoke("count", &[]), Err(Error::AgentFailed(_))));
}

/// Golem's default policy retries three times (`[retry] max_attempts = 3`
/// counts retries), then the agent fails; a host error such as
/// `golem:api/host.trap` is retried outside atomic regions too.
#[test]
fn retries_stop_after_three_and_host_traps_are_retried_too() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[Value::string("stubborn")]).unwrap();
    let err = agent.invoke("panic-in-region-until", &[Value::U64(10)]).unwrap_err();
    assert!(matches!(&err, Error::Trap { .. }) && err.to_string().contains("attempt 4 of 10 panics"), "{err}");
    assert_eq!(error_entries(&agent).len(), 4, "three retries and the final failure");

    let mut agent = env.create_agent(&component, "probe", &[Value::string("gives-up")]).unwrap();
    let err = agent.invoke("host-trap", &[]).unwrap_err();
    assert!(matches!(&err, Error::Trap { message, .. } if message.contains("the agent gave up")), "{err}");
    let errors = error_entries(&agent);
    assert_eq!(errors.len(), 4, "{errors:?}");
    assert!(errors.iter().all(|(inside, _)| !inside));
}

/// Golem commits the buffer once it holds more than
/// `oplog.max_operations_before_commit` (128) entries (services/oplog/primary.rs
/// `add`; worker-executor.toml): of 200 read-local calls in one invocation, a
/// crash after the last loses only those added since that commit.
#[test]
fn a_full_buffer_is_committed_after_128_entries() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[Value::string("many")]).unwrap();
    let started = agent.oplog().last_index() + 1;
    let last = started + 200;
    agent.schedule_crashes([CrashPoint::AfterEntry(last)]);
    agent.invoke("randoms", &[Value::U64(200)]).unwrap();
    let fired = agent.crashes_fired();
    assert_eq!(fired.len(), 1);
    // Entries started+1 ..= started+129 fill the buffer past 128: committed.
    assert_eq!(fired[0].lost, Some((started + 130, last)), "{fired:?}");
    let live = live_runs(&agent, RANDOM);
    assert_eq!(live.iter().filter(|l| **l).count(), 200 + 71, "the 71 lost calls ran live again");
}

/// Golem records nothing when `async-invoke-and-await` is called; each `get`
/// of the future is a write-remote host call, and the call's span ends with
/// the first that answers (durable_host/wasm_rpc/mod.rs). Replay answers the
/// `get` from the oplog without calling the callee again.
#[test]
fn an_async_rpc_call_is_recorded_by_its_get() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut caller = env.create_agent(&component, "probe", &[Value::string("caller")]).unwrap();
    assert_eq!(caller.invoke("rpc-async", &[Value::string("callee")]).unwrap(), [Value::U64(1)]);
    let calls: Vec<String> = caller.host_calls().into_iter().map(|c| c.function).collect();
    let gets = calls.iter().filter(|c| *c == "golem::rpc::future-invoke-result::get").count();
    assert_eq!(gets, 1, "{calls:?}");
    assert!(!calls.iter().any(|c| c.contains("async")), "{calls:?}");
    // Nothing is recorded for the call until the guest waits and gets: the
    // poll comes first, then the get, then the end of the call's span.
    let shape = oplog_shape(&caller);
    let at = |name: &str| shape.iter().rposition(|s| s == name).unwrap_or_else(|| panic!("{name}: {shape:?}"));
    let get = at("golem::rpc::future-invoke-result::get");
    assert_eq!(shape[get - 1], "io::poll::poll", "{shape:?}");
    assert_eq!(shape[get - 2], "start-span", "the call's span, and no entry for the call itself: {shape:?}");
    assert_eq!(shape[get + 1], "finish-span", "{shape:?}");

    let scenario = Scenario::new("probe", [Value::string("caller-2")])
        .call("rpc-async", [Value::string("callee-2")])
        .call("rpc-async", [Value::string("callee-2")]);
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.reference.results[1], Ok(vec![Value::U64(2)]), "the callee counted each call once");
}

/// Crash points of the model: a crash anywhere in a stretch of uncommitted
/// reads loses only reads, which recovery runs again as after the commit
/// before them, so one run per commit, per effect-losing stretch and per
/// before-persist window covers every outcome. On scenarios where
/// every-entry verification passes or fails, the distinct plan agrees, with
/// fewer runs.
#[test]
fn the_distinct_plan_finds_what_every_entry_finds_with_fewer_runs() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let cases = [
        (Scenario::new("probe", [Value::string("d1")]).call("stamp", []), false),
        (Scenario::new("probe", [Value::string("d2")]).call("stamp-key", []), true),
        (Scenario::new("probe", [Value::string("d3")]).call("randoms", [Value::U64(20)]).call("count", []), true),
        (Scenario::new("probe", [Value::string("d4")]).call("read-then-delete", []), false),
        (Scenario::new("probe", [Value::string("d5")]).call("read-commit-then-delete", []), true),
        (
            Scenario::new("probe", [Value::string("d6")]).call("transfer", [Value::string("a"), Value::string("b")]),
            true,
        ),
    ];
    for (scenario, passes) in cases {
        let every = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
        let distinct = verify(&env, &component, &scenario, &CrashPlan::distinct_outcomes()).unwrap();
        assert_eq!(every.is_ok(), passes, "{every}");
        assert_eq!(distinct.is_ok(), passes, "{distinct}");
        assert!(distinct.runs <= every.runs, "{distinct}\n{every}");
    }
    // Twenty buffered reads: one crash point after their commit, not twenty.
    let scenario = Scenario::new("probe", [Value::string("d7")]).call("randoms", [Value::U64(20)]);
    let every = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    let distinct = verify(&env, &component, &scenario, &CrashPlan::distinct_outcomes()).unwrap();
    assert!(distinct.runs + 19 <= every.runs, "{} vs {}", distinct.runs, every.runs);
}

/// Crashed runs that start at their first crash and stop where they rejoin
/// the crash-free run reach exactly the verdicts of runs from the beginning
/// to the end, for passing and failing scenarios and every kind of plan.
#[test]
fn runs_started_at_the_crash_reach_the_verdicts_of_runs_from_the_start() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let s = Value::string;
    let scenario = |name: &str| Scenario::new("probe", [Value::string(name)]);
    let cases = [
        // Passes, and rejoins right after the interrupted call.
        scenario("s1").call("count", []).call("put", [s("a"), s("1")]).call("count", []).call("get", [s("a")]),
        // Fails: a clock value written again after a crash.
        scenario("s2").call("count", []).call("stamp", []).call("count", []),
        // Passes; values drawn after a recovery keep it from rejoining early.
        scenario("s3").call("randoms", [Value::U64(3)]).call("count", []).call("now", []).call("count", []),
        // Fails: a read lost in a crash sees the first attempt's delete.
        scenario("s4").call("put", [s("k"), s("v")]).call("read-then-delete", []).call("count", []),
        // Passes: an atomic region runs again whole.
        scenario("s5").call("transfer", [s("a"), s("b")]).call("count", []).call("transfer", [s("b"), s("a")]),
        scenario("s6").call("blob-put", [s("c"), s("o"), s("data")]).call("count", []).call("stamp-key", []),
        scenario("s7").call("log", [s("hello")]).call("kv-batch", []).call("idempotency-key", []).call("count", []),
    ];
    let plans = [
        CrashPlan::distinct_outcomes(),
        CrashPlan::every_entry(),
        CrashPlan::Random { seed: 7, trials: 12, crashes_per_run: 3 },
    ];
    let (mut started, mut rejoined, mut failing) = (0, 0, 0);
    for scenario in &cases {
        for plan in &plans {
            let shortcut = verify(&env, &component, scenario, plan).unwrap();
            let whole = verify_from_start(&env, &component, scenario, plan).unwrap();
            assert_eq!(verdict(&shortcut), verdict(&whole), "{scenario:?} {plan:?}\n{shortcut}\n{whole}");
            assert_eq!(whole.started_at_crash, 0);
            started += shortcut.started_at_crash;
            rejoined += shortcut.rejoined;
            failing += usize::from(!shortcut.is_ok());
        }
    }
    assert!(failing >= 4, "the failing scenarios fail: {failing}");
    assert!(started > 200 && rejoined > 100, "the shortcut is taken: {started} started, {rejoined} rejoined");
}

/// What a verification found, without its timing and bookkeeping.
fn verdict(report: &VerificationReport) -> impl PartialEq + std::fmt::Debug {
    (
        report.runs,
        report.crashes_fired,
        report.recovered,
        report.retried_effects,
        report.failures.clone(),
        report.reference.clone(),
    )
}

/// A side effect inside a function declared read-remote repeats after a
/// crash: the report names the function and its type, the rule it breaks,
/// how the stores differ, and how to run that crash alone.
#[test]
fn a_write_inside_a_read_remote_function_is_reported_with_its_rule_and_store_diff() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let scenario = Scenario::new("probe", [Value::string("auditor")]).call("audit", [Value::string("acct")]);
    for plan in [CrashPlan::distinct_outcomes(), CrashPlan::every_entry()] {
        let report = verify(&env, &component, &scenario, &plan).unwrap();
        assert!(!report.is_ok(), "{report}");
        for failure in &report.failures {
            let rule = failure.rule.as_deref().unwrap_or_default();
            assert!(rule.contains("`ledger::lookup` is declared read-remote"), "{failure}");
            assert!(rule.contains("declare it write-remote"), "{failure}");
            assert_eq!(failure.store_diff, [r#"audit/acct: "1" in the crash-free run, "2" here"#], "{failure}");
            assert!(failure.to_string().contains("(reproduce with CrashPlan::Points("), "{failure}");
        }
    }
    // A plain write, committed as it ends, breaks no rule.
    let fine = Scenario::new("probe", [Value::string("fine")]).call("put", [Value::string("k"), Value::string("v")]);
    let report = verify(&env, &component, &fine, &CrashPlan::every_entry()).unwrap();
    assert!(report.is_ok(), "{report}");
}

/// A call that traps is that call's outcome, not the end of the test: the
/// agent fails (outside an atomic region, at once, as on Golem), the calls
/// after it report the failure, and every crashed run must end the same way.
#[test]
fn a_call_that_traps_is_its_outcome_and_the_calls_after_it_see_the_failure() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let scenario = Scenario::new("probe", [Value::string("t")]).call("count", []).call("trap", []).call("count", []);
    for plan in [CrashPlan::distinct_outcomes(), CrashPlan::every_entry()] {
        let report = verify(&env, &component, &scenario, &plan).unwrap();
        assert!(report.is_ok() && report.crashes_fired > 0, "{report}");
        let results = &report.reference.results;
        assert_eq!(results[0], Ok(vec![Value::U64(1)]));
        assert!(matches!(&results[1], Err(CallError::Failed(m)) if m.contains("probe asked to trap")), "{results:?}");
        assert!(matches!(&results[2], Err(CallError::Failed(m)) if m.contains("failed")), "{results:?}");
    }
}

/// A failing run of several crashes is shrunk to the fewest of them that
/// still fail, and a failure under a seeded schedule loses the schedule when
/// the agent fails taking turns in order too: the report's MINIMAL line is
/// the smallest run to reproduce.
#[test]
fn a_failure_is_shrunk_to_the_fewest_crashes_and_no_schedule_it_needs() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let s = Value::string;
    let scenario = Scenario::new("probe", [s("auditor")])
        .call("count", [])
        .call("audit", [s("acct")])
        .call("count", [])
        .call("put", [s("k"), s("v")]);
    let report =
        verify(&env, &component, &scenario, &CrashPlan::Random { seed: 3, trials: 20, crashes_per_run: 3 }).unwrap();
    assert!(!report.is_ok(), "{report}");
    let first = &report.failures[0];
    let minimal = report.minimal.as_ref().expect("a failure of several crashes is shrunk");
    assert!(minimal.crashes.len() < first.crashes.len(), "{report}");
    assert!(minimal.crashes.iter().all(|c| first.crashes.contains(c)), "{report}");
    assert!(report.to_string().contains("\n  MINIMAL "), "{report}");
    // Its crashes alone fail a run; with any one of them dropped, the run passes.
    let points = |crashes: Vec<reprise_testkit::verify::AgentCrash>| CrashPlan::Points(vec![crashes]);
    assert!(!verify(&env, &component, &scenario, &points(minimal.crashes.clone())).unwrap().is_ok());
    for skip in 0..minimal.crashes.len() {
        let mut fewer = minimal.crashes.clone();
        fewer.remove(skip);
        if !fewer.is_empty() {
            assert!(verify(&env, &component, &scenario, &points(fewer)).unwrap().is_ok());
        }
    }

    // Under seeded schedules: the same failure happens taking turns in order.
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry().under_schedules(0..3)).unwrap();
    assert_eq!(report.failures[0].schedule, Some(reprise_testkit::Schedule::Seeded(0)), "{report}");
    let minimal = report.minimal.as_ref().expect("a failure under a schedule is shrunk");
    assert_eq!(minimal.schedule, None, "{report}");
    assert_eq!(minimal.crashes, report.failures[0].crashes);
}
