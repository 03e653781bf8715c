//! Agents in the testkit: invocation, oplog, host calls, crashes and replay,
//! using the `probe` test guest (written against the raw bindings).
// Tests fail by unwrapping and panicking, with the value in the message.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use reprise_e2e::build_test_guest;
use reprise_testkit::oplog::OplogEntry;
use reprise_testkit::value::Value;
use reprise_testkit::verify::{CrashPlan, Scenario, run_twice, verify};
use reprise_testkit::{CrashPoint, Environment, Error, LoadedComponent};

fn probe(env: &Environment) -> LoadedComponent {
    env.load(build_test_guest("probe")).expect("probe loads")
}

fn s(v: &str) -> Value {
    Value::string(v)
}

/// A scenario touching every journaled host behaviour of the probe.
fn everything() -> Scenario {
    Scenario::new("probe", [s("p1")])
        .call("count", [])
        .call("put", [s("colour"), s("green")])
        .call("get", [s("colour")])
        .call("now", [])
        .call("random", [])
        .call("idempotency-key", [])
        .call("charge", [s("alice"), Value::U64(250)])
        .call("transfer", [s("from"), s("to")])
        .call("blob-put", [s("docs"), s("a.txt"), s("hello blobs")])
        .call("blob-get", [s("docs"), s("a.txt"), Value::U64(6), Value::U64(9)])
        .call("blob-list", [s("docs")])
        .call("log", [s("halfway")])
        .call("traced", [s("o-17")])
        .call("count", [])
        .call("get", [s("missing")])
}

#[test]
fn invokes_methods_and_keeps_state() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[s("p1")]).unwrap();
    assert_eq!(agent.invoke("name", &[]).unwrap(), [s("p1")]);
    assert_eq!(agent.invoke("count", &[]).unwrap(), [Value::U64(1)]);
    assert_eq!(agent.invoke("count", &[]).unwrap(), [Value::U64(2)]);
    agent.invoke("put", &[s("k"), s("v")]).unwrap();
    assert_eq!(agent.invoke("get", &[s("k")]).unwrap(), [Value::option(Some(s("v")))]);
    assert_eq!(env.kv_contents()["probe"]["k"], b"v");

    let err = agent.invoke("no-such-method", &[]).unwrap_err();
    assert!(matches!(&err, Error::Agent(m) if m.contains("no method no-such-method")), "{err}");
}

#[test]
fn blobs_stream_in_and_read_back_by_inclusive_range() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[s("b")]).unwrap();
    agent.invoke("blob-put", &[s("docs"), s("a.txt"), s("hello blobs")]).unwrap();
    agent.invoke("blob-put", &[s("docs"), s("b.txt"), s("second")]).unwrap();
    agent.invoke("blob-put", &[s("docs"), s("c.txt"), s("third")]).unwrap();
    assert_eq!(env.blob_contents()["docs"]["a.txt"], b"hello blobs");
    // Offsets are inclusive; an end past the object is clamped.
    let get = |agent: &mut reprise_testkit::Agent, start: u64, end: u64| {
        agent.invoke("blob-get", &[s("docs"), s("a.txt"), Value::U64(start), Value::U64(end)])
    };
    assert_eq!(get(&mut agent, 6, 9).unwrap(), [s("blob")]);
    assert_eq!(get(&mut agent, 0, u64::MAX).unwrap(), [s("hello blobs")]);
    let bad = get(&mut agent, 20, 30).unwrap_err();
    assert!(bad.to_string().contains("invalid range 20..=30: object `a.txt` has 11 bytes"), "{bad}");
    let missing = agent.invoke("blob-get", &[s("nope"), s("a.txt"), Value::U64(0), Value::U64(1)]).unwrap_err();
    assert!(missing.to_string().contains("container `nope` does not exist"), "{missing}");
    assert_eq!(agent.invoke("blob-list", &[s("docs")]).unwrap(), [s("a.txt,b.txt,c.txt")]);
}

