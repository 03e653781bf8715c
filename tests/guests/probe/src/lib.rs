//! A test agent written against `reprise::bindings` only: each method
//! exercises one host behaviour the testkit must journal and replay.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::cell::RefCell;

use reprise::bindings::exports::golem::agent::guest::Guest;
use reprise::bindings::golem::agent::common::{
    AgentConstructor, AgentError, AgentMethod, AgentMode, AgentType, DataSchema, ElementSchema, Principal, Snapshotting,
};
use reprise::bindings::golem::api::host;
use reprise::bindings::golem::api::oplog::WrappedFunctionType;
use reprise::bindings::golem::core::types::{DataValue, ElementValue, WitNode, WitValue};
use reprise::bindings::golem::core::types::{NamedWitTypeNode, ValueAndType, WitType, WitTypeNode};
use reprise::bindings::golem::durability::durability;
use reprise::bindings::wasi::blobstore::{blobstore, types as blob_types};
use reprise::bindings::wasi::keyvalue::{eventual, types};
use reprise::bindings::wasi::logging::logging;

struct Probe;

thread_local! {
    /// In-memory agent state, rebuilt by replay after a crash.
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
    /// Memory kept on purpose (memory budget tests).
    static HELD: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

struct State {
    name: String,
    counter: u64,
}

fn err(msg: impl Into<String>) -> AgentError {
    AgentError::InvalidInput(msg.into())
}

fn arg(input: &DataValue, i: usize) -> Result<&WitNode, AgentError> {
    let DataValue::Tuple(items) = input else { return Err(err("expected a tuple input")) };
    match items.get(i) {
        Some(ElementValue::ComponentModel(v)) => v.nodes.first().ok_or_else(|| err("empty value")),
        _ => Err(err(format!("missing argument {i}"))),
    }
}

fn arg_str(input: &DataValue, i: usize) -> Result<String, AgentError> {
    match arg(input, i)? {
        WitNode::PrimString(s) => Ok(s.clone()),
        other => Err(err(format!("argument {i}: expected a string, got {other:?}"))),
    }
}

fn arg_u64(input: &DataValue, i: usize) -> Result<u64, AgentError> {
    match arg(input, i)? {
        WitNode::PrimU64(v) => Ok(*v),
        other => Err(err(format!("argument {i}: expected a u64, got {other:?}"))),
    }
}

fn one(nodes: Vec<WitNode>) -> DataValue {
    DataValue::Tuple(vec![ElementValue::ComponentModel(WitValue { nodes })])
}

fn out_u64(v: u64) -> DataValue {
    one(vec![WitNode::PrimU64(v)])
}

fn out_str(s: String) -> DataValue {
    one(vec![WitNode::PrimString(s)])
}

fn out_opt_str(s: Option<String>) -> DataValue {
    match s {
        Some(s) => one(vec![WitNode::OptionValue(Some(1)), WitNode::PrimString(s)]),
        None => one(vec![WitNode::OptionValue(None)]),
    }
}

/// An input of string arguments.
fn strings(items: &[&str]) -> DataValue {
    DataValue::Tuple(
        items
            .iter()
            .map(|s| ElementValue::ComponentModel(WitValue { nodes: vec![WitNode::PrimString(s.to_string())] }))
            .collect(),
    )
}

fn unit() -> DataValue {
    DataValue::Tuple(vec![])
}

fn bucket(name: &str) -> types::Bucket {
    types::Bucket::open_bucket(name).unwrap()
}

fn kv_set(b: &str, key: &str, value: &[u8]) {
    let v = types::OutgoingValue::new_outgoing_value();
    v.outgoing_value_write_body_sync(value).unwrap();
    eventual::set(&bucket(b), key, &v).unwrap();
}

fn kv_get(b: &str, key: &str) -> Option<Vec<u8>> {
    eventual::get(&bucket(b), key).unwrap().map(|v| v.incoming_value_consume_sync().unwrap())
}

fn prim(value: WitNode, typ: WitTypeNode) -> ValueAndType {
    ValueAndType {
        value: WitValue { nodes: vec![value] },
        typ: WitType { nodes: vec![NamedWitTypeNode { name: None, owner: None, type_: typ }] },
    }
}

/// A custom durable function with a remote side effect: writes the charge to
/// the `ledger` bucket under an idempotency key, as a payment provider would.
fn charge(name: &str, account: &str, amount: u64) -> u64 {
    // The key is persisted before the effect, so a retried charge reuses it.
    let key = host::generate_idempotency_key();
    durability::observe_function_call("payments", name);
    let begin = durability::begin_durable_function(WrappedFunctionType::WriteRemote);
    let state = durability::current_durable_execution_state();
    let receipt = if state.is_live {
        // The side effect is recorded with persistence off; replay passes
        // over it and reads the persisted result instead.
        host::set_oplog_persistence_level(host::PersistenceLevel::PersistNothing);
        let ledger_key = format!("{account}/{:016x}{:016x}", key.high_bits, key.low_bits);
        kv_set("ledger", &ledger_key, amount.to_string().as_bytes());
        host::set_oplog_persistence_level(host::PersistenceLevel::Smart);
        let receipt = key.low_bits % 100_000;
        durability::persist_durable_function_invocation(
            &format!("payments::{name}"),
            &prim(WitNode::PrimString(format!("{account}:{amount}")), WitTypeNode::PrimStringType),
            &prim(WitNode::PrimU64(receipt), WitTypeNode::PrimU64Type),
            WrappedFunctionType::WriteRemote,
        );
        receipt
    } else {
        let recorded = durability::read_persisted_durable_function_invocation();
        match recorded.response.value.nodes.first() {
            Some(WitNode::PrimU64(r)) => *r,
            other => panic!("unexpected recorded response {other:?}"),
        }
    };
    durability::end_durable_function(WrappedFunctionType::WriteRemote, begin, false);
    receipt
}

/// A blocking POST through wasi:http; returns "STATUS BODY".
fn http_post(authority: &str, path: &str, key: &str, body: &[u8]) -> Result<String, String> {
    use wasi::http::outgoing_handler;
    use wasi::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, Scheme};
    use wasi::io::streams::StreamError;

    let headers =
        Fields::from_list(&[("idempotency-key".to_string(), key.as_bytes().to_vec())]).map_err(|e| format!("{e:?}"))?;
    let request = OutgoingRequest::new(headers);
    request.set_method(&Method::Post).map_err(|()| "method")?;
    request.set_scheme(Some(&Scheme::Http)).map_err(|()| "scheme")?;
    request.set_authority(Some(authority)).map_err(|()| "authority")?;
    request.set_path_with_query(Some(path)).map_err(|()| "path")?;
    let outgoing = request.body().map_err(|()| "body")?;
    {
        let stream = outgoing.write().map_err(|()| "body stream")?;
        stream.blocking_write_and_flush(body).map_err(|e| format!("{e:?}"))?;
    }
    OutgoingBody::finish(outgoing, None).map_err(|e| format!("{e:?}"))?;
    let future = outgoing_handler::handle(request, None).map_err(|e| format!("{e:?}"))?;
    future.subscribe().block();
    let response =
        future.get().ok_or("response not ready")?.map_err(|()| "response taken")?.map_err(|e| format!("{e:?}"))?;
    let status = response.status();
    let incoming = response.consume().map_err(|()| "consume")?;
    let stream = incoming.stream().map_err(|()| "stream")?;
    let mut text = Vec::new();
    loop {
        match stream.blocking_read(4096) {
            Ok(chunk) => text.extend(chunk),
            Err(StreamError::Closed) => break,
            Err(e) => return Err(format!("{e:?}")),
        }
    }
    Ok(format!("{status} {}", String::from_utf8_lossy(&text)))
}

