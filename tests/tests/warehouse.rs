//! The warehouse example: an order agent calling an inventory agent through
//! the generated RPC client, with crashes on either side.
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_e2e::{build_example, schema};
use reprise_example_warehouse::{DeskCall, InventoryCall, InventoryHandle, Line, OrderCall, OrderHandle};
use reprise_testkit::bindings::golem::api::context::AttributeValue;
use reprise_testkit::bindings::golem::api::oplog::{AgentInvocation, WrappedFunctionType};
use reprise_testkit::bindings::golem::core::types::{DataSchema, ElementSchema};
use reprise_testkit::oplog::{OplogEntry, function_type_name};
use reprise_testkit::value::{Type, Value};
use reprise_testkit::verify::{CrashPlan, Scenario, verify};
use reprise_testkit::{Agent, CrashPoint, Environment, LoadedComponent, Schedule};

const INVENTORY: &str = r#"inventory("main")"#;
const RPC_CALL: &str = "golem::rpc::wasm-rpc::invoke_and_await";

/// An environment whose `main` warehouse opens with 5 apples and 2 pears.
fn warehouse() -> (Environment, LoadedComponent) {
    let env = Environment::builder().kv_entry("stock-levels", "main", r#"{"apple":5,"pear":2}"#).build().unwrap();
    let component = env.load(build_example("warehouse")).unwrap();
    (env, component)
}

fn order(env: &Environment, component: &LoadedComponent, id: &str) -> OrderHandle<Agent> {
    env.create(component, OrderCall::new(id.into(), "main".into())).unwrap()
}

/// The environment-owned `main` inventory, which the orders' calls created.
fn main_inventory(env: &Environment) -> InventoryHandle<reprise_testkit::AgentHandle> {
    InventoryHandle { agent: env.agent_handle(INVENTORY).expect("created by an order's call") }
}

fn err(text: &str) -> Result<u32, String> {
    Err(text.to_string())
}

/// The methods an agent's oplog records invocations of, in order.
fn invoked_methods(agent: &Agent) -> Vec<String> {
    agent
        .oplog()
        .entries()
        .iter()
        .filter_map(|e| match e {
            OplogEntry::AgentInvocationStarted(p) => match &p.invocation {
                AgentInvocation::AgentMethodInvocation(m) => Some(m.method_name.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Oplog index of the first RPC call an agent recorded.
fn first_rpc_call(agent: &Agent) -> u64 {
    let pos = agent
        .oplog()
        .entries()
        .iter()
        .position(|e| matches!(e, OplogEntry::HostCall(p) if p.function_name == RPC_CALL))
        .expect("an RPC call is recorded");
    pos as u64 + 1
}

#[test]
fn discovery_describes_the_agent_types() {
    let (_env, component) = warehouse();
    let names: Vec<&str> = component.agent_types().unwrap().iter().map(|t| t.type_name.as_str()).collect();
    assert_eq!(names, ["Order", "Inventory", "Desk"]);

    let order = component.agent_type("Order").unwrap();
    assert_eq!(order.description, "A customer order, reserving its lines from a warehouse's inventory.");
    assert_eq!(order.constructor.input_schema, schema(&[("id", Type::String), ("warehouse", Type::String)]));
    let methods: Vec<&str> = order.methods.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(methods, ["add_line", "remove_sku", "lines", "place", "inventory_id"]);
    let add_line = &order.methods[0];
    assert_eq!(add_line.input_schema, schema(&[("sku", Type::String), ("quantity", Type::U32)]));
    let u32_or_error = Type::result(Some(Type::U32), Some(Type::String));
    assert_eq!(add_line.output_schema, schema(&[("return_value", u32_or_error.clone())]));
    let line = Type::Record(vec![("sku".into(), Type::String), ("quantity".into(), Type::U32)]);
    // `lines` returns the derived record, named as the Rust type is.
    let DataSchema::Tuple(output) = &order.methods[2].output_schema else { panic!() };
    let [(name, ElementSchema::ComponentModel(returned))] = output.as_slice() else { panic!("{output:?}") };
    assert_eq!(name, "return_value");
    assert_eq!(Type::from_wit(returned).unwrap(), Type::List(Box::new(line)));
    assert_eq!(returned.nodes[1].name.as_deref(), Some("line"));

    let inventory = component.agent_type("Inventory").unwrap();
    assert_eq!(inventory.constructor.input_schema, schema(&[("warehouse", Type::String)]));
    let methods: Vec<(&str, &str)> =
        inventory.methods.iter().map(|m| (m.name.as_str(), m.description.as_str())).collect();
    assert_eq!(
        methods,
        [
            ("restock", "Add `quantity` units of `sku`; returns the new level."),
            ("reserve", "Take `quantity` units of `sku` for an order; returns what is left,\nor why not."),
            ("release", "Put back `quantity` units of `sku` (a cancelled line)."),
            ("stock", "Units of `sku` in stock.")
        ]
    );
    assert_eq!(inventory.methods[1].output_schema, schema(&[("return_value", u32_or_error)]));
    assert_eq!(inventory.methods[2].output_schema, schema(&[]));
}

#[test]
fn each_running_agent_reports_its_own_definition() {
    // `get-definition` shares the lowering of `discover-agent-types` (the
    // SDK's size trick): each agent must still answer with its own type.
    let (env, component) = warehouse();
    let mut order = order(&env, &component, "o-def");
    assert_eq!(order.agent.definition_from_instance().unwrap(), *component.agent_type("Order").unwrap());
    let mut inventory = env.create(&component, InventoryCall::new("main".into())).unwrap();
    assert_eq!(inventory.agent.definition_from_instance().unwrap(), *component.agent_type("Inventory").unwrap());
    // And again after invocations, with the agent's memory in use.
    let before = inventory.stock("apple".into()).unwrap();
    inventory.restock("apple".into(), 3).unwrap();
    assert_eq!(inventory.agent.definition_from_instance().unwrap(), *component.agent_type("Inventory").unwrap());
    assert_eq!(inventory.stock("apple".into()).unwrap(), before + 3);
}

#[test]
fn orders_reserve_stock_by_calling_the_inventory() {
    let (env, component) = warehouse();
    let mut first = order(&env, &component, "o-1");
    assert_eq!(first.add_line("apple".into(), 2).unwrap(), Ok(3));
    assert_eq!(first.inventory_id().unwrap(), Ok(INVENTORY.to_string()));

    // The first call created the inventory agent; the environment owns it.
    let mut inventory = main_inventory(&env);
    assert_eq!(inventory.stock("apple".into()).unwrap(), 3);

    // A second order reaches the same inventory.
    let mut second = order(&env, &component, "o-2");
    assert_eq!(second.add_line("apple".into(), 3).unwrap(), Ok(0));
    assert_eq!(second.add_line("apple".into(), 1).unwrap(), err("only 0 of apple left in main"));
    assert_eq!(first.remove_sku("apple".into()).unwrap(), Ok(2));
    assert_eq!(inventory.stock("apple".into()).unwrap(), 2);
    assert_eq!(
        invoked_methods(&inventory.agent.lock()),
        ["reserve", "stock", "reserve", "reserve", "release", "stock"]
    );

    // The call is a remote write in the caller's oplog, with the answer.
    let index = first_rpc_call(&first.agent);
    let OplogEntry::HostCall(call) = first.agent.oplog().get(index).unwrap() else { unreachable!() };
    assert_eq!(call.durable_function_type, WrappedFunctionType::WriteRemote);
    // The request as recorded: the callee's id and the method, in front.
    let request = Value::from_wit(&call.request.value).unwrap();
    let Value::Record(fields) = request else { panic!("{request:?}") };
    let texts: Vec<Option<&str>> = fields.iter().take(2).map(Value::as_str).collect();
    assert_eq!(texts, [Some(INVENTORY), Some("reserve")]);

    // The callee's invocation carries the caller's idempotency key.
    let keys: Vec<String> = inventory
        .agent
        .lock()
        .oplog()
        .entries()
        .iter()
        .filter_map(|e| match e {
            OplogEntry::AgentInvocationStarted(p) => match &p.invocation {
                AgentInvocation::AgentMethodInvocation(m) if m.method_name == "reserve" => {
                    Some(m.idempotency_key.clone())
                }
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(keys.len(), 3);
    assert!(keys.iter().all(|k| k.len() == 32), "{keys:?}");
    assert_ne!(keys[0], keys[1], "each call has its own key");
}

#[test]
fn a_refusing_constructor_reaches_the_caller_as_an_rpc_error() {
    let (env, component) = warehouse();
    let mut nowhere = env.create(&component, OrderCall::new("o-1".into(), String::new())).unwrap();
    let answer = nowhere.add_line("apple".into(), 1).unwrap();
    assert_eq!(answer, err(r#"calling `Inventory.reserve`: the agent refused the call: a warehouse needs a name"#));
    assert!(env.agent_handle(r#"inventory("")"#).is_none(), "a refused agent is not kept");
    assert!(env.agents().iter().all(|a| a.name != r#"inventory("")"#), "nor listed");
}

#[test]
fn an_agent_held_by_the_test_cannot_be_called() {
    let (env, component) = warehouse();
    let _inventory = env.create(&component, InventoryCall::new("main".into())).unwrap();
    let mut o = order(&env, &component, "o-1");
    let answer = o.add_line("apple".into(), 1).unwrap();
    let Err(message) = answer else { panic!("{answer:?}") };
    assert!(
        message.starts_with("calling `Inventory.reserve`: denied: agent `inventory(\"main\")` is held by the test")
    );
    assert!(message.contains("Environment::connect_agent"), "{message}");

    // An agent the environment owns is reachable by both.
    let (env, component) = warehouse();
    let mut inventory = env.connect(&component, InventoryCall::new("main".into())).unwrap();
    inventory.restock("plum".into(), 4).unwrap();
    let mut o = order(&env, &component, "o-1");
    assert_eq!(o.add_line("plum".into(), 1).unwrap(), Ok(3));
    let e = env.create(&component, InventoryCall::new("main".into())).unwrap_err().to_string();
    assert!(e.contains("already exists in this environment"), "{e}");
}

#[test]
fn a_crashed_order_replays_the_answer_without_calling_again() {
    let (env, component) = warehouse();
    let mut o = order(&env, &component, "o-1");
    o.add_line("apple".into(), 2).unwrap().unwrap();
    o.agent.crash();
    assert_eq!(o.lines().unwrap(), [Line { sku: "apple".into(), quantity: 2 }]);
    assert_eq!(o.agent.recoveries(), 1);
    let inventory = main_inventory(&env);
    assert_eq!(invoked_methods(&inventory.agent.lock()), ["reserve"], "replay answered from the oplog");
}

#[test]
fn a_call_retried_after_a_lost_answer_is_not_run_twice() {
    // Where the call is recorded, from a crash-free run.
    let (env, component) = warehouse();
    let mut o = order(&env, &component, "o-1");
    o.add_line("apple".into(), 2).unwrap().unwrap();
    let index = first_rpc_call(&o.agent);
    let id = o.agent.id().to_string();

    // The inventory reserved, then the order crashed before recording the
    // answer: the retried call carries the same key and gets the same answer.
    let (env, component) = warehouse();
    // Crashes planned for an agent id strike the agent created with it.
    env.schedule_crashes(&id, [CrashPoint::BeforePersist(index)]);
    let mut o = order(&env, &component, "o-1");
    assert_eq!(o.add_line("apple".into(), 2).unwrap(), Ok(3));
    assert_eq!(o.agent.crashes_fired().len(), 1);
    assert!(o.agent.crashes_fired()[0].in_effect_window);
    let mut inventory = main_inventory(&env);
    assert_eq!(invoked_methods(&inventory.agent.lock()), ["reserve"]);
    assert_eq!(inventory.stock("apple".into()).unwrap(), 3);
}

#[test]
fn a_crash_inside_the_inventory_recovers_before_it_answers() {
    let (env, component) = warehouse();
    let mut o = order(&env, &component, "o-1");
    o.add_line("apple".into(), 2).unwrap().unwrap();
    let inventory = env.agent_handle(INVENTORY).unwrap();
    let reserve_started = inventory.lock().oplog().len();
    drop(inventory);

    // Crash the inventory right after it records the next reservation's start.
    env.schedule_crashes(INVENTORY, [CrashPoint::AfterEntry(reserve_started + 1)]);
    assert_eq!(o.add_line("pear".into(), 2).unwrap(), Ok(0));
    let inventory = env.agent_handle(INVENTORY).unwrap();
    let inventory = inventory.lock();
    assert_eq!(inventory.crashes_fired().len(), 1);
    assert_eq!(inventory.recoveries(), 1);
    assert_eq!(invoked_methods(&inventory), ["reserve", "reserve"]);
    assert_eq!(o.agent.recoveries(), 0, "the caller did not notice");
}

/// Three lines, the third refused; the crash-free run must return what the
/// scenario states (`report.unmet` otherwise).
fn scenario() -> Scenario {
    Scenario::of(OrderCall::new("o-1".into(), "main".into()))
        .expect(OrderCall::add_line("apple".into(), 2), Ok(3))
        .expect(OrderCall::add_line("pear".into(), 1), Ok(1))
        .expect(OrderCall::add_line("apple".into(), 10), err("only 3 of apple left in main"))
        .then(OrderCall::remove_sku("pear".into()))
        .then(OrderCall::place())
        .then(OrderCall::lines())
}

#[test]
fn every_crash_point_of_either_agent_recovers() {
    let (env, component) = warehouse();
    let report = verify(&env, &component, &scenario(), &CrashPlan::every_entry()).unwrap();
    println!("{report}");
    assert!(report.is_ok(), "{report}");
    // The three results `scenario` states, checked against the crash-free run.
    assert!(report.unmet.is_empty() && report.reference.results.len() == 6, "{report}");
    let called = &report.reference.remote_invocations[INVENTORY];
    let methods: Vec<&str> = called.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(methods, ["reserve", "reserve", "reserve", "release"]);
    // Crash points cover both oplogs: more runs than the order's own entries.
    assert!(report.runs as u64 > report.reference.oplog_len + 8, "{report}");
    assert_eq!(report.recovered, report.runs);
    assert!(
        report.to_string().contains("other agent          inventory(\"main\"), 4 method invocation(s)"),
        "{report}"
    );
    assert_eq!(report.reference.kv["orders"]["o-1"], br#"[{"sku":"apple","quantity":2}]"#);
}

#[test]
fn random_crashes_on_both_sides_recover() {
    let (env, component) = warehouse();
    let plan = CrashPlan::Random { seed: 7, trials: 30, crashes_per_run: 3 };
    let report = verify(&env, &component, &scenario(), &plan).unwrap();
    println!("{report}");
    assert!(report.is_ok(), "{report}");
    assert!(report.crashes_fired > 30, "{report}");
}

/// A desk starts four orders at once; they reserve from one inventory side
/// by side (enough stock for all, so no interleaving changes the outcome).
fn concurrent_orders() -> Scenario {
    let lines = [("apple", 1), ("apple", 2), ("pear", 1), ("apple", 1)]
        .map(|(sku, quantity)| Line { sku: sku.into(), quantity });
    let ids: Vec<String> = (1..=lines.len()).map(|n| format!("b1-{n}")).collect();
    let mut scenario = Scenario::of(DeskCall::new("main".into()))
        .expect(DeskCall::submit("b1".into(), lines.to_vec()), Ok(ids.clone()))
        .with(InventoryCall::new("main".into()))
        .expect(InventoryCall::stock("apple".into()), 1)
        .expect(InventoryCall::stock("pear".into()), 1);
    for (id, line) in ids.iter().zip(&lines) {
        scenario =
            scenario.with(OrderCall::new(id.clone(), "main".into())).expect(OrderCall::lines(), vec![line.clone()]);
    }
    scenario
}

#[test]
fn concurrent_orders_recover_under_seeded_schedules_and_every_crash() {
    let (env, component) = warehouse();
    // The orders do interleave: under some seed, one order's queue gives
    // the turn to another's in the middle of its invocation.
    let preempted = (0..8).any(|seed| {
        let env = env.fresh_with(Schedule::Seeded(seed));
        let mut desk = env.create(&component, DeskCall::new("main".into())).unwrap();
        desk.submit("b1".into(), vec![Line { sku: "apple".into(), quantity: 1 }; 3]).unwrap().unwrap();
        env.interleaving().iter().any(|s| {
            s.starts_with("queue of order(") && s.contains(" before entry ") && s.contains("-> queue of order(")
        })
    });
    assert!(preempted, "no seed interleaved two orders");

    let plan = CrashPlan::distinct_outcomes().under_schedules(0..8);
    let report = verify(&env, &component, &concurrent_orders(), &plan).unwrap();
    println!("{report}");
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.schedules_explored, 8);
    // Every agent is crashed: the desk, the four orders and the inventory.
    assert_eq!(report.reference_oplogs.len(), 6, "{report}");
    let reserves = report.reference.remote_invocations[INVENTORY].iter().filter(|(m, _)| m == "reserve").count();
    assert_eq!(reserves, 4);
    assert!(report.crashes_fired > 8 * 40, "{report}");
}

/// What an RPC call writes to the caller's oplog, in Golem's order
/// (golemcloud/golem v1.5.9, golem-worker-executor/src/durable_host/wasm_rpc/mod.rs
/// and durable_host/mod.rs; idempotence on): the client looks up the agent
/// type (`golem::agent::get_agent_type`, read-remote) and opens an
/// `rpc-connection` span; each call opens an `rpc-invocation` span under it,
/// is a write-remote host call, and finishes its span; dropping the client
/// finishes the connection's span.
#[test]
fn an_rpc_call_is_journaled_in_golems_order() {
    let (env, component) = warehouse();
    let mut first = order(&env, &component, "o-rpc");
    first.add_line("apple".into(), 2).unwrap().unwrap();
    let entries = first.agent.oplog().entries().to_vec();
    let span_names: std::collections::BTreeMap<String, String> = entries
        .iter()
        .filter_map(|e| match e {
            OplogEntry::StartSpan(p) => {
                let name = p.attributes.iter().find_map(|a| match &a.value {
                    AttributeValue::String(name) if a.key == "name" => Some(name.clone()),
                    _ => None,
                })?;
                Some((p.span_id.clone(), name))
            }
            _ => None,
        })
        .collect();
    let shape: Vec<String> = entries
        .iter()
        .filter_map(|e| match e {
            OplogEntry::HostCall(p) => {
                Some(format!("{} ({})", p.function_name, function_type_name(&p.durable_function_type)))
            }
            OplogEntry::StartSpan(p) => Some(format!("start {}", span_names[&p.span_id])),
            OplogEntry::FinishSpan(p) => Some(format!("finish {}", span_names[&p.span_id])),
            _ => None,
        })
        .collect();
    let from = shape.iter().position(|s| s.starts_with("golem::agent::get_agent_type")).expect("a lookup");
    assert_eq!(
        shape[from..from + 5],
        [
            "golem::agent::get_agent_type (read-remote)",
            "start rpc-connection",
            "start rpc-invocation",
            "golem::rpc::wasm-rpc::invoke_and_await (write-remote)",
            "finish rpc-invocation",
        ],
        "{shape:?}"
    );
    // The invocation span hangs under the connection span, and names the call.
    let invocation = entries.iter().find_map(|e| match e {
        OplogEntry::StartSpan(p) if span_names[&p.span_id].contains("rpc-invocation") => Some(p.clone()),
        _ => None,
    });
    let invocation = invocation.unwrap();
    let connection = span_names.iter().find(|(_, n)| n.contains("rpc-connection")).map(|(id, _)| id.clone());
    assert_eq!(invocation.parent, connection);
    let keys: Vec<&str> = invocation.attributes.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys, ["name", "function_name", "idempotency_key"]);
    // The client is dropped when the method returns: its span ends.
    assert_eq!(shape.get(from + 5).map(String::as_str), Some("finish rpc-connection"), "{shape:?}");
}
