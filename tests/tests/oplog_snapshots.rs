//! Oplog snapshot tests: two examples' oplogs as stable text (times left
//! out, generated ids numbered), compared with the reviewed files in
//! `snapshots/`. A change to what the runtime or an example records shows up
//! as a diff; accept it with `cargo insta review` (or `INSTA_UPDATE=always`).
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_e2e::build_example;
use reprise_example_counter::CounterCall;
use reprise_example_shopping_cart::ShoppingCartCall;
use reprise_testkit::Environment;
use reprise_testkit::oplog::snapshot;

#[test]
fn the_counters_oplog() {
    let env = Environment::new().unwrap();
    let component = env.load(build_example("counter")).unwrap();
    let mut counter = env.create(&component, CounterCall::new("snap".into())).unwrap();
    counter.increment(2).unwrap();
    counter.increment(3).unwrap();
    counter.get().unwrap();
    insta::assert_snapshot!(snapshot(counter.agent.oplog().entries()));
}

#[test]
fn a_shopping_carts_checkout_oplog() {
    let env =
        Environment::builder().kv_entry("prices", "tea", "350").kv_entry("prices", "cup", "1200").build().unwrap();
    let component = env.load(build_example("shopping-cart")).unwrap();
    let mut cart = env.create(&component, ShoppingCartCall::new("alice".into())).unwrap();
    cart.add_item("tea".into(), 2).unwrap().unwrap();
    cart.add_item("cup".into(), 1).unwrap().unwrap();
    cart.checkout().unwrap().unwrap();
    insta::assert_snapshot!(snapshot(cart.agent.oplog().entries()));
}