#[test]
fn spans_nest_carry_attributes_and_are_recorded() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[s("t")]).unwrap();
    let report = agent.invoke("traced", &[s("o-17")]).unwrap();
    // The chain of `name`s ends with the invocation's own span, as on Golem.
    assert_eq!(
        report,
        [s(
            "chain=payment>order>invoke-exported-function order-id=o-17 own=false parent-is-order=true traceparent=true"
        )]
    );
    let spans: Vec<String> = agent
        .oplog()
        .entries()
        .iter()
        .filter_map(|e| match e {
            OplogEntry::StartSpan(p) => Some(format!("start {}", p.attributes[0].key)),
            OplogEntry::SetSpanAttribute(p) => Some(format!("attr {}", p.key)),
            OplogEntry::FinishSpan(_) => Some("finish".into()),
            _ => None,
        })
        .collect();
    assert_eq!(spans, ["start name", "attr order-id", "start name", "attr provider", "finish", "finish"]);
    // Parent links: the payment span's parent is the order span.
    let starts: Vec<_> = agent
        .oplog()
        .entries()
        .iter()
        .filter_map(|e| if let OplogEntry::StartSpan(p) = e { Some(p.clone()) } else { None })
        .collect();
    assert_eq!(starts[1].parent.as_deref(), Some(starts[0].span_id.as_str()));

    // Replay reproduces the same spans (ids included) without new entries.
    let len = agent.oplog().len();
    agent.crash();
    assert_eq!(agent.invoke("name", &[]).unwrap(), [s("t")]);
    assert_eq!(agent.oplog().len(), len + 2, "only the new invocation was recorded");
}

#[test]
fn an_agent_reads_and_searches_its_own_oplog() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[s("o")]).unwrap();
    agent.invoke("put", &[s("a"), s("1")]).unwrap(); // entries 4..=6, the set at 5
    agent.invoke("put", &[s("b"), s("2")]).unwrap(); // the set at 8
    let summary = agent.invoke("own-oplog", &[s("eventual::set")]).unwrap();
    // create, initialization and two puts (start, set, finish), this
    // invocation's start and its metadata read: the oplog as it was when the
    // read began.
    assert_eq!(summary, [s("total=11 host-calls=3 found=5,8")]);
    // The pages are journaled: replay returns what the live run saw.
    agent.crash();
    agent.invoke("name", &[]).unwrap();
    assert_eq!(agent.recoveries(), 1);
}

