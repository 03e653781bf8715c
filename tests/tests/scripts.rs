//! Crash-test scripts that drive several agents and stub HTTP, read as
//! scenarios (`Scenario::from_script`) and verified with crashes.
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_e2e::build_example;
use reprise_testkit::Environment;
use reprise_testkit::verify::{CrashPlan, Scenario, verify};

const TWO_ACCOUNTS: &str = include_str!("../../examples/payments/two-accounts.script");

#[test]
fn a_script_with_two_agents_and_an_http_stub_passes_crash_verification() {
    let env = Environment::new().unwrap();
    let component = env.load(build_example("payments")).unwrap();
    let scenario = Scenario::from_script(&component, TWO_ACCOUNTS).unwrap();
    assert_eq!(scenario.agents.len(), 1, "bob is the second agent");
    assert_eq!(scenario.targets, [0, 1, 1, 0]);
    assert_eq!(scenario.http_stubs.len(), 1);

    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    assert!(report.is_ok(), "{report}");
    // Both accounts' oplogs were crashed at: bob's is an oplog of its own.
    assert_eq!(report.reference_oplogs.len(), 2, "{report}");
    let crashed: std::collections::BTreeSet<&str> =
        report.crash_runs.iter().flatten().map(|c| c.agent.as_str()).collect();
    assert_eq!(crashed.len(), 2, "crashes in both agents: {crashed:?}");
    // Each payment reached the stub once in the crash-free run, with its key.
    let requests = &report.reference.http_requests;
    assert_eq!(requests.iter().map(|r| r.body.as_slice()).collect::<Vec<_>>(), [&b"alice:500"[..], b"bob:300"]);
    assert!(requests.iter().all(|r| r.idempotency_key.is_some()));
}

#[test]
fn a_stub_that_answers_otherwise_fails_the_stated_results() {
    let env = Environment::new().unwrap();
    let component = env.load(build_example("payments")).unwrap();
    let refusing = TWO_ACCOUNTS.replace(r#"-> 200 "receipt-1""#, r#"-> 402 "no funds""#);
    let scenario = Scenario::from_script(&component, &refusing).unwrap();
    let report = verify(&env, &component, &scenario, &CrashPlan::distinct_outcomes()).unwrap();
    let unmet: Vec<String> = report.unmet.iter().map(ToString::to_string).collect();
    assert_eq!(
        unmet,
        [
            r#"line 6: pay("payments.test", 500) returned err("status 402: no funds"), the script expects ok("receipt-1")"#,
            r#"line 8: pay("payments.test", 300) returned err("status 402: no funds"), the script expects ok("receipt-1")"#,
            "line 9: paid() returned 0, the script expects 300",
            "line 11: paid() returned 0, the script expects 500",
        ]
    );
}

#[test]
fn bad_stub_and_agent_lines_are_refused_with_their_line() {
    let env = Environment::new().unwrap();
    let component = env.load(build_example("payments")).unwrap();
    let refused = |script: &str| Scenario::from_script(&component, script).unwrap_err().to_string();
    let e = refused("http POST http://payments.test/charges\npayments(\"a\")\n");
    assert!(e.contains("script line 1: `http POST http://payments.test/charges` states no answer"), "{e}");
    let e = refused("http POST /charges -> 200\npayments(\"a\")\n");
    assert!(e.contains("script line 1: `/charges` names no host"), "{e}");
    let e = refused("payments(\"a\")\nhttp POST http://p.test/ -> ok\n");
    assert!(e.contains("script line 2: `ok` is not an HTTP status"), "{e}");
    let e = refused("payments(\"a\")\npayments(\"b\") -> 1\n");
    assert!(e.contains("script line 2: an agent line cannot state a result"), "{e}");
    let e = refused("payments(\"a\")\nrefund(1)\n");
    assert!(e.contains("script line 2: agent type `payments` has no method `refund`"), "{e}");
    // A tab after `http` is a stub line too, and its URL is read.
    let e = refused("http\tPOST /charges -> 200\npayments(\"a\")\n");
    assert!(e.contains("script line 1: `/charges` names no host"), "{e}");

    // Calls and targets (public fields) out of step are refused before anything runs.
    let mut scenario = Scenario::from_script(&component, TWO_ACCOUNTS).unwrap();
    scenario.targets[1] = 7;
    let e = verify(&env, &component, &scenario, &CrashPlan::distinct_outcomes()).unwrap_err().to_string();
    assert!(e.contains("a call goes to agent 7, but the scenario has 1 more agents"), "{e}");
    scenario.targets.pop();
    let e = verify(&env, &component, &scenario, &CrashPlan::distinct_outcomes()).unwrap_err().to_string();
    assert!(e.contains("4 calls but 3 targets"), "{e}");
}
