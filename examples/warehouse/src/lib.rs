//! A warehouse: `Order` agents reserve stock from an `Inventory` agent by
//! calling it through the client `#[reprise::agent]` generates
//! ([`InventoryClient`]); a `Desk` takes a batch of orders and starts them
//! all at once, so they reserve side by side. The three agent types live in
//! this one component.
//!
//! Each call is durable: the order's oplog records the inventory's answer,
//! so an order that crashes and replays does not reserve twice, and an
//! inventory that crashes in the middle of a reservation recovers before it
//! answers.

use std::collections::BTreeMap;

use futures_lite::future::zip;
use reprise::http::{self, Body, Request};
use reprise::keyvalue::Bucket;
use reprise::rpc::RpcError;

/// Bucket holding each warehouse's opening stock (JSON `{"sku": units}`).
pub const STOCK_BUCKET: &str = "stock-levels";
/// Bucket the placed orders are written to (JSON, by order id).
pub const ORDERS_BUCKET: &str = "orders";
/// The price list: `GET {PRICES}/{sku}` answers a unit price in cents.
pub const PRICES: &str = "http://prices.test/v1";

/// Stock of one warehouse.
#[derive(Debug)]
pub struct Inventory {
    warehouse: String,
    units: BTreeMap<String, u32>,
}

/// The stock of one warehouse; orders reserve from it and release to it.
#[reprise::agent]
impl Inventory {
    /// The inventory of `warehouse`, opening with the stock levels stored
    /// under its name in the `stock-levels` bucket (none when absent).
    pub fn new(warehouse: String) -> Result<Self, String> {
        if warehouse.is_empty() {
            return Err("a warehouse needs a name".to_string());
        }
        let levels = Bucket::open(STOCK_BUCKET).map_err(|e| e.to_string())?.typed::<BTreeMap<String, u32>>();
        let units = levels.get(&warehouse).map_err(|e| e.to_string())?.unwrap_or_default();
        Ok(Inventory { warehouse, units })
    }

    /// Add `quantity` units of `sku`; returns the new level.
    pub fn restock(&mut self, sku: String, quantity: u32) -> u32 {
        let level = self.units.entry(sku).or_default();
        *level = level.saturating_add(quantity);
        *level
    }

    /// Take `quantity` units of `sku` for an order; returns what is left,
    /// or why not.
    pub fn reserve(&mut self, sku: String, quantity: u32) -> Result<u32, String> {
        let level = self.units.get(&sku).copied().unwrap_or(0);
        if quantity > level {
            return Err(format!("only {level} of {sku} left in {}", self.warehouse));
        }
        self.units.insert(sku, level - quantity);
        Ok(level - quantity)
    }

    /// Put back `quantity` units of `sku` (a cancelled line).
    pub fn release(&mut self, sku: String, quantity: u32) {
        self.restock(sku, quantity);
    }

    /// Units of `sku` in stock.
    pub fn stock(&self, sku: String) -> u32 {
        self.units.get(&sku).copied().unwrap_or(0)
    }
}

/// One line of an order.
#[derive(reprise::Value, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct Line {
    /// Stock-keeping unit.
    pub sku: String,
    /// Units reserved.
    pub quantity: u32,
}

/// An order being put together.
#[derive(Debug)]
pub struct Order {
    id: String,
    warehouse: String,
    lines: Vec<Line>,
    placed: bool,
}

/// A customer order, reserving its lines from a warehouse's inventory.
#[reprise::agent]
impl Order {
    /// Order `id`, served by the inventory of `warehouse`.
    pub fn new(id: String, warehouse: String) -> Self {
        Order { id, warehouse, lines: Vec::new(), placed: false }
    }

    /// Reserve `quantity` units of `sku` and add them as a line; returns
    /// the units the warehouse has left, or why the line was refused.
    pub fn add_line(&mut self, sku: String, quantity: u32) -> Result<u32, String> {
        if self.placed {
            return Err(format!("order {} is placed already", self.id));
        }
        let left = self.inventory().reserve(sku.clone(), quantity).map_err(|e| e.to_string())??;
        self.lines.push(Line { sku, quantity });
        Ok(left)
    }

