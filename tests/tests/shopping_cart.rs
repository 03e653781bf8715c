//! The shopping-cart example: typed buckets, batches and streamed values of
//! `reprise::keyvalue`, their errors, and crash verification.
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_e2e::build_example;
use reprise_example_shopping_cart::{CatalogCall, Line, ShoppingCartCall};
use reprise_testkit::oplog::OplogEntry;
use reprise_testkit::verify::{CrashPlan, Scenario, verify};
use reprise_testkit::{Environment, LoadedComponent};

fn shop() -> (Environment, LoadedComponent) {
    let env = Environment::builder()
        .kv_entry("prices", "tea", "350")
        .kv_entry("prices", "cup", "1200")
        .kv_entry("exports", "new.csv", "sku,cents\nspoon,150\nfork,175\n")
        .build()
        .unwrap();
    let component = env.load(build_example("shopping-cart")).unwrap();
    (env, component)
}

/// An agent's error result.
fn err<T>(text: &str) -> Result<T, String> {
    Err(text.to_string())
}

fn calls(agent: &reprise_testkit::Agent) -> Vec<String> {
    agent.host_calls().into_iter().map(|c| c.function).collect()
}

#[test]
fn catalog_streams_exports_and_imports_in_batches() {
    let (env, component) = shop();
    let mut catalog = env.create(&component, CatalogCall::new("main".into())).unwrap();
    assert_eq!(catalog.set_price("mug".into(), 900).unwrap(), Ok(()));
    assert_eq!(catalog.price("mug".into()).unwrap(), Ok(Some(900)));

    let csv = "sku,cents\ncup,1200\nmug,900\ntea,350\n";
    let written = catalog.export_csv("prices.csv".into()).unwrap();
    assert_eq!(written, Ok(csv.len() as u64));
    assert_eq!(env.kv_contents()["exports"]["prices.csv"], csv.as_bytes());
    assert_eq!(catalog.export_size("prices.csv".into()).unwrap(), Ok(Some(csv.len() as u64)));
    assert_eq!(catalog.import_csv("new.csv".into()).unwrap(), Ok(2));
    assert_eq!(env.kv_contents()["prices"]["spoon"], b"150");
    assert_eq!(env.kv_contents()["prices"]["fork"], b"175");

    // The export read every key and their values in one batch each; the
    // import wrote all rows in one batch.
    let calls = calls(&catalog.agent);
    let count = |f: &str| calls.iter().filter(|c| c.as_str() == f).count();
    assert_eq!(count("keyvalue::eventual_batch::get_keys"), 1, "{calls:?}");
    assert_eq!(count("keyvalue::eventual_batch::get_many"), 1, "{calls:?}");
    assert_eq!(count("keyvalue::eventual_batch::set_many"), 1, "{calls:?}");
    // A missing export is the agent's error, not a crash.
    assert_eq!(catalog.import_csv("nope.csv".into()).unwrap(), err("no export `nope.csv`"));

    let scenario = Scenario::of(CatalogCall::new("main".into()))
        .then(CatalogCall::set_price("mug".into(), 900))
        .then(CatalogCall::export_csv("prices.csv".into()))
        .then(CatalogCall::import_csv("new.csv".into()))
        .then(CatalogCall::price("fork".into()));
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    assert!(report.is_ok(), "{report}");
    assert!(report.runs > 10, "{report}");
}