#[test]
fn agents_are_enumerated_with_filters() {
    let env = Environment::builder().config("region", "eu-west").build().unwrap();
    let component = probe(&env);
    let mut admin = env.create_agent(&component, "probe", &[s("admin")]).unwrap();
    for name in ["cart-1", "cart-2", "user-1"] {
        env.create_agent(&component, "probe", &[s(name)]).unwrap();
    }
    let mut broken = env.create_agent(&component, "probe", &[s("cart-3")]).unwrap();
    let _ = broken.invoke("trap", &[]);

    let listed = admin.invoke("list-agents", &[s("%cart-%")]).unwrap();
    assert_eq!(
        listed,
        [s(r#"probe("cart-1"):AgentStatus::Idle probe("cart-2"):AgentStatus::Idle"#)],
        "cart-3 failed and is filtered out; user-1 does not match"
    );
    // The calling agent sees itself as running.
    let me = admin.invoke("list-agents", &[s("%admin%")]).unwrap();
    assert_eq!(me, [s(r#"probe("admin"):AgentStatus::Running"#)]);

    assert_eq!(admin.invoke("config", &[s("region")]).unwrap(), [Value::option(Some(s("eu-west")))]);
    assert_eq!(admin.invoke("config", &[s("zone")]).unwrap(), [Value::option(None)]);
    let records = env.agents();
    assert_eq!(records.len(), 5);
    assert!(records.iter().all(|r| r.config == [("region".to_string(), "eu-west".to_string())]));

    // Enumeration results are journaled: replay sees the list the live run saw.
    env.create_agent(&component, "probe", &[s("cart-4")]).unwrap();
    admin.crash();
    admin.invoke("name", &[]).unwrap();
}

#[test]
fn logs_are_recorded_once_even_when_replayed() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[s("l")]).unwrap();
    agent.invoke("log", &[s("first")]).unwrap();
    agent.crash();
    agent.invoke("log", &[s("second")]).unwrap();
    let messages: Vec<String> = agent.logs().into_iter().map(|l| l.message).collect();
    assert_eq!(messages, ["first", "second"]);
    let logged = agent.oplog().entries().iter().filter(|e| matches!(e, OplogEntry::Log(_))).count();
    assert_eq!(logged, 2);
}

#[test]
fn host_calls_are_journaled_and_recorded() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[s("p1")]).unwrap();
    agent.invoke("put", &[s("k"), s("v")]).unwrap();
    agent.invoke("get", &[s("k")]).unwrap();

    let functions: Vec<String> = agent.host_calls().into_iter().map(|c| c.function).collect();
    assert_eq!(functions, ["keyvalue::eventual::set", "keyvalue::eventual::get"]);

    let kinds: Vec<&str> = agent
        .oplog()
        .entries()
        .iter()
        .map(|e| match e {
            OplogEntry::Create(_) => "create",
            OplogEntry::AgentInvocationStarted(_) => "started",
            OplogEntry::AgentInvocationFinished(_) => "finished",
            OplogEntry::HostCall(_) => "host-call",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        ["create", "started", "finished", "started", "host-call", "finished", "started", "host-call", "finished"]
    );
}

#[test]
fn a_crash_mid_invocation_recovers_by_replay() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[s("p1")]).unwrap();
    assert_eq!(agent.invoke("count", &[]).unwrap(), [Value::U64(1)]);
    let before = agent.oplog().len();

    // Crash right after the idempotency key of the charge is persisted: the
    // key is replayed, the payment happens once, and the call completes.
    agent.schedule_crashes([CrashPoint::AfterEntry(before + 2)]);
    let receipt = agent.invoke("charge", &[s("bob"), Value::U64(10)]).unwrap();
    assert_eq!(agent.crashes_fired().len(), 1);
    assert_eq!(agent.recoveries(), 1, "recovered once");
    let ledger = &env.kv_contents()["ledger"];
    assert_eq!(ledger.len(), 1, "{ledger:?}");
    assert!(matches!(receipt.as_slice(), [Value::U64(_)]));

    // In-memory state was rebuilt by replaying `count`.
    assert_eq!(agent.invoke("count", &[]).unwrap(), [Value::U64(2)]);
    // Replayed host calls are marked as such.
    assert!(agent.host_calls().iter().any(|c| c.replayed));
}

#[test]
fn crash_at_every_oplog_index_recovers_to_the_reference() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let report = verify(&env, &component, &everything(), &CrashPlan::every_entry()).unwrap();
    println!("{report}");
    assert!(report.is_ok(), "{report}");
    let reference_len = report.reference.oplog_len as usize;
    assert!(report.runs > reference_len - 1, "every index plus before-persist points: {report}");
    assert_eq!(report.recovered, report.runs);
    assert!(report.crashes_fired >= report.runs - 1, "{report}");
    // Crashing after the side effect but before its entry repeats it, with the same key.
    assert!(report.retried_effects > 0, "{report}");
}

#[test]
fn random_crash_points_are_reproducible_from_the_seed() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let plan = CrashPlan::Random { seed: 42, trials: 25, crashes_per_run: 3 };
    let a = verify(&env, &component, &everything(), &plan).unwrap();
    let b = verify(&env, &component, &everything(), &plan).unwrap();
    assert!(a.is_ok(), "{a}");
    assert_eq!(a.seed, Some(42));
    assert_eq!((a.runs, a.crashes_fired, a.retried_effects), (b.runs, b.crashes_fired, b.retried_effects));
    assert!(a.crashes_fired > 25, "several crashes per run: {a}");
}

#[test]
fn the_same_script_twice_gives_identical_oplogs() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    assert_eq!(run_twice(&env, &component, &everything()).unwrap(), Ok(()));
}

