//! Shopping carts on key-value storage (`reprise::keyvalue`).
//!
//! - `Catalog` keeps prices in the `prices` bucket (typed as `u64`), imports
//!   and exports them as CSV through streamed values, and reports the size of
//!   the export.
//! - `ShoppingCart` keeps one cart per user in the `carts` bucket (typed as
//!   `Cart`, JSON), prices it with one batch read, and on checkout writes the
//!   order to the `orders` bucket with one batch write.

use std::io::{BufRead, BufReader, Write};

use reprise::codec::JsonCodec;
use reprise::keyvalue::{Bucket, TypedBucket};
use serde::{Deserialize, Serialize};

/// A line of a cart: a product and how many of it.
#[derive(reprise::Value, Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Line {
    /// The product.
    pub sku: String,
    /// How many.
    pub quantity: u32,
}

/// The stored cart.
#[derive(Serialize, Deserialize, Debug, Default)]
struct Cart {
    lines: Vec<Line>,
}

/// What checkout returns.
#[derive(reprise::Value, Debug, Clone, PartialEq)]
pub struct Receipt {
    /// The order's id (the key prefix in the `orders` bucket).
    pub order_id: String,
    /// The sum of the lines.
    pub total_cents: u64,
    /// The number of lines.
    pub lines: u32,
}

fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The price list.
#[derive(Debug)]
pub struct Catalog {
    prices: TypedBucket<u64, JsonCodec>,
    exports: Bucket,
}

/// The shop's price list, shared by every cart.
#[reprise::agent]
impl Catalog {
    /// The catalog called `name`.
    pub fn new(name: String) -> Result<Self, String> {
        reprise::log::info!(target: "catalog", "opening catalog {name}");
        Ok(Catalog {
            prices: Bucket::open("prices").map_err(text)?.typed(),
            exports: Bucket::open("exports").map_err(text)?,
        })
    }

    /// Set the price of `sku`.
    pub fn set_price(&mut self, sku: String, cents: u64) -> Result<(), String> {
        self.prices.set(&sku, &cents).map_err(text)
    }

    /// The price of `sku`, if it is sold.
    pub fn price(&self, sku: String) -> Result<Option<u64>, String> {
        self.prices.get(&sku).map_err(text)
    }

    /// Stream the price list as CSV into the `exports` bucket under `key`;
    /// returns the bytes written.
    pub fn export_csv(&self, key: String) -> Result<u64, String> {
        let mut skus = self.prices.keys().map_err(text)?;
        skus.sort();
        let prices = self.prices.get_many(&skus).map_err(text)?;
        let mut w = self.exports.writer(&key).map_err(text)?;
        writeln!(w, "sku,cents").map_err(text)?;
        for (sku, price) in skus.iter().zip(prices) {
            if let Some(cents) = price {
                writeln!(w, "{sku},{cents}").map_err(text)?;
            }
        }
        w.finish().map_err(text)
    }

    /// Read a CSV price list streamed from the `exports` bucket and store
    /// every price with one batch write; returns how many were imported.
    pub fn import_csv(&mut self, key: String) -> Result<u32, String> {
        let reader = self.exports.reader(&key).map_err(text)?.ok_or_else(|| format!("no export `{key}`"))?;
        let mut rows = Vec::new();
        for line in BufReader::new(reader).lines().skip(1) {
            let line = line.map_err(text)?;
            let (sku, cents) = line.split_once(',').ok_or_else(|| format!("not `sku,cents`: {line}"))?;
            rows.push((sku.to_string(), cents.parse::<u64>().map_err(|e| format!("{line}: {e}"))?));
        }
        self.prices.set_many(rows.iter().map(|(sku, cents)| (sku.as_str(), cents))).map_err(text)?;
        Ok(rows.len() as u32)
    }

    /// The size in bytes of the export under `key`.
    pub fn export_size(&self, key: String) -> Result<Option<u64>, String> {
        self.exports.size(&key).map_err(text)
    }
}