#[test]
fn carts_add_price_and_check_out_under_crashes() {
    let (env, component) = shop();
    let mut cart = env.create(&component, ShoppingCartCall::new("alice".into())).unwrap();
    assert_eq!(cart.add_item("tea".into(), 2).unwrap(), Ok(2));
    assert_eq!(cart.add_item("cup".into(), 1).unwrap(), Ok(1));
    assert_eq!(cart.add_item("tea".into(), 1).unwrap(), Ok(3));
    assert_eq!(cart.add_item("spoon".into(), 1).unwrap(), err("`spoon` is not in the catalog"));
    let line = |sku: &str, quantity: u32| Line { sku: sku.into(), quantity };
    assert_eq!(cart.items().unwrap(), Ok(vec![line("tea", 3), line("cup", 1)]));
    assert_eq!(cart.remove_item("cup".into()).unwrap(), Ok(true));

    let before = cart.agent.host_calls().len();
    let receipt = cart.checkout().unwrap().unwrap();
    let order_id = receipt.order_id.clone();
    assert_eq!((receipt.total_cents, receipt.lines), (3 * 350, 1));
    let orders = &env.kv_contents()["orders"];
    assert_eq!(orders[&format!("{order_id}/total")], b"1050");
    assert_eq!(orders[&format!("{order_id}/line/tea")], b"3");
    assert!(!env.kv_contents()["carts"].contains_key("alice"), "checkout empties the cart");
    // Checkout: read the cart, price it in one batch, persist the order id,
    // write the order in one batch, delete the cart.
    let checkout: Vec<String> = calls(&cart.agent).split_off(before);
    assert_eq!(
        checkout,
        [
            "keyvalue::eventual::get",
            "keyvalue::eventual_batch::get_many",
            "golem::api::generate_idempotency-key",
            "keyvalue::eventual_batch::set_many",
            "keyvalue::eventual::delete",
        ]
    );
    // The same checkout as a Golem 1.5 executor records it: entry kinds,
    // host function names and durable function types, as read from
    // golemcloud/golem v1.5.9 (golem-worker-executor/src/durable_host/
    // keyvalue/eventual.rs, keyvalue/eventual_batch.rs, golem/v1x.rs; the
    // names are `HostFunctionName` displayed as `interface::function`).
    let golem_checkout = [
        ("agent-invocation-started", None),
        ("host-call", Some(("keyvalue::eventual::get", "read-remote"))),
        ("host-call", Some(("keyvalue::eventual_batch::get_many", "read-remote"))),
        ("host-call", Some(("golem::api::generate_idempotency-key", "write-remote"))),
        ("host-call", Some(("keyvalue::eventual_batch::set_many", "write-remote"))),
        ("host-call", Some(("keyvalue::eventual::delete", "write-remote"))),
        ("agent-invocation-finished", None),
    ];
    let entries = cart.agent.oplog().entries();
    let started = entries.iter().rposition(|e| matches!(e, OplogEntry::AgentInvocationStarted(_))).unwrap();
    let recorded: Vec<(&str, Option<(&str, &str)>)> = entries[started..]
        .iter()
        .map(|e| match e {
            OplogEntry::AgentInvocationStarted(_) => ("agent-invocation-started", None),
            OplogEntry::AgentInvocationFinished(_) => ("agent-invocation-finished", None),
            OplogEntry::HostCall(p) => (
                "host-call",
                Some((p.function_name.as_str(), reprise_testkit::oplog::function_type_name(&p.durable_function_type))),
            ),
            other => panic!("an entry Golem does not write in checkout: {other:?}"),
        })
        .collect();
    assert_eq!(recorded, golem_checkout);
    assert_eq!(cart.checkout().unwrap(), err("the cart is empty"));

    let scenario = Scenario::of(ShoppingCartCall::new("bob".into()))
        .then(ShoppingCartCall::add_item("tea".into(), 1))
        .then(ShoppingCartCall::add_item("cup".into(), 2))
        .then(ShoppingCartCall::remove_item("tea".into()))
        .then(ShoppingCartCall::checkout());
    let report = verify(&env, &component, &scenario, &CrashPlan::every_entry()).unwrap();
    println!("{report}");
    assert!(report.is_ok(), "{report}");
}

#[test]
fn missing_buckets_and_undecodable_values_are_typed_errors() {
    // A store without an `orders` bucket: the constructor fails, naming it.
    let env = Environment::builder().kv_buckets(["carts", "prices"]).build().unwrap();
    let component = env.load(build_example("shopping-cart")).unwrap();
    let e = env.create(&component, ShoppingCartCall::new("alice".into())).unwrap_err().to_string();
    assert!(
        e.contains("key-value open-bucket in bucket `orders` failed: bucket `orders` does not exist (this store has: carts, prices)"),
        "{e}"
    );
    // The same refusal in the constructor's own error type (`String` here).
    let refused = env.try_create(&component, ShoppingCartCall::new("alice".into())).unwrap();
    let e: String = refused.map(|_| ()).unwrap_err();
    assert!(e.starts_with("key-value open-bucket in bucket `orders` failed"), "{e}");

    // A cart whose stored bytes are not JSON: reading it is a decode error
    // naming bucket, key and codec; the agent keeps working.
    let env =
        Environment::builder().kv_entry("carts", "carol", "not json").kv_entry("prices", "tea", "1").build().unwrap();
    let mut cart = env.create(&component, ShoppingCartCall::new("carol".into())).unwrap();
    let out = cart.items().unwrap();
    let Err(message) = &out else { panic!("{out:?}") };
    assert!(
        message.starts_with(
            "key-value get in bucket `carts` (key `carol`): cannot decode the stored value: json: expected"
        ),
        "{message}"
    );
    // The agent is not failed: it answers again, with the same error.
    assert_eq!(cart.items().unwrap(), out);
    let mut fresh = env.create(&component, ShoppingCartCall::new("dave".into())).unwrap();
    assert_eq!(fresh.add_item("tea".into(), 1).unwrap(), Ok(1));
}
