//! A payments agent: `pay` charges a payment service over HTTP through a
//! `#[durable]` function, with an idempotency key generated (and persisted)
//! before the call, so a charge retried after a crash carries the same key.
//!
//! Written against the raw agent interface until the agent macro exists.

use std::cell::RefCell;

use reprise::bindings::exports::golem::agent::guest::Guest;
use reprise::bindings::golem::agent::common::{
    AgentConstructor, AgentError, AgentMode, AgentType, DataSchema, Principal, Snapshotting,
};
use reprise::bindings::golem::core::types::{DataValue, ElementValue, WitValue};
use reprise::value::{FromValue, IntoValue};

thread_local! {
    static ACCOUNT: RefCell<Option<Account>> = const { RefCell::new(None) };
}

struct Account {
    name: String,
    paid: u64,
}

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

fn args(input: &DataValue) -> Vec<&WitValue> {
    match input {
        DataValue::Tuple(items) => {
            items.iter().filter_map(|e| if let ElementValue::ComponentModel(v) = e { Some(v) } else { None }).collect()
        }
        DataValue::Multimodal(_) => Vec::new(),
    }
}

fn arg<T: FromValue>(input: &DataValue, i: usize) -> Result<T, AgentError> {
    let value = args(input).get(i).copied().ok_or_else(|| AgentError::InvalidInput(format!("missing argument {i}")))?;
    T::from_wit_value(value).map_err(|e| AgentError::InvalidInput(format!("argument {i}: {e}")))
}

fn output<T: IntoValue>(v: &T) -> DataValue {
    DataValue::Tuple(vec![ElementValue::ComponentModel(v.to_wit_value())])
}

struct Payments;

impl Guest for Payments {
    fn initialize(agent_type: String, input: DataValue, _principal: Principal) -> Result<(), AgentError> {
        if agent_type != "payments" {
            return Err(AgentError::InvalidType(agent_type));
        }
        let name: String = arg(&input, 0)?;
        ACCOUNT.with(|a| *a.borrow_mut() = Some(Account { name, paid: 0 }));
        Ok(())
    }

    fn invoke(method_name: String, input: DataValue, _principal: Principal) -> Result<DataValue, AgentError> {
        let account = ACCOUNT.with(|a| a.borrow().as_ref().map(|a| a.name.clone()));
        let account = account.ok_or_else(|| AgentError::InvalidInput("not initialized".into()))?;
        match method_name.as_str() {
            "pay" => {
                let service: String = arg(&input, 0)?;
                let cents: u64 = arg(&input, 1)?;
                // Persisted before the charge: a retry after a crash reuses it.
                let key = reprise::guards::idempotency_key().simple().to_string();
                let receipt = charge(service, account, key, cents).map_err(AgentError::InvalidInput)?;
                ACCOUNT.with(|a| a.borrow_mut().as_mut().map(|a| a.paid += cents));
                Ok(output(&receipt))
            }
            "paid" => Ok(output(&ACCOUNT.with(|a| a.borrow().as_ref().map_or(0, |a| a.paid)))),
            other => Err(AgentError::InvalidMethod(other.to_string())),
        }
    }

    fn get_definition() -> AgentType {
        definition()
    }

    fn discover_agent_types() -> Result<Vec<AgentType>, AgentError> {
        Ok(vec![definition()])
    }
}

fn definition() -> AgentType {
    AgentType {
        type_name: "payments".into(),
        description: "charges a payment service exactly once per payment".into(),
        source_language: "rust".into(),
        constructor: AgentConstructor {
            name: None,
            description: "the account to charge for".into(),
            prompt_hint: None,
            input_schema: DataSchema::Tuple(vec![]),
        },
        methods: vec![],
        dependencies: vec![],
        mode: AgentMode::Durable,
        http_mount: None,
        snapshotting: Snapshotting::Disabled,
        config: vec![],
    }
}

reprise::export_raw_agent!(Payments);
