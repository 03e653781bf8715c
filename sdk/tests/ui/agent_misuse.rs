struct Shop;

#[reprise::agent(name = "shop", color = "red")]
impl Shop {
    pub fn new() -> Self {
        Shop
    }

    pub fn open() -> Result<Shop, String> {
        Ok(Shop)
    }

    pub fn close(self) {}

    pub fn stock<T>(&self, item: T) {
        let _ = item;
    }

    pub fn price(&self, (sku, qty): (String, u32)) -> u64 {
        let _ = (sku, qty);
        0
    }
}

trait Greeter {
    fn hello(&self) -> String;
}

#[reprise::agent]
impl Greeter for Shop {
    fn hello(&self) -> String {
        String::new()
    }
}

fn main() {}