/// A refund through `#[durable]`: the body's side effect (a ledger write)
/// runs once live, and replay returns the recorded result without running it.
#[cfg_attr(not(feature = "v2-renamed"), reprise::durable(interface = "payments", function = "refund"))]
#[cfg_attr(feature = "v2-renamed", reprise::durable(interface = "payments", function = "refund-v2"))]
fn refund(account: String, cents: u64) -> Result<String, String> {
    if cents == 0 {
        return Err("nothing to refund".into());
    }
    kv_set("refunds", &account, cents.to_string().as_bytes());
    Ok(format!("refunded {cents} to {account}"))
}

/// Counts lookups of `account` in an audit log: a side effect inside a
/// function wrongly declared read-remote, which Golem does not commit when
/// it ends, so a crash before the next commit makes recovery run it again.
#[reprise::durable(interface = "ledger", function = "lookup", function_type = "read-remote")]
fn audited_lookup(account: String) -> u64 {
    let seen = kv_get("audit", &account).and_then(|b| String::from_utf8(b).ok()).and_then(|s| s.parse().ok());
    let seen: u64 = seen.unwrap_or(0) + 1;
    kv_set("audit", &account, seen.to_string().as_bytes());
    seen
}

/// A trivial durable function, for measuring the protocol's cost.
#[reprise::durable(interface = "bench", function = "step", function_type = "read-local")]
fn durable_step(i: u64) -> u64 {
    i.wrapping_mul(31)
}