#[test]
fn turning_persistence_off_while_replaying_is_caught_with_a_precise_report() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[s("p1")]).unwrap();
    agent.invoke("set-mode", &[s("a")]).unwrap();
    agent.invoke("flaky", &[]).unwrap(); // reads the clock while mode is "a"
    agent.invoke("set-mode", &[s("b")]).unwrap();
    let flaky_clock = agent
        .oplog()
        .entries()
        .iter()
        .position(|e| matches!(e, OplogEntry::HostCall(p) if p.function_name == "wall_clock::now"))
        .expect("the clock read is recorded") as u64
        + 1;

    agent.crash();
    let err = agent.invoke("count", &[]).unwrap_err();
    let Error::Divergence(d) = &err else { panic!("expected a divergence, got {err}") };
    assert_eq!(d.oplog_index, flaky_clock);
    assert_eq!(d.expected, "host call `wall_clock::now` (read-local)");
    // `flaky` reads the mode with persistence off; Golem passes over that
    // zone on replay, so the level change itself cannot be replayed.
    assert!(d.actual.starts_with("changed the persistence level to persist-nothing"), "{}", d.actual);
    assert!(err.to_string().starts_with(&format!("replay diverged at oplog index {flaky_clock}")), "{err}");
}

#[test]
fn traps_loops_and_memory_hogs_end_with_clear_errors() {
    let env = Environment::builder()
        .invocation_timeout(Duration::from_millis(500))
        .memory_limit(64 * 1024 * 1024)
        .build()
        .unwrap();
    let component = probe(&env);

    let mut trapper = env.create_agent(&component, "probe", &[s("t")]).unwrap();
    let err = trapper.invoke("trap", &[]).unwrap_err();
    assert!(matches!(&err, Error::Trap { stderr, .. } if stderr.contains("probe asked to trap")), "{err}");
    // The report leads with why it trapped and what the guest said; frames follow.
    let report = err.to_string();
    let first = report.lines().next().unwrap();
    assert!(first.starts_with("the guest trapped: ") && first.contains("unreachable"), "{report}");
    let said = report.find("probe asked to trap").unwrap();
    assert!(report.find("wasm backtrace").is_none_or(|frames| said < frames), "{report}");
    let oplog_len = trapper.oplog().len();
    assert!(matches!(trapper.oplog().entries().last(), Some(OplogEntry::Error(_))));
    assert!(matches!(trapper.invoke("count", &[]), Err(Error::AgentFailed(_))));
    assert_eq!(trapper.oplog().len(), oplog_len, "the oplog is kept as it was");

    let started = Instant::now();
    let mut looper = env.create_agent(&component, "probe", &[s("l")]).unwrap();
    let err = looper.invoke("loop", &[]).unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));

    let mut hog = env.create_agent(&component, "probe", &[s("h")]).unwrap();
    let err = hog.invoke("oom", &[]).unwrap_err();
    assert!(matches!(err, Error::MemoryLimit { limit } if limit == 64 * 1024 * 1024), "{err}");

    // The environment keeps working for the next agent.
    let mut next = env.create_agent(&component, "probe", &[s("n")]).unwrap();
    assert_eq!(next.invoke("count", &[]).unwrap(), [Value::U64(1)]);
}

#[test]
fn agents_together_stay_within_the_environments_memory_budget() {
    let env = Environment::builder().memory_limit(64 << 20).total_memory_limit(100 << 20).build().unwrap();
    let component = probe(&env);
    let mut first = env.create_agent(&component, "probe", &[s("a")]).unwrap();
    first.invoke("hold", &[Value::U64(40)]).unwrap();
    let mut second = env.create_agent(&component, "probe", &[s("b")]).unwrap();
    second.invoke("hold", &[Value::U64(40)]).unwrap();
    // Each is far below its own limit; the third passes the total.
    let mut third = env.create_agent(&component, "probe", &[s("c")]).unwrap();
    let err = third.invoke("hold", &[Value::U64(40)]).unwrap_err();
    assert!(matches!(err, Error::MemoryBudget { limit } if limit == 100 << 20), "{err}");
    assert!(err.to_string().contains("hold their total of 104857600 bytes"), "{err}");
    // Agents that go give their memory back.
    drop((first, third));
    let mut fourth = env.create_agent(&component, "probe", &[s("d")]).unwrap();
    fourth.invoke("hold", &[Value::U64(40)]).unwrap();
}