/// One user's cart.
#[derive(Debug)]
pub struct ShoppingCart {
    user: String,
    carts: TypedBucket<Cart, JsonCodec>,
    prices: TypedBucket<u64, JsonCodec>,
    orders: Bucket,
}

/// A user's shopping cart, kept in key-value storage.
#[reprise::agent]
impl ShoppingCart {
    /// The cart of `user`.
    pub fn new(user: String) -> Result<Self, String> {
        Ok(ShoppingCart {
            user,
            carts: Bucket::open("carts").map_err(text)?.typed(),
            prices: Bucket::open("prices").map_err(text)?.typed(),
            orders: Bucket::open("orders").map_err(text)?,
        })
    }

    /// Add `quantity` of `sku` (which must have a price); returns the new
    /// quantity of that line.
    pub fn add_item(&mut self, sku: String, quantity: u32) -> Result<u32, String> {
        if !self.prices.exists(&sku).map_err(text)? {
            return Err(format!("`{sku}` is not in the catalog"));
        }
        let cart = self
            .carts
            .update(&self.user, |cart| {
                let mut cart = cart.unwrap_or_default();
                match cart.lines.iter_mut().find(|l| l.sku == sku) {
                    Some(line) => line.quantity += quantity,
                    None => cart.lines.push(Line { sku: sku.clone(), quantity }),
                }
                cart
            })
            .map_err(text)?;
        Ok(cart.lines.iter().find(|l| l.sku == sku).map_or(0, |l| l.quantity))
    }

    /// Remove the line of `sku`; whether there was one.
    pub fn remove_item(&mut self, sku: String) -> Result<bool, String> {
        let Some(mut cart) = self.carts.get(&self.user).map_err(text)? else { return Ok(false) };
        // Commit the read before writing: a crash between the write and its
        // commit would otherwise run the read again and find the line gone.
        reprise::guards::commit_oplog(1);
        let before = cart.lines.len();
        cart.lines.retain(|l| l.sku != sku);
        self.carts.set(&self.user, &cart).map_err(text)?;
        Ok(cart.lines.len() < before)
    }

    /// The cart's lines.
    pub fn items(&self) -> Result<Vec<Line>, String> {
        Ok(self.carts.get(&self.user).map_err(text)?.unwrap_or_default().lines)
    }

    /// Price the cart, record the order, and empty the cart.
    pub fn checkout(&mut self) -> Result<Receipt, String> {
        let cart = self.carts.get(&self.user).map_err(text)?.unwrap_or_default();
        if cart.lines.is_empty() {
            return Err("the cart is empty".into());
        }
        #[cfg(feature = "revision-logged")]
        reprise::log::info!("checkout of {} lines for {}", cart.lines.len(), self.user);
        let skus: Vec<&str> = cart.lines.iter().map(|l| l.sku.as_str()).collect();
        let prices = self.prices.get_many(&skus).map_err(text)?;
        let mut total = 0;
        for (line, price) in cart.lines.iter().zip(&prices) {
            let price = price.ok_or_else(|| format!("`{}` is no longer sold", line.sku))?;
            total += price * u64::from(line.quantity);
        }
        // The order id is an idempotency key: persisted, so a checkout
        // retried after a crash writes the same order again, not a second one.
        let order_id = reprise::host::idempotency_key().simple().to_string();
        let mut rows = vec![(format!("{order_id}/user"), self.user.clone().into_bytes())];
        rows.push((format!("{order_id}/total"), total.to_string().into_bytes()));
        for line in &cart.lines {
            rows.push((format!("{order_id}/line/{}", line.sku), line.quantity.to_string().into_bytes()));
        }
        if cfg!(feature = "revision-swapped") {
            self.carts.delete(&self.user).map_err(text)?;
            self.orders.set_many(rows).map_err(text)?;
        } else {
            self.orders.set_many(rows).map_err(text)?;
            self.carts.delete(&self.user).map_err(text)?;
        }
        Ok(Receipt { order_id, total_cents: total, lines: cart.lines.len() as u32 })
    }
}

reprise::export_agents!(Catalog, ShoppingCart);
