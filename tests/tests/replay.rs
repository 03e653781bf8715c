//! Replaying recorded oplogs against a new revision, the check before an
//! update, through the test helper (`replay_folder`); `reprise replay` is
//! tested with the CLI's commands.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;

use reprise_e2e::{build_example, build_example_with, build_test_guest, build_test_guest_with};
use reprise_example_shopping_cart::ShoppingCartCall;
use reprise_testkit::Environment;
use reprise_testkit::bindings::golem::api::oplog::AgentInvocation;
use reprise_testkit::oplog::{Oplog, OplogEntry};
use reprise_testkit::value::Value;
use reprise_testkit::verify::{ReplayOutcome, replay_folder};

/// Two agents' histories, recorded with the probe's first revision into
/// `dir` as `reprise run --oplog-file` would keep them.
fn record(env: &Environment, dir: &Path) {
    let v1 = env.load(build_test_guest("probe")).unwrap();
    for (name, calls) in [("a", 3), ("b", 1)] {
        let oplog = Oplog::create_file(dir.join(format!("{name}.oplog"))).unwrap();
        let mut agent = env.agent_with_oplog(&v1, "probe", &[Value::string(name)], oplog).unwrap();
        for _ in 0..calls {
            agent.invoke("count", &[]).unwrap();
        }
        agent.invoke("put", &[Value::string("k"), Value::string(name)]).unwrap();
    }
}

#[test]
fn recorded_histories_replay_with_a_compatible_revision_and_diverge_with_an_incompatible_one() {
    let env = Environment::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    record(&env, dir.path());
    let files = || std::fs::read(dir.path().join("a.oplog")).unwrap();
    let before = files();

    // `name` answers differently: the recorded calls are all still made.
    let compatible = env.load(build_test_guest_with("probe", "v2")).unwrap();
    let outcomes = replay_folder(&env, &compatible, dir.path()).unwrap();
    assert_eq!(outcomes.len(), 2);
    for (file, outcome) in &outcomes {
        assert!(matches!(outcome, ReplayOutcome::Replayed { .. }), "{}: {outcome}", file.display());
    }
    assert!(matches!(outcomes[0].1, ReplayOutcome::Replayed { invocations: 5, .. }), "{:?}", outcomes[0].1);

    // `count` makes a host call the recorded runs did not: the first count
    // of each agent diverges, at the entry after its start.
    let incompatible = env.load(build_test_guest_with("probe", "v2-incompatible")).unwrap();
    let outcomes = replay_folder(&env, &incompatible, dir.path()).unwrap();
    for (file, outcome) in &outcomes {
        let ReplayOutcome::Diverged(d) = outcome else { panic!("{}: {outcome}", file.display()) };
        let (entries, _) = Oplog::read_file(file).unwrap();
        let first_count = entries
            .iter()
            .position(|e| {
                matches!(e, OplogEntry::AgentInvocationStarted(p)
                    if matches!(&p.invocation, AgentInvocation::AgentMethodInvocation(m) if m.method_name == "count"))
            })
            .unwrap() as u64
            + 1;
        assert_eq!(d.oplog_index, first_count + 1, "{}: {d}", file.display());
        assert!(d.actual.contains("generate_idempotency-key") || d.actual.contains("idempotency"), "{d}");
    }
    assert_eq!(files(), before, "replay reads the recorded oplogs and leaves them as they are");
}

/// The check before updating the shopping-cart example: carts recorded with
/// the deployed revision replay with one that only adds a log line, and
/// diverge, at the recorded order write, with one that swaps it with the
/// cart's delete.
#[test]
fn an_example_revision_adding_a_log_line_replays_and_one_swapping_two_calls_diverges() {
    let env = Environment::builder().kv_entry("prices", "tea", "350").build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let deployed = env.load(build_example("shopping-cart")).unwrap();
    for user in ["alice", "bob"] {
        let oplog = Oplog::create_file(dir.path().join(format!("{user}.oplog"))).unwrap();
        let mut cart = env.create_with_oplog(&deployed, ShoppingCartCall::new(user.into()), oplog).unwrap();
        assert_eq!(cart.add_item("tea".into(), 2).unwrap(), Ok(2));
        assert_eq!(cart.checkout().unwrap().map(|r| r.total_cents), Ok(700));
    }

    let logged = env.load(build_example_with("shopping-cart", "revision-logged")).unwrap();
    for (file, outcome) in replay_folder(&env, &logged, dir.path()).unwrap() {
        assert!(matches!(outcome, ReplayOutcome::Replayed { invocations: 3, .. }), "{}: {outcome}", file.display());
    }

    let swapped = env.load(build_example_with("shopping-cart", "revision-swapped")).unwrap();
    let outcomes = replay_folder(&env, &swapped, dir.path()).unwrap();
    assert_eq!(outcomes.len(), 2);
    for (file, outcome) in &outcomes {
        let ReplayOutcome::Diverged(d) = outcome else { panic!("{}: {outcome}", file.display()) };
        let (entries, _) = Oplog::read_file(file).unwrap();
        let write = entries
            .iter()
            .position(
                |e| matches!(e, OplogEntry::HostCall(c) if c.function_name == "keyvalue::eventual_batch::set_many"),
            )
            .unwrap() as u64
            + 1;
        assert_eq!(d.oplog_index, write, "{}: {d}", file.display());
        assert!(d.expected.contains("keyvalue::eventual_batch::set_many"), "{d}");
        assert!(d.actual.contains("delete"), "{d}");
    }
}
