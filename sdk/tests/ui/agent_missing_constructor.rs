struct Counter {
    value: u64,
}

#[reprise::agent]
impl Counter {
    fn make() -> Self {
        Counter { value: 0 }
    }

    pub fn get(&self) -> u64 {
        self.value
    }
}

fn main() {}
