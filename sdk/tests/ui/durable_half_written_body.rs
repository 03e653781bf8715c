#[reprise::durable]
fn charge(cents: u64) -> u64 {
    let fee = 30
    cents + fee
}

#[reprise::durable]
fn refund(cents: u64) -> u64 {
    cents - penalty
}

fn main() {}
