//! The smallest Reprise component: a `wasm32-wasip2` command (it exports
//! `wasi:cli/run`) that sums its work, reports it through Golem's
//! `wasi:logging` and prints the result.
//!
//! Build it with `cargo build --target wasm32-wasip2 -p reprise-example-smoke`.

use reprise::bindings::wasi::logging::logging::{Level, log};

fn main() {
    let orders = [120_u64, 80, 45];
    log(Level::Info, "smoke", &format!("processing {} orders", orders.len()));
    let total: u64 = orders.iter().sum();
    log(Level::Debug, "smoke", &format!("total {total}"));
    println!("total = {total}");
}
