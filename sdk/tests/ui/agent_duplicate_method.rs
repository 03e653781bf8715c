struct Cart;

#[reprise::agent]
impl Cart {
    pub fn new() -> Self {
        Cart
    }

    pub fn total(&self) -> u64 {
        0
    }

    pub fn total(&self, currency: String) -> u64 {
        let _ = currency;
        0
    }
}

fn main() {}
