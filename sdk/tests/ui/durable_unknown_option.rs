#[reprise::durable(retries = "3", function_type = "write-everything")]
fn charge(cents: u64) -> u64 {
    cents
}

fn main() {}
