struct Shop;

#[reprise::agent]
impl Shop {
    pub async fn new() -> Self {
        Shop
    }

    /// Async methods are fine: they run on wstd's executor.
    pub async fn visit(&self) -> u32 {
        1
    }
}

fn main() {}