/// Returns early from inside a persistence guard.
fn quiet_early(stop: bool) -> u32 {
    let _quiet = reprise::guards::PersistenceGuard::set(host::PersistenceLevel::PersistNothing);
    if stop {
        return 1;
    }
    2
}

fn with_state<T>(f: impl FnOnce(&mut State) -> T) -> Result<T, AgentError> {
    STATE.with(|s| s.borrow_mut().as_mut().map(f)).ok_or_else(|| err("not initialized"))
}

impl Guest for Probe {
    fn initialize(agent_type: String, input: DataValue, _principal: Principal) -> Result<(), AgentError> {
        if agent_type != "probe" {
            return Err(AgentError::InvalidType(format!("unknown agent type {agent_type}")));
        }
        let name = arg_str(&input, 0)?;
        STATE.with(|s| *s.borrow_mut() = Some(State { name, counter: 0 }));
        Ok(())
    }

    fn invoke(method_name: String, input: DataValue, _principal: Principal) -> Result<DataValue, AgentError> {
        match method_name.as_str() {
            "name" => {
                let name = with_state(|s| s.name.clone())?;
                Ok(out_str(if cfg!(feature = "v2") { format!("{name} (v2)") } else { name }))
            }
            "count" => {
                if cfg!(feature = "v2-incompatible") {
                    let _ = host::generate_idempotency_key();
                }
                Ok(out_u64(with_state(|s| {
                    s.counter += 1;
                    s.counter
                })?))
            }
            "update" => {
                // Ask the executor to move another agent of this component to a revision.
                let me = host::get_self_metadata().agent_id;
                let target = host::AgentId { component_id: me.component_id, agent_id: arg_str(&input, 0)? };
                host::update_agent(&target, arg_u64(&input, 1)?, host::UpdateMode::Automatic);
                Ok(unit())
            }
            "put" => {
                kv_set("probe", &arg_str(&input, 0)?, arg_str(&input, 1)?.as_bytes());
                Ok(unit())
            }
            "get" => {
                let v = kv_get("probe", &arg_str(&input, 0)?).map(|b| String::from_utf8_lossy(&b).into_owned());
                Ok(out_opt_str(v))
            }
            "now" => {
                let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
                Ok(out_u64(t.as_millis() as u64))
            }
            "random" => {
                use std::hash::BuildHasher;
                Ok(out_u64(std::collections::hash_map::RandomState::new().hash_one(42_u64)))
            }
            "idempotency-key" => {
                let k = host::generate_idempotency_key();
                Ok(out_str(format!("{:016x}{:016x}", k.high_bits, k.low_bits)))
            }
            "charge" => Ok(out_u64(charge("charge", &arg_str(&input, 0)?, arg_u64(&input, 1)?))),
            "charge-renamed" => Ok(out_u64(charge("charge-v2", &arg_str(&input, 0)?, arg_u64(&input, 1)?))),
            "transfer" => {
                // Both writes or, after a crash inside, the whole region again.
                let from = arg_str(&input, 0)?;
                let to = arg_str(&input, 1)?;
                let begin = host::mark_begin_operation();
                kv_set("probe", &from, b"debited");
                kv_set("probe", &to, b"credited");
                host::mark_end_operation(begin);
                Ok(unit())
            }
            "panic-until" | "panic-in-region-until" => {
                // Panics until a counter in the store (a side effect, read
                // afresh by each attempt run live) reaches the target.
                let target = arg_u64(&input, 0)?;
                let region = (method_name == "panic-in-region-until").then(host::mark_begin_operation);
                let tries =
                    kv_get("panics", "n").map_or(0, |b| String::from_utf8_lossy(&b).parse::<u64>().unwrap_or(0)) + 1;
                kv_set("panics", "n", tries.to_string().as_bytes());
                if tries < target {
                    panic!("attempt {tries} of {target} panics");
                }
                if let Some(begin) = region {
                    host::mark_end_operation(begin);
                }
                Ok(out_u64(tries))
            }
            "set-mode" => {
                kv_set("probe", "mode", arg_str(&input, 0)?.as_bytes());
                Ok(unit())
            }
            "flaky" => {
                // Reads the store with persistence off and branches on it: a
                // read Golem cannot replay (it passes over the zone), so
                // recovery fails at the level change.
                host::set_oplog_persistence_level(host::PersistenceLevel::PersistNothing);
                let mode = kv_get("probe", "mode");
                host::set_oplog_persistence_level(host::PersistenceLevel::Smart);
                if mode.as_deref() == Some(b"a") {
                    let _ = std::time::SystemTime::now();
                } else {
                    let _ = host::generate_idempotency_key();
                }
                Ok(unit())
            }
            "blob-put" => {
                // Streams the data into the object, creating the container on first use.
                let (c, name, data) = (arg_str(&input, 0)?, arg_str(&input, 1)?, arg_str(&input, 2)?);
                // Creating may be retried after a crash: an existing container is fine.
                let container = if blobstore::container_exists(&c).map_err(err)? {
                    blobstore::get_container(&c).map_err(err)?
                } else {
                    blobstore::create_container(&c).or_else(|_| blobstore::get_container(&c)).map_err(err)?
                };
                let value = blob_types::OutgoingValue::new_outgoing_value();
                let body = value.outgoing_value_write_body().map_err(|()| err("body taken"))?;
                for chunk in data.as_bytes().chunks(3) {
                    body.blocking_write_and_flush(chunk).map_err(|e| err(format!("{e:?}")))?;
                }
                drop(body);
                container.write_data(&name, &value).map_err(err)?;
                Ok(unit())
            }
            "blob-get" => {
                let (c, name) = (arg_str(&input, 0)?, arg_str(&input, 1)?);
                let (start, end) = (arg_u64(&input, 2)?, arg_u64(&input, 3)?);
                let container = blobstore::get_container(&c).map_err(err)?;
                let data = container.get_data(&name, start, end).map_err(err)?;
                let bytes = data.incoming_value_consume_sync().map_err(err)?;
                Ok(out_str(String::from_utf8_lossy(&bytes).into_owned()))
            }
            "blob-list" => {
                let container = blobstore::get_container(&arg_str(&input, 0)?).map_err(err)?;
                let names = container.list_objects().map_err(err)?;
                let mut all = Vec::new();
                loop {
                    let (batch, done) = names.read_stream_object_names(2).map_err(err)?;
                    all.extend(batch);
                    if done {
                        break;
                    }
                }
                Ok(out_str(all.join(",")))
            }
            "traced" => {
                // Nested spans with attributes; reports what the context sees.
                use reprise::bindings::golem::api::context::{self, AttributeValue};
                let order = context::start_span("order");
                order.set_attribute("order-id", &AttributeValue::String(arg_str(&input, 0)?));
                let report = {
                    let payment = context::start_span("payment");
                    payment.set_attribute("provider", &AttributeValue::String("acme".into()));
                    let ctx = context::current_context();
                    let chain: Vec<String> =
                        ctx.get_attribute_chain("name").into_iter().map(|AttributeValue::String(s)| s).collect();
                    let order_id = match ctx.get_attribute("order-id", true) {
                        Some(AttributeValue::String(s)) => s,
                        None => "none".into(),
                    };
                    let own_order_id = ctx.get_attribute("order-id", false).is_some();
                    let headers = ctx.trace_context_headers();
                    let parent_span = ctx.parent().map(|p| p.span_id()).unwrap_or_default();
                    format!(
                        "chain={} order-id={order_id} own={own_order_id} parent-is-order={} traceparent={}",
                        chain.join(">"),
                        parent_span.len() == 16,
                        headers
                            .iter()
                            .any(|(k, v)| k == "traceparent" && v.starts_with("00-") && v.contains(&ctx.span_id()))
                    )
                    // `payment` finishes here, on drop
                };
                order.finish();
                Ok(out_str(report))
            }
            "own-oplog" => {
                // Pages through the agent's own oplog and summarises it.
                use reprise::bindings::golem::api::oplog::{GetOplog, PublicOplogEntry, SearchOplog};
                let me = host::get_self_metadata().agent_id;
                let reader = GetOplog::new(&me, 1);
                let (mut total, mut host_calls) = (0, 0);
                while let Some(page) = reader.get_next() {
                    total += page.len();
                    host_calls += page.iter().filter(|e| matches!(e, PublicOplogEntry::HostCall(_))).count();
                }
                let search = SearchOplog::new(&me, &arg_str(&input, 0)?);
                let mut found = Vec::new();
                while let Some(page) = search.get_next() {
                    found.extend(page.into_iter().map(|(i, _)| i.to_string()));
                }
                Ok(out_str(format!("total={total} host-calls={host_calls} found={}", found.join(","))))
            }
            "list-agents" => {
                // Agents of this component whose name is LIKE the pattern and
                // which have not failed, or whose GOLEM_AGENT_TYPE is `nobody`.
                use host::{
                    AgentAllFilter, AgentAnyFilter, AgentEnvFilter, AgentNameFilter, AgentPropertyFilter, AgentStatus,
                    AgentStatusFilter, FilterComparator, GetAgents, StringFilterComparator,
                };
                let me = host::get_self_metadata();
                let filter = AgentAnyFilter {
                    filters: vec![
                        AgentAllFilter {
                            filters: vec![
                                AgentPropertyFilter::Name(AgentNameFilter {
                                    comparator: StringFilterComparator::Like,
                                    value: arg_str(&input, 0)?,
                                }),
                                AgentPropertyFilter::Status(AgentStatusFilter {
                                    comparator: FilterComparator::NotEqual,
                                    value: AgentStatus::Failed,
                                }),
                            ],
                        },
                        AgentAllFilter {
                            filters: vec![AgentPropertyFilter::Env(AgentEnvFilter {
                                name: "GOLEM_AGENT_TYPE".into(),
                                comparator: StringFilterComparator::Equal,
                                value: "nobody".into(),
                            })],
                        },
                    ],
                };
                let agents = GetAgents::new(me.agent_id.component_id, Some(&filter), true);
                let mut names = Vec::new();
                while let Some(page) = agents.get_next() {
                    names.extend(page.into_iter().map(|m| format!("{}:{:?}", m.agent_id.agent_id, m.status)));
                }
                Ok(out_str(names.join(" ")))
            }
            "config" => {
                use reprise::bindings::wasi::config::store;
                let v = store::get(&arg_str(&input, 0)?).map_err(|e| err(format!("{e:?}")))?;
                Ok(out_opt_str(v))
            }
            "http-post" | "http-post-non-idempotent" => {
                // POST to a service with an idempotency key; the host journals the exchange.
                let (authority, path, body) = (arg_str(&input, 0)?, arg_str(&input, 1)?, arg_str(&input, 2)?);
                let key = host::generate_idempotency_key();
                let key = format!("{:016x}{:016x}", key.high_bits, key.low_bits);
                let idempotent = method_name == "http-post";
                host::set_idempotence_mode(idempotent);
                let reply = http_post(&authority, &path, &key, body.as_bytes());
                host::set_idempotence_mode(true);
                Ok(out_str(reply.map_err(err)?))
            }
            "retry-until" => {
                // Travel back to a saved oplog position until an attempt counter
                // (in the store: each pass after a jump runs live and reads it
                // afresh; replay sees only the last pass) reaches the target.
                let target = arg_u64(&input, 0)?;
                let position = host::get_oplog_index();
                let tries =
                    kv_get("attempts", "n").map_or(0, |b| String::from_utf8_lossy(&b).parse::<u64>().unwrap_or(0)) + 1;
                kv_set("attempts", "n", tries.to_string().as_bytes());
                if tries < target {
                    host::set_oplog_index(position);
                }
                Ok(out_u64(tries))
            }
            "kv-batch" => {
                use reprise::bindings::wasi::keyvalue::eventual_batch;
                let b = bucket("batch");
                let values: Vec<types::OutgoingValue> = (0..3)
                    .map(|i| {
                        let v = types::OutgoingValue::new_outgoing_value();
                        v.outgoing_value_write_body_sync(format!("v{i}").as_bytes()).unwrap();
                        v
                    })
                    .collect();
                let pairs: Vec<(String, &types::OutgoingValue)> =
                    values.iter().enumerate().map(|(i, v)| (format!("k{i}"), v)).collect();
                eventual_batch::set_many(&b, &pairs).map_err(|e| err(e.trace()))?;
                let got = eventual_batch::get_many(&b, &["k0".into(), "nope".into(), "k2".into()])
                    .map_err(|e| err(e.trace()))?;
                let got: Vec<String> = got
                    .into_iter()
                    .map(|v| {
                        v.map_or("-".into(), |v| {
                            String::from_utf8_lossy(&v.incoming_value_consume_sync().unwrap()).into_owned()
                        })
                    })
                    .collect();
                eventual_batch::delete_many(&b, &["k1".into()]).map_err(|e| err(e.trace()))?;
                let keys = eventual_batch::keys(&b).map_err(|e| err(e.trace()))?;
                let exists = eventual::exists(&b, "k1").map_err(|e| err(e.trace()))?;
                let size =
                    eventual::get(&b, "k2").map_err(|e| err(e.trace()))?.map(|v| v.incoming_value_size().unwrap());
                // The reads above are buffered; a crash after the delete below
                // (before its entry is persisted) would lose them, and their
                // re-execution would see k0 gone. Committing first keeps the
                // answer the same on Golem, whatever the crash.
                host::oplog_commit(1);
                eventual::delete(&b, "k0").map_err(|e| err(e.trace()))?;
                let bad = types::Bucket::open_bucket("").err().map(|e| e.trace()).unwrap_or_default();
                Ok(out_str(format!(
                    "got={} keys={} k1={exists} size={size:?} bad={bad}",
                    got.join(","),
                    keys.join(",")
                )))
            }
            "blob-ops" => {
                use reprise::bindings::wasi::blobstore::types::ObjectId;
                let a = blobstore::create_container("a").map_err(err)?;
                blobstore::create_container("b").map_err(err)?;
                let value = blob_types::OutgoingValue::new_outgoing_value();
                value
                    .outgoing_value_write_body()
                    .map_err(|()| err("body"))?
                    .blocking_write_and_flush(b"payload")
                    .unwrap();
                a.write_data("x", &value).map_err(err)?;
                let id = |c: &str, o: &str| ObjectId { container: c.into(), object: o.into() };
                blobstore::copy_object(&id("a", "x"), &id("b", "copy")).map_err(err)?;
                blobstore::move_object(&id("a", "x"), &id("b", "moved")).map_err(err)?;
                let b = blobstore::get_container("b").map_err(err)?;
                let info = b.object_info("moved").map_err(err)?;
                let a_has = a.has_object("x").map_err(err)?;
                b.delete_objects(&["copy".into()]).map_err(err)?;
                let missing = b.object_info("copy").err().unwrap_or_default();
                b.clear().map_err(err)?;
                let empty = !b.has_object("moved").map_err(err)?;
                blobstore::delete_container("a").map_err(err)?;
                let gone = !blobstore::container_exists("a").map_err(err)?;
                Ok(out_str(format!("size={} a_has={a_has} missing={missing} empty={empty} gone={gone}", info.size)))
            }
            "host-trap" => {
                host::trap("the agent gave up");
                Ok(unit())
            }
            "rpc-async" => {
                // Calls `count` on another probe with async-invoke-and-await,
                // waits on the future's pollable, and returns its answer.
                use reprise::bindings::golem::agent::host::WasmRpc;
                let rpc = WasmRpc::new("probe", &out_str(arg_str(&input, 0)?), None, &[]);
                let future = rpc.async_invoke_and_await("count", &DataValue::Tuple(vec![]));
                future.subscribe().block();
                match future.get() {
                    Some(Ok(answer)) => Ok(answer),
                    Some(Err(e)) => Err(err(format!("{e:?}"))),
                    None => Err(err("the future answered nothing")),
                }
            }
            "trigger-put" => {
                // Triggers `put(key, value)` on probe `target` (fire and
                // forget), then reads the key: on Golem the read races the
                // callee's write.
                use reprise::bindings::golem::agent::host::WasmRpc;
                let (target, key, value) = (arg_str(&input, 0)?, arg_str(&input, 1)?, arg_str(&input, 2)?);
                let rpc = WasmRpc::new("probe", &out_str(target), None, &[]);
                rpc.invoke("put", &strings(&[&key, &value])).map_err(|e| err(format!("{e:?}")))?;
                let v = kv_get("probe", &key).map(|b| String::from_utf8_lossy(&b).into_owned());
                Ok(out_opt_str(v))
            }
            "call-back" => {
                // Awaits `method(me)` on probe `target`: with `trigger-count`
                // or `await-count`, the callee calls this probe back.
                use reprise::bindings::golem::agent::host::WasmRpc;
                let me = with_state(|s| s.name.clone())?;
                let rpc = WasmRpc::new("probe", &out_str(arg_str(&input, 0)?), None, &[]);
                rpc.invoke_and_await(&arg_str(&input, 1)?, &strings(&[&me])).map_err(|e| err(format!("{e:?}")))?;
                Ok(unit())
            }
            "trigger-count" => {
                use reprise::bindings::golem::agent::host::WasmRpc;
                let rpc = WasmRpc::new("probe", &out_str(arg_str(&input, 0)?), None, &[]);
                rpc.invoke("count", &unit()).map_err(|e| err(format!("{e:?}")))?;
                Ok(unit())
            }
            "await-count" => {
                use reprise::bindings::golem::agent::host::WasmRpc;
                let rpc = WasmRpc::new("probe", &out_str(arg_str(&input, 0)?), None, &[]);
                rpc.invoke_and_await("count", &unit()).map_err(|e| err(format!("{e:?}")))?;
                Ok(unit())
            }
            "randoms" => {
                // Many read-local calls in one invocation: buffered until
                // the buffer passes Golem's limit.
                let n = arg_u64(&input, 0)?;
                let sum = (0..n).fold(0u64, |acc, _| acc.wrapping_add(wasi::random::random::get_random_u64()));
                Ok(out_u64(sum))
            }
            "random-buffered" => {
                // A read-local call: buffered, not committed by itself.
                Ok(out_u64(wasi::random::random::get_random_u64()))
            }
            "random-committed" => {
                let value = wasi::random::random::get_random_u64();
                host::oplog_commit(1);
                Ok(out_u64(value))
            }
            "stamp" => {
                // Writes the time it read: on Golem, a crash after the write
                // and before its commit makes the retry write another time.
                let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
                kv_set("stamps", "last", t.as_millis().to_string().as_bytes());
                Ok(unit())
            }
            "stamp-key" => {
                // Writes an idempotency key: Golem derives it from the oplog
                // position, so a retry writes the same key.
                let k = host::generate_idempotency_key();
                kv_set("stamps", "key", format!("{:016x}{:016x}", k.high_bits, k.low_bits).as_bytes());
                Ok(unit())
            }
            "read-then-delete" | "read-commit-then-delete" => {
                // Reads a key, then deletes it, answering what it read.
                kv_set("stale", "k", b"1");
                let seen = kv_get("stale", "k").map(|b| String::from_utf8_lossy(&b).into_owned());
                if method_name == "read-commit-then-delete" {
                    host::oplog_commit(1);
                }
                let b = bucket("stale");
                eventual::delete(&b, "k").map_err(|e| err(e.trace()))?;
                Ok(out_opt_str(seen))
            }
            "write-non-idempotent" => {
                // A remote write with idempotence off: bracketed by
                // begin/end-remote-write, and not retried after a crash inside it.
                host::set_idempotence_mode(false);
                kv_set("ledger", "paid", b"yes");
                host::set_idempotence_mode(true);
                Ok(unit())
            }
            "idempotence" => {
                let before = host::get_idempotence_mode();
                host::set_idempotence_mode(false);
                Ok(out_str(format!("{before}->{}", host::get_idempotence_mode())))
            }
            "audit" => Ok(out_u64(audited_lookup(arg_str(&input, 0)?))),
            "refund" => match refund(arg_str(&input, 0)?, arg_u64(&input, 1)?) {
                Ok(receipt) => Ok(out_str(receipt)),
                Err(e) => Err(AgentError::InvalidInput(e)),
            },
            "order-tx" => {
                // Reserve stock, then charge; a declined charge releases the stock.
                use reprise::guards::fallible_transaction;
                let (item, decline) = (arg_str(&input, 0)?, arg_u64(&input, 1)? == 1);
                let outcome: Result<String, String> = fallible_transaction(|tx| {
                    let reserved = tx.step(
                        || {
                            kv_set("stock", &item, b"reserved");
                            Ok::<_, String>(item.clone())
                        },
                        |item| eventual::delete(&bucket("stock"), item).unwrap(),
                    )?;
                    tx.step(
                        || {
                            if decline {
                                Err("card declined".to_string())
                            } else {
                                kv_set("charges", &reserved, b"paid");
                                Ok(())
                            }
                        },
                        |_| {},
                    )?;
                    Ok(format!("ordered {reserved}"))
                });
                Ok(out_str(outcome.unwrap_or_else(|e| format!("failed: {e}"))))
            }
            "log" => {
                logging::log(logging::Level::Info, "probe", &arg_str(&input, 0)?);
                Ok(unit())
            }
            "create-promise" => Ok(out_u64(host::create_promise().oplog_idx)),
            "await-promise" => {
                // Await this agent's promise at the given index: the payload
                // as text.
                let promise =
                    host::PromiseId { agent_id: host::get_self_metadata().agent_id, oplog_idx: arg_u64(&input, 0)? };
                let wait = host::get_promise(&promise);
                wait.subscribe().block();
                let data = wait.get().unwrap_or_default();
                Ok(out_str(String::from_utf8_lossy(&data).into_owned()))
            }
            "complete-promise" => {
                // Complete promise (agent, index) with a text payload.
                let me = host::get_self_metadata().agent_id;
                let agent_id = host::AgentId { component_id: me.component_id, agent_id: arg_str(&input, 0)? };
                let promise = host::PromiseId { agent_id, oplog_idx: arg_u64(&input, 1)? };
                Ok(out_str(host::complete_promise(&promise, arg_str(&input, 2)?.as_bytes()).to_string()))
            }
            "sleep-retries" => {
                // Three attempts, sleeping the given number of days after
                // each (std's sleep: subscribe-duration, then block); the
                // wall clock's reading in seconds at each attempt and at the end.
                let days = arg_u64(&input, 0)?;
                let seconds =
                    || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
                let mut readings = Vec::new();
                for _ in 0..3 {
                    readings.push(seconds().to_string());
                    std::thread::sleep(std::time::Duration::from_secs(days * 86_400));
                }
                readings.push(seconds().to_string());
                Ok(out_str(readings.join(",")))
            }
            "trap" => panic!("probe asked to trap"),
            "loop" => {
                let mut x: u64 = 0;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            "hold" => {
                // Keep this many MiB of memory until the instance goes.
                let mib = arg_u64(&input, 0)?;
                HELD.with(|held| held.borrow_mut().push(vec![1u8; (mib as usize) << 20]));
                Ok(unit())
            }
            "oom" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "guards" => {
                // Settings come back after early returns and closures.
                use reprise::guards::{with_idempotence_mode, with_persistence_level};
                let early = quiet_early(true);
                let level = host::get_oplog_persistence_level();
                let inner = with_persistence_level(host::PersistenceLevel::PersistRemoteSideEffects, || {
                    host::get_oplog_persistence_level()
                });
                let idem = with_idempotence_mode(false, host::get_idempotence_mode);
                Ok(out_str(format!(
                    "early={early} after={level:?} inside={inner:?} idempotent-inside={idem} after={}",
                    host::get_idempotence_mode()
                )))
            }
            "durable-steps" => {
                let n = arg_u64(&input, 0)?;
                Ok(out_u64((0..n).fold(0u64, |acc, i| acc.wrapping_add(durable_step(i)))))
            }
            "steps" => {
                // A workload of N journaled steps, for benchmarks and bulk crash tests.
                let n = arg_u64(&input, 0)?;
                let mut sum = 0u64;
                for i in 0..n {
                    let key = host::generate_idempotency_key();
                    sum = sum.wrapping_add(key.low_bits ^ i);
                }
                Ok(out_u64(sum))
            }
            other => Err(AgentError::InvalidMethod(format!("no method {other}"))),
        }
    }

    fn get_definition() -> AgentType {
        definition()
    }

    fn discover_agent_types() -> Result<Vec<AgentType>, AgentError> {
        if cfg!(feature = "discovery-panics") {
            panic!("discovery broke on purpose");
        }
        Ok(vec![definition()])
    }
}

fn definition() -> AgentType {
    AgentType {
        type_name: "probe".into(),
        description: "exercises the testkit host".into(),
        source_language: "rust".into(),
        constructor: AgentConstructor {
            name: None,
            description: "a named probe".into(),
            prompt_hint: None,
            input_schema: DataSchema::Tuple(vec![(
                "name".into(),
                ElementSchema::ComponentModel(<String as reprise::value::Schema>::wit_type()),
            )]),
        },
        // Most methods are invoked by name only; these few are declared so
        // that tools reading the schemas (`reprise crash-test`) can call them.
        methods: vec![
            method("count", &[], Some(<u64 as reprise::value::Schema>::wit_type())),
            method("set-mode", &[("mode", <String as reprise::value::Schema>::wit_type())], None),
            method("flaky", &[], None),
            method(
                "traced",
                &[("order", <String as reprise::value::Schema>::wit_type())],
                Some(<String as reprise::value::Schema>::wit_type()),
            ),
            method("trap", &[], None),
            method(
                "audit",
                &[("account", <String as reprise::value::Schema>::wit_type())],
                Some(<u64 as reprise::value::Schema>::wit_type()),
            ),
            method("log", &[("message", <String as reprise::value::Schema>::wit_type())], None),
            method(
                "trigger-put",
                &[
                    ("target", <String as reprise::value::Schema>::wit_type()),
                    ("key", <String as reprise::value::Schema>::wit_type()),
                    ("value", <String as reprise::value::Schema>::wit_type()),
                ],
                Some(<Option<String> as reprise::value::Schema>::wit_type()),
            ),
            method(
                "randoms",
                &[("n", <u64 as reprise::value::Schema>::wit_type())],
                Some(<u64 as reprise::value::Schema>::wit_type()),
            ),
        ],
        dependencies: vec![],
        mode: AgentMode::Durable,
        http_mount: None,
        snapshotting: Snapshotting::Disabled,
        config: vec![],
    }
}

fn method(name: &str, params: &[(&str, WitType)], output: Option<WitType>) -> AgentMethod {
    let schema = |items: Vec<(String, WitType)>| {
        DataSchema::Tuple(items.into_iter().map(|(n, t)| (n, ElementSchema::ComponentModel(t))).collect())
    };
    AgentMethod {
        name: name.into(),
        description: String::new(),
        http_endpoint: vec![],
        prompt_hint: None,
        input_schema: schema(params.iter().map(|(n, t)| (n.to_string(), t.clone())).collect()),
        output_schema: schema(output.into_iter().map(|t| ("return-value".to_string(), t)).collect()),
    }
}

reprise::export_raw_agent!(Probe);
