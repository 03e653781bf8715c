//! Oplog snapshot tests: two examples' oplogs as stable text (times left
//! out, generated ids numbered), compared with the reviewed files in
//! `snapshots/`. A change to what the runtime or an example records shows up
//! as a diff; accept it with `cargo insta review` (or `INSTA_UPDATE=always`).
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_e2e::build_example;
use reprise_testkit::Environment;
use reprise_testkit::oplog::snapshot;
use reprise_testkit::value::Value;

#[test]
fn the_counters_oplog() {
    let env = Environment::new().unwrap();
    let component = env.load(build_example("counter")).unwrap();
    let mut counter = env.create_agent(&component, "Counter", &[Value::string("snap")]).unwrap();
    counter.invoke("increment", &[Value::U64(2)]).unwrap();
    counter.invoke("increment", &[Value::U64(3)]).unwrap();
    counter.invoke("get", &[]).unwrap();
    insta::assert_snapshot!(snapshot(counter.oplog().entries()));
}

#[test]
fn a_shopping_carts_checkout_oplog() {
    let env =
        Environment::builder().kv_entry("prices", "tea", "350").kv_entry("prices", "cup", "1200").build().unwrap();
    let component = env.load(build_example("shopping-cart")).unwrap();
    let mut cart = env.create_agent(&component, "ShoppingCart", &[Value::string("alice")]).unwrap();
    cart.invoke("add_item", &[Value::string("tea"), Value::U32(2)]).unwrap();
    cart.invoke("add_item", &[Value::string("cup"), Value::U32(1)]).unwrap();
    cart.invoke("checkout", &[]).unwrap();
    insta::assert_snapshot!(snapshot(cart.oplog().entries()));
}