#[test]
fn a_file_backed_agent_survives_its_process() {
    use reprise_testkit::oplog::Oplog;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("probe.oplog");
    let env = Environment::new().unwrap();
    let component = probe(&env);
    {
        let oplog = Oplog::create_file(&path).unwrap();
        let mut agent = env.agent_with_oplog(&component, "probe", &[s("f")], oplog).unwrap();
        agent.invoke("count", &[]).unwrap();
        agent.invoke("count", &[]).unwrap();
        agent.invoke("put", &[s("k"), s("v")]).unwrap();
        // The process ends here: memory and instance are gone, the file stays.
    }
    let (oplog, damage) = Oplog::open_file(&path).unwrap();
    assert_eq!(damage, None);
    let mut agent = env.agent_with_oplog(&component, "probe", &[s("f")], oplog).unwrap();
    assert_eq!(agent.invoke("count", &[]).unwrap(), [Value::U64(3)], "memory rebuilt by replay");

    // A foreign oplog is refused with a clear message.
    let (oplog, _) = Oplog::open_file(&path).unwrap();
    let err = env.agent_with_oplog(&component, "probe", &[s("other")], oplog).unwrap_err();
    assert!(err.to_string().contains("belongs to agent `probe(\"f\")`"), "{err}");
}

#[test]
fn a_torn_oplog_tail_is_reported_and_the_agent_resumes_from_the_intact_entries() {
    use reprise_testkit::oplog::Oplog;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("probe.oplog");
    let env = Environment::new().unwrap();
    let component = probe(&env);
    {
        let oplog = Oplog::create_file(&path).unwrap();
        let mut agent = env.agent_with_oplog(&component, "probe", &[s("t")], oplog).unwrap();
        agent.invoke("count", &[]).unwrap();
        agent.invoke("count", &[]).unwrap();
    }
    // Tear the last record (the end of the second `count`).
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(len - 5).unwrap();

    let (oplog, damage) = Oplog::open_file(&path).unwrap();
    let damage = damage.expect("the torn record is reported");
    assert!(damage.reason.starts_with("truncated record"), "{damage}");
    let intact = oplog.len();
    // Resuming replays the first count and completes the interrupted second one.
    let mut agent = env.agent_with_oplog(&component, "probe", &[s("t")], oplog).unwrap();
    assert_eq!(agent.oplog().len(), intact + 1, "the interrupted invocation's end was written again");
    assert_eq!(agent.invoke("count", &[]).unwrap(), [Value::U64(3)]);
}

#[test]
fn outgoing_http_is_journaled_and_replayed_without_a_second_request() {
    use reprise_testkit::recording::RecordingService;

    let service = RecordingService::start().unwrap();
    let authority = service.addr().to_string();
    let env = Environment::builder().recording_service(&service).build().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[s("h")]).unwrap();
    let reply = agent.invoke("http-post", &[s(&authority), s("/payments"), s("42")]).unwrap();
    assert_eq!(reply, [s("200 accepted 2 bytes")]);
    let requests = service.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/payments");
    assert_eq!(requests[0].body, b"42");
    let key = requests[0].idempotency_key.clone().expect("an idempotency key header");
    assert_eq!(key.len(), 32);

    // Replay returns the recorded response; the service sees nothing new.
    agent.crash();
    agent.invoke("name", &[]).unwrap();
    assert_eq!(service.requests().len(), 1);

    // A failing service is journaled too.
    service.fail_next(1);
    let reply = agent.invoke("http-post", &[s(&authority), s("/payments"), s("7")]).unwrap();
    assert_eq!(reply, [s("503 unavailable")]);
}

#[test]
fn http_side_effects_happen_once_per_crash_point_except_retries_with_the_same_key() {
    use reprise_testkit::recording::RecordingService;

    let service = RecordingService::start().unwrap();
    let authority = service.addr().to_string();
    let env = Environment::builder().recording_service(&service).build().unwrap();
    let component = probe(&env);
    let scenario = Scenario::new("probe", [s("pay")])
        .call("http-post", [s(&authority), s("/payments"), s("100")])
        .call("count", [])
        .call("http-post", [s(&authority), s("/payments"), s("200")]);
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    println!("{report}");
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.reference.http_requests.len(), 2);
    // The before-persist crashes repeat a request, with the same key.
    assert!(report.retried_effects >= 2, "{report}");
}

