struct Opaque;

#[reprise::durable]
fn send(message: Opaque) -> u64 {
    let _ = message;
    1
}

fn main() {}
