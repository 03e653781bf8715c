#[reprise::durable]
const fn fixed() -> u64 {
    1
}

#[reprise::durable]
async fn later() -> u64 {
    2
}

fn main() {}