/// The README's demo scenario: every journaled capability in one agent,
/// including a retry path (creating a container twice) that adds host calls.
#[test]
fn the_full_scenario_recovers_at_every_point_and_at_random_points() {
    use reprise_testkit::recording::RecordingService;

    let service = RecordingService::start().unwrap();
    let authority = service.addr().to_string();
    let env = Environment::builder().recording_service(&service).build().unwrap();
    let component = probe(&env);
    let scenario = Scenario::new("probe", [s("demo")])
        .call("count", [])
        .call("put", [s("colour"), s("green")])
        .call("charge", [s("alice"), Value::U64(250)])
        .call("transfer", [s("checking"), s("savings")])
        .call("blob-put", [s("docs"), s("note.txt"), s("durable")])
        .call("http-post", [s(&authority), s("/payments"), s("250")])
        .call("traced", [s("order-7")])
        .call("idempotency-key", [])
        .call("count", []);
    let every = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    assert!(every.is_ok(), "{every}");
    let random =
        verify(&env, &component, &scenario, &CrashPlan::Random { seed: 2026, trials: 40, crashes_per_run: 3 }).unwrap();
    assert!(random.is_ok(), "{random}");
}

#[test]
fn agents_update_to_compatible_revisions_and_refuse_diverging_ones() {
    use reprise_e2e::build_test_guest_with;

    let env = Environment::new().unwrap();
    let v1 = probe(&env);
    let v2 = env.load_revision(&v1, build_test_guest_with("probe", "v2")).unwrap();
    let bad = env.load_revision(&v1, build_test_guest_with("probe", "v2-incompatible")).unwrap();
    assert_eq!((v1.revision(), v2.revision(), bad.revision()), (0, 1, 2));

    let mut agent = env.create_agent(&v1, "probe", &[s("u")]).unwrap();
    agent.invoke("count", &[]).unwrap();
    agent.invoke("count", &[]).unwrap();

    // Replaying `count` on the incompatible revision diverges: the update fails.
    let failed = agent.update(2, true).unwrap();
    assert!(failed.as_ref().is_err_and(|e| e.contains("replay diverged")), "{failed:?}");
    assert!(matches!(agent.oplog().entries().last(), Some(OplogEntry::FailedUpdate(_))));
    assert_eq!(agent.revision(), 0);
    assert_eq!(agent.invoke("name", &[]).unwrap(), [s("u")]);

    // Another agent asks for the compatible revision through golem:api/host.
    let mut admin = env.create_agent(&v1, "probe", &[s("admin")]).unwrap();
    admin.invoke("update", &[s(agent.id()), Value::U64(1)]).unwrap();
    assert_eq!(agent.invoke("name", &[]).unwrap(), [s("u (v2)")], "applied before the next call");
    assert_eq!(agent.revision(), 1);
    assert_eq!(agent.invoke("count", &[]).unwrap(), [Value::U64(3)], "state survived the update");
    assert!(
        agent.oplog().entries().iter().any(|e| matches!(e, OplogEntry::SuccessfulUpdate(p) if p.target_revision == 1))
    );
    assert_eq!(env.agents().iter().find(|r| r.name == agent.id()).unwrap().revision, 1);

    // A revision that does not exist fails cleanly.
    assert!(agent.update(9, true).unwrap().is_err_and(|e| e.contains("no revision 9")));
}

#[test]
fn setting_the_oplog_index_travels_back_and_replay_skips_the_region() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[s("r")]).unwrap();
    assert_eq!(agent.invoke("retry-until", &[Value::U64(3)]).unwrap(), [Value::U64(3)]);
    let jumps = agent.oplog().entries().iter().filter(|e| matches!(e, OplogEntry::Jump(_))).count();
    assert_eq!(jumps, 2, "two attempts were travelled back over");
    // Each travel back restarted the agent: replay passed over the jumped regions.
    assert_eq!(agent.recoveries(), 2);
    assert_eq!(agent.invoke("count", &[]).unwrap(), [Value::U64(1)]);
    // Each pass read the attempt counter live; replay passes over the
    // jumped passes and sees only the last one's reading, so it recovers.
    agent.crash();
    assert_eq!(agent.invoke("count", &[]).unwrap(), [Value::U64(2)]);
    assert_eq!(agent.recoveries(), 3);
}

