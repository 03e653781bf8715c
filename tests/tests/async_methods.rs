//! Async agent methods (issue 17): the warehouse desk's `quote` awaits two
//! RPC calls and an HTTP request at once, on wstd's executor as golem-rust
//! agents do, and recovers from a crash at every point.
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_e2e::build_example;
use reprise_example_warehouse::{DeskCall, Quote};
use reprise_testkit::oplog::OplogEntry;
use reprise_testkit::verify::{CrashPlan, Scenario, verify};
use reprise_testkit::{Environment, HttpStub, LoadedComponent};

/// Five apples in `main`, three in `main-backup`.
fn warehouse() -> (Environment, LoadedComponent) {
    let env = Environment::builder()
        .kv_entry("stock-levels", "main", r#"{"apple":5}"#)
        .kv_entry("stock-levels", "main-backup", r#"{"apple":3}"#)
        .build()
        .unwrap();
    let component = env.load(build_example("warehouse")).unwrap();
    (env, component)
}

/// The price list's answer for apples: 125 cents.
fn prices() -> HttpStub {
    HttpStub::new("GET", "http://prices.test/v1/apple", 200, "125").unwrap()
}

fn quote() -> Quote {
    Quote { sku: "apple".into(), available: 8, unit_cents: 125, total_cents: 500 }
}

/// Position of the first entry `matches` selects.
fn first(entries: &[OplogEntry], matches: impl Fn(&OplogEntry) -> bool) -> usize {
    entries.iter().position(matches).unwrap_or_else(|| panic!("no such entry in {entries:#?}"))
}

#[test]
fn an_async_method_awaits_two_calls_and_a_request_side_by_side() {
    let (env, component) = warehouse();
    env.stub_http(prices());
    let mut desk = env.create(&component, DeskCall::new("main".into())).unwrap();
    assert_eq!(desk.quote("apple".into(), 4).unwrap(), Ok(quote()));

    // Both calls and the request started before the first answer was taken.
    let entries = desk.agent.oplog().entries();
    let host_call =
        |name: &'static str| move |e: &OplogEntry| matches!(e, OplogEntry::HostCall(p) if p.function_name == name);
    let first_get = first(entries, host_call("golem::rpc::future-invoke-result::get"));
    let request = first(entries, |e| matches!(e, OplogEntry::BeginRemoteWrite(_)));
    let calls = entries[..first_get]
        .iter()
        .filter(|e| matches!(e, OplogEntry::StartSpan(p) if p.attributes.iter().any(|a| a.key == "name" && format!("{:?}", a.value).contains("rpc-invocation"))))
        .count();
    assert_eq!(calls, 2, "two RPC calls started before the first answer: {entries:#?}");
    assert!(request < first_get, "the request started before the first answer");
    // Each inventory ran its `stock` once.
    for id in [r#"inventory("main")"#, r#"inventory("main-backup")"#] {
        let inventory = env.agent_handle(id).unwrap();
        let runs = inventory
            .lock()
            .oplog()
            .entries()
            .iter()
            .filter(|e| matches!(e, OplogEntry::AgentInvocationStarted(_)))
            .count();
        assert_eq!(runs, 2, "{id}: its constructor and one `stock`");
    }
}

#[test]
fn an_async_method_recovers_from_every_crash_under_seeded_schedules() {
    let (env, component) = warehouse();
    let scenario = Scenario::of(DeskCall::new("main".into()))
        .expect(DeskCall::quote("apple".into(), 4), Ok(quote()))
        .expect(DeskCall::quote("apple".into(), 1), Ok(Quote { total_cents: 125, ..quote() }))
        .http_stub(prices());
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry().under_schedules(0..3)).unwrap();
    println!("{report}");
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.schedules_explored, 3);
    assert_eq!(report.reference_oplogs.len(), 3, "the desk and both inventories are crashed");
    assert!(report.crashes_fired > 3 * 40, "{report}");
}
