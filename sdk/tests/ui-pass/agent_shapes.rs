//! Agent shapes the macro accepts: a fallible constructor, unit and
//! `Result<(), E>` methods, derived types, private helpers, associated
//! functions that are not constructors, several agent types in one
//! component, async methods, and the typed clients generated for them (with
//! a chosen name, trigger_ and async_ twins).
#![deny(warnings)]

use reprise::Value;

#[derive(Value, Debug, Clone, PartialEq)]
enum Size {
    Small,
    Large,
}

#[derive(Value, Debug, Clone, PartialEq)]
struct Line {
    sku: String,
    size: Size,
    quantity: u32,
}

/// An order.
struct Order {
    lines: Vec<Line>,
}

/// Orders placed by one customer.
#[reprise::agent(name = "order")]
impl Order {
    /// An order for `customer`; refuses an empty name.
    pub fn new(customer: String) -> Result<Self, String> {
        if customer.is_empty() { Err("no customer".into()) } else { Ok(Order { lines: Vec::new() }) }
    }

    /// The default size.
    pub fn default_size() -> Size {
        Size::Small
    }

    /// Add a line.
    pub fn add(&mut self, line: Line) {
        self.lines.push(line);
    }

    /// Remove every line of `sku`.
    pub fn remove(&mut self, sku: String) -> Result<(), String> {
        let before = self.lines.len();
        self.lines.retain(|l| l.sku != sku);
        if self.lines.len() == before { Err(format!("no {sku}")) } else { Ok(()) }
    }

    /// The lines, large ones first.
    pub fn lines(&self) -> Vec<Line> {
        let mut lines = self.lines.clone();
        lines.sort_by_key(|l| self.rank(l));
        lines
    }

    fn rank(&self, line: &Line) -> u8 {
        if line.size == Size::Large { 0 } else { 1 }
    }
}

struct Inventory {
    stock: std::collections::BTreeMap<String, u32>,
}

#[reprise::agent(client = "Stock")]
impl Inventory {
    pub fn new() -> Inventory {
        Inventory { stock: Default::default() }
    }

    pub fn reserve(&mut self, sku: String, quantity: u32) -> Option<u32> {
        let left = self.stock.get(&sku)?.checked_sub(quantity)?;
        self.stock.insert(sku, left);
        Some(left)
    }

    /// An async method: it may await RPC futures, promises and HTTP.
    pub async fn count(&self, sku: String) -> u32 {
        self.stock.get(&sku).copied().unwrap_or(0)
    }
}

reprise::export_agents!(Order, Inventory);

/// Calls through the generated clients type-check with the agents' own
/// parameter and result types (they are not run: no host here).
#[allow(dead_code)]
fn call_through_clients() -> Result<(), reprise::rpc::RpcError> {
    let order: OrderClient = OrderClient::connect("alice".to_string());
    order.add(Line { sku: "apple".into(), size: Size::Large, quantity: 2 })?;
    let removed: Result<(), String> = order.remove("apple".to_string())?;
    let lines: Vec<Line> = order.lines()?;
    let stock = Stock::connect();
    let left: Option<u32> = stock.reserve("apple".to_string(), 1)?;
    let _: &reprise::rpc::RemoteAgent = stock.remote();
    stock.trigger_reserve("apple".to_string(), 1)?;
    let _ = (removed, lines, left);
    Ok(())
}

/// The async twin of each client method awaits the callee without blocking
/// the caller's other futures.
#[allow(dead_code)]
async fn call_asynchronously() -> Result<u32, reprise::rpc::RpcError> {
    let stock = Stock::connect();
    let left: Option<u32> = stock.async_reserve("pear".to_string(), 1).await?;
    let count: u32 = stock.async_count("pear".to_string()).await?;
    Ok(count + left.unwrap_or(0))
}

fn main() {
    use reprise::agent::Agent;
    let order = Order::definition();
    assert_eq!(order.type_name, "order");
    assert_eq!(order.description, "Orders placed by one customer.");
    assert_eq!(order.methods.len(), 3);
    assert_eq!(Inventory::TYPE_NAME, "Inventory");
    let _ = Order::default_size();
}