#[test]
fn an_atomic_region_interrupted_by_a_crash_is_run_again_from_its_start() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[s("a")]).unwrap();
    // Entries of `transfer`: started, begin region, set from, set to, end region, finished.
    let first_write = agent.oplog().len() + 3;
    agent.schedule_crashes([CrashPoint::AfterEntry(first_write)]);
    agent.invoke("transfer", &[s("from"), s("to")]).unwrap();
    let jump =
        agent.oplog().entries().iter().find_map(|e| if let OplogEntry::Jump(p) = e { Some(p.jump) } else { None });
    let jump = jump.expect("the interrupted region is jumped over");
    // Golem's encoding: from the entry after the region's begin up to the
    // jump entry itself (which follows the last entry kept).
    assert_eq!((jump.start, jump.end), (first_write, first_write + 1), "after the region's begin, to the jump");
    let writes: Vec<_> = env.kv_writes().into_iter().map(|w| w.key).collect();
    assert_eq!(writes, ["from", "from", "to"], "the region ran again from its start");
    assert!(matches!(agent.oplog().entries().iter().rev().nth(1), Some(OplogEntry::EndAtomicRegion(_))));
}

#[test]
fn batch_key_value_operations_and_their_errors() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[s("kv")]).unwrap();
    let summary = agent.invoke("kv-batch", &[]).unwrap();
    assert_eq!(summary, [s("got=v0,-,v2 keys=k0,k2 k1=false size=Some(2) bad=a bucket name must not be empty")]);
    assert_eq!(env.kv_contents()["batch"].keys().collect::<Vec<_>>(), ["k2"]);
}

#[test]
fn blob_copy_move_delete_and_their_errors() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[s("blob")]).unwrap();
    let summary = agent.invoke("blob-ops", &[]).unwrap();
    assert_eq!(
        summary,
        [s("size=7 a_has=false missing=object `copy` does not exist in container `b` empty=true gone=true")]
    );
}

#[test]
fn host_trap_and_idempotence_mode() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[s("t")]).unwrap();
    assert_eq!(agent.invoke("idempotence", &[]).unwrap(), [s("true->false")]);
    let err = agent.invoke("host-trap", &[]).unwrap_err();
    assert!(matches!(&err, Error::Trap { message, .. } if message.contains("the agent gave up")), "{err}");
}

#[test]
fn a_slow_service_delays_but_does_not_duplicate() {
    use reprise_testkit::recording::RecordingService;

    let service = RecordingService::start().unwrap();
    service.delay(Duration::from_millis(200));
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[s("slow")]).unwrap();
    let started = Instant::now();
    let reply = agent.invoke("http-post", &[s(&service.addr().to_string()), s("/slow"), s("x")]).unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(reply, [s("200 accepted 1 bytes")]);
    assert_eq!(service.requests().len(), 1);
}

#[test]
fn enumeration_configuration_and_batches_recover_at_every_point() {
    let env = Environment::builder().config("region", "eu-west").build().unwrap();
    let component = probe(&env);
    let scenario = Scenario::new("probe", [s("cart-1")])
        .call("config", [s("region")])
        .call("list-agents", [s("%cart%")])
        .call("kv-batch", [])
        .call("idempotence", [])
        .call("log", [s("done")]);
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.reference.results[0], Ok(vec![Value::option(Some(s("eu-west")))]));
}