    /// Give back every unit of `sku` this order reserved; returns how many.
    pub fn remove_sku(&mut self, sku: String) -> Result<u32, String> {
        let quantity: u32 = self.lines.iter().filter(|l| l.sku == sku).map(|l| l.quantity).sum();
        if quantity > 0 {
            self.inventory().release(sku.clone(), quantity).map_err(|e| e.to_string())?;
            self.lines.retain(|l| l.sku != sku);
        }
        Ok(quantity)
    }

    /// The order's lines.
    pub fn lines(&self) -> Vec<Line> {
        self.lines.clone()
    }

    /// Place the order: record it in the `orders` bucket; returns the
    /// number of units ordered.
    pub fn place(&mut self) -> Result<u32, String> {
        if self.lines.is_empty() {
            return Err(format!("order {} has no lines", self.id));
        }
        let orders = Bucket::open(ORDERS_BUCKET).map_err(|e| e.to_string())?.typed::<Vec<Line>>();
        orders.set(&self.id, &self.lines).map_err(|e| e.to_string())?;
        self.placed = true;
        Ok(self.lines.iter().map(|l| l.quantity).sum())
    }

    /// The inventory agent's id, as Golem forms it.
    pub fn inventory_id(&self) -> Result<String, String> {
        self.inventory().remote().agent_id().map_err(|e: RpcError| e.to_string())
    }

    fn inventory(&self) -> InventoryClient {
        InventoryClient::connect(self.warehouse.clone())
    }
}

/// A front desk taking orders in batches for one warehouse.
#[derive(Debug)]
pub struct Desk {
    warehouse: String,
    submitted: u32,
}

/// Takes a batch of order lines and starts an order for each, all at once:
/// the orders reserve their lines from the warehouse side by side.
#[reprise::agent]
impl Desk {
    /// The desk of `warehouse`.
    pub fn new(warehouse: String) -> Self {
        Desk { warehouse, submitted: 0 }
    }

    /// Start order `{batch}-{n}` for the `n`-th line (from 1), each adding
    /// its line without waiting for the others (Golem's `invoke`); returns
    /// the order ids.
    pub fn submit(&mut self, batch: String, lines: Vec<Line>) -> Result<Vec<String>, String> {
        let mut ids = Vec::with_capacity(lines.len());
        for (n, line) in lines.into_iter().enumerate() {
            let id = format!("{batch}-{}", n + 1);
            OrderClient::connect(id.clone(), self.warehouse.clone())
                .trigger_add_line(line.sku, line.quantity)
                .map_err(|e| e.to_string())?;
            ids.push(id);
        }
        self.submitted += ids.len() as u32;
        Ok(ids)
    }

    /// Orders started so far.
    pub fn submitted(&self) -> u32 {
        self.submitted
    }

    /// Quote `quantity` units of `sku`: the stock of this warehouse and of
    /// its backup (`{warehouse}-backup`), and the unit price from the price
    /// list, asked all three at once.
    pub async fn quote(&self, sku: String, quantity: u32) -> Result<Quote, String> {
        let here = InventoryClient::connect(self.warehouse.clone());
        let backup = InventoryClient::connect(format!("{}-backup", self.warehouse));
        let price = async {
            let request = Request::get(format!("{PRICES}/{sku}")).body(Body::empty()).map_err(|e| e.to_string())?;
            http::fetch(request).await.map_err(|e| e.to_string())
        };
        let ((here, backup), price) =
            zip(zip(here.async_stock(sku.clone()), backup.async_stock(sku.clone())), price).await;
        let available = here.map_err(|e| e.to_string())? + backup.map_err(|e| e.to_string())?;
        let price = price?;
        if !price.is_success() {
            return Err(format!("the price list answered {} for {sku}", price.status));
        }
        let unit_cents: u64 = price.text().trim().parse().map_err(|e| format!("the price of {sku}: {e}"))?;
        Ok(Quote { sku, available, unit_cents, total_cents: unit_cents * u64::from(quantity) })
    }
}

/// What a desk quotes for an order line.
#[derive(reprise::Value, Debug, Clone, PartialEq)]
pub struct Quote {
    /// Stock-keeping unit.
    pub sku: String,
    /// Units in stock here and in the backup warehouse.
    pub available: u32,
    /// The price list's unit price, in cents.
    pub unit_cents: u64,
    /// The price of the units quoted, in cents.
    pub total_cents: u64,
}

reprise::export_agents!(Order, Inventory, Desk);
