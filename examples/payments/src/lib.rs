//! A payments agent: `pay` charges a payment service over HTTP through a
//! `#[durable]` function, with an idempotency key generated (and persisted)
//! before the call, so a charge retried after a crash carries the same key.

/// Charge `cents` at the service; the HTTP exchange runs once live and is
/// replayed from the oplog afterwards.
#[reprise::durable(interface = "payments", function = "charge", function_type = "write-remote")]
fn charge(service: String, account: String, key: String, cents: u64) -> Result<String, String> {
    post(&service, "/charges", &key, format!("{account}:{cents}").as_bytes())
}

fn post(authority: &str, path: &str, key: &str, body: &[u8]) -> Result<String, String> {
    use wasi::http::outgoing_handler;
    use wasi::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, Scheme};
    use wasi::io::streams::StreamError;

    let headers =
        Fields::from_list(&[("idempotency-key".to_string(), key.as_bytes().to_vec())]).map_err(|e| format!("{e:?}"))?;
    let request = OutgoingRequest::new(headers);
    request.set_method(&Method::Post).map_err(|()| "invalid method")?;
    request.set_scheme(Some(&Scheme::Http)).map_err(|()| "invalid scheme")?;
    request.set_authority(Some(authority)).map_err(|()| "invalid authority")?;
    request.set_path_with_query(Some(path)).map_err(|()| "invalid path")?;
    let outgoing = request.body().map_err(|()| "body already taken")?;
    {
        let stream = outgoing.write().map_err(|()| "body stream already taken")?;
        stream.blocking_write_and_flush(body).map_err(|e| format!("{e:?}"))?;
    }
    OutgoingBody::finish(outgoing, None).map_err(|e| format!("{e:?}"))?;
    let future = outgoing_handler::handle(request, None).map_err(|e| format!("{e:?}"))?;
    future.subscribe().block();
    let response = future.get().ok_or("no response")?.map_err(|()| "response taken")?.map_err(|e| format!("{e:?}"))?;
    let status = response.status();
    let incoming = response.consume().map_err(|()| "body taken")?;
    let stream = incoming.stream().map_err(|()| "stream taken")?;
    let mut text = Vec::new();
    loop {
        match stream.blocking_read(4096) {
            Ok(chunk) => text.extend(chunk),
            Err(StreamError::Closed) => break,
            Err(e) => return Err(format!("{e:?}")),
        }
    }
    let text = String::from_utf8_lossy(&text).into_owned();
    if status == 200 { Ok(text) } else { Err(format!("status {status}: {text}")) }
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
