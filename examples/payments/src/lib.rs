//! A payments agent: `pay` charges a payment service over HTTP through a
//! `#[durable]` function, with an idempotency key generated (and persisted)
//! before the call, so a charge retried after a crash carries the same key.

/// Charge `cents` at the service. The result is recorded once, live, and
/// replayed after a crash without calling the service again; a crash before
/// it was recorded charges again, with the same key.
#[reprise::durable(interface = "payments", function = "charge", function_type = "write-remote")]
fn charge(service: String, account: String, key: String, cents: u64) -> Result<String, String> {
    use reprise::http::{self, Request};
    let request = Request::post(format!("http://{service}/charges"))
        .header("idempotency-key", key)
        .body(format!("{account}:{cents}").into())
        .map_err(|e| e.to_string())?;
    let reply = http::send(request).map_err(|e| e.to_string())?;
    if reply.is_success() { Ok(reply.text()) } else { Err(format!("status {}: {}", reply.status, reply.text())) }
}

/// A payment account.
#[derive(Debug)]
pub struct Payments {
    account: String,
    paid: u64,
}

/// Charges a payment service exactly once per payment.
#[reprise::agent(name = "payments")]
impl Payments {
    /// The account to charge for.
    pub fn new(account: String) -> Self {
        Payments { account, paid: 0 }
    }

    /// Charge `cents` at the payment service `service` (host:port); returns
    /// the receipt.
    pub fn pay(&mut self, service: String, cents: u64) -> Result<String, String> {
        // Persisted before the charge: a retry after a crash reuses it.
        let key = reprise::host::idempotency_key().simple().to_string();
        let receipt = charge(service, self.account.clone(), key, cents)?;
        self.paid += cents;
        Ok(receipt)
    }

    /// The total charged so far.
    pub fn paid(&self) -> u64 {
        self.paid
    }
}

reprise::export_agents!(Payments);
