//! `#[durable]` keeps signatures intact: methods on `&self` / `&mut self`,
//! generics, `?` and early `return`, unit results.
#![deny(warnings)]

use reprise::Value;

#[derive(Value, Debug, PartialEq)]
struct Receipt {
    id: String,
}

struct Ledger {
    entries: Vec<u64>,
}

impl Ledger {
    #[reprise::durable(function_type = "write-remote")]
    fn append(&mut self, cents: u64) -> Result<Receipt, String> {
        if cents == 0 {
            return Err("empty".into());
        }
        let parsed: u64 = "7".parse().map_err(|e: std::num::ParseIntError| e.to_string())?;
        self.entries.push(cents + parsed);
        Ok(Receipt { id: format!("r{}", self.entries.len()) })
    }

    #[reprise::durable(function_type = "read-local")]
    fn total(&self) -> u64 {
        self.entries.iter().sum()
    }
}

#[reprise::durable(interface = "generic", function = "echo")]
fn echo<T: reprise::value::IntoValue + reprise::value::FromValue>(value: T) -> T {
    value
}

#[reprise::durable]
fn notify(message: String) {
    let _ = message;
}

fn main() {
    // Only compiled: calling them needs a Golem host.
    let _ = Ledger::append;
    let _ = Ledger::total;
    let _ = echo::<String>;
    let _ = notify;
}