#[test]
fn durable_functions_run_once_and_replay_their_recorded_result() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[s("d")]).unwrap();
    assert_eq!(agent.invoke("refund", &[s("bob"), Value::U64(30)]).unwrap(), [s("refunded 30 to bob")]);
    let err = agent.invoke("refund", &[s("bob"), Value::U64(0)]).unwrap_err();
    assert!(err.to_string().contains("nothing to refund"), "{err}");
    // One host-call entry per durable call; the ledger write inside is
    // recorded in the function's persist-nothing zone, which replay passes over.
    let recorded: Vec<String> = agent
        .oplog()
        .entries()
        .iter()
        .filter_map(|e| if let OplogEntry::HostCall(p) = e { Some(p.function_name.clone()) } else { None })
        .collect();
    assert_eq!(recorded, ["keyvalue::eventual::set", "payments::refund", "payments::refund"]);
    assert_eq!(env.kv_writes().len(), 1);

    // Replay returns the recorded results without writing again.
    agent.crash();
    agent.invoke("name", &[]).unwrap();
    assert_eq!(env.kv_writes().len(), 1);

    let scenario = Scenario::new("probe", [s("d")])
        .call("refund", [s("ann"), Value::U64(5)])
        .call("refund", [s("ann"), Value::U64(0)])
        .call("count", []);
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    assert!(report.is_ok(), "{report}");
}

#[test]
fn a_durable_function_recorded_under_another_name_is_a_divergence() {
    use reprise_e2e::build_test_guest_with;

    let env = Environment::new().unwrap();
    let v1 = probe(&env);
    let mut agent = env.create_agent(&v1, "probe", &[s("n")]).unwrap();
    agent.invoke("refund", &[s("bob"), Value::U64(30)]).unwrap();
    let oplog = agent.oplog().snapshot();

    let renamed = env.load(build_test_guest_with("probe", "v2-renamed")).unwrap();
    let err = env.agent_with_oplog(&renamed, "probe", &[s("n")], oplog).unwrap_err();
    let Error::Divergence(d) = &err else { panic!("expected a divergence, got {err}") };
    assert!(d.expected.contains("payments::refund"), "{d}");
    assert!(d.actual.contains("payments::refund-v2"), "{d}");
}

#[test]
fn transactions_compensate_on_failure_and_rerun_after_crashes_inside() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[s("shop")]).unwrap();
    assert_eq!(agent.invoke("order-tx", &[s("lamp"), Value::U64(0)]).unwrap(), [s("ordered lamp")]);
    assert_eq!(agent.invoke("order-tx", &[s("desk"), Value::U64(1)]).unwrap(), [s("failed: card declined")]);
    let kv = env.kv_contents();
    assert_eq!(kv["stock"].keys().collect::<Vec<_>>(), ["lamp"], "the desk reservation was compensated");
    assert_eq!(kv["charges"].keys().collect::<Vec<_>>(), ["lamp"]);

    let scenario = Scenario::new("probe", [s("shop")])
        .call("order-tx", [s("lamp"), Value::U64(0)])
        .call("order-tx", [s("desk"), Value::U64(1)]);
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    assert!(report.is_ok(), "{report}");
    assert!(report.retried_effects > 0, "crashes inside the region rerun it: {report}");
}

#[test]
fn guards_restore_settings_after_early_returns_and_closures() {
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[s("g")]).unwrap();
    assert_eq!(
        agent.invoke("guards", &[]).unwrap(),
        [s(
            "early=1 after=PersistenceLevel::Smart inside=PersistenceLevel::PersistRemoteSideEffects idempotent-inside=false after=true"
        )]
    );
}

#[test]
fn raw_entries_enrich_back_to_the_public_ones() {
    use reprise_testkit::oplog::{RawOplogEntry, enrich, to_raw};
    let env = Environment::new().unwrap();
    let component = probe(&env);
    let mut agent = env.create_agent(&component, "probe", &[s("p1")]).unwrap();
    for (method, args) in &everything().calls {
        let _ = agent.invoke(method, args);
    }
    let entries = agent.oplog().entries();
    let kinds: std::collections::BTreeSet<String> =
        entries.iter().map(|e| format!("{e:?}").split('(').next().unwrap_or_default().to_string()).collect();
    assert!(kinds.len() >= 8, "a varied oplog: {kinds:?}");
    for (i, entry) in entries.iter().enumerate() {
        let raw = to_raw(entry);
        if let RawOplogEntry::HostCall(p) = &raw {
            assert!(matches!(p.request, reprise_testkit::bindings::golem::api::oplog::OplogPayload::Inline(_)));
        }
        assert_eq!(&enrich(&raw, |_| None).unwrap(), entry, "entry {}", i + 1);
    }
}
