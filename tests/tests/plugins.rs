//! Oplog-processor plugins: the handshake, installation and activation, and
//! exactly-once, in-order delivery through crashes of the agent and of the
//! plugin (`examples/oplog-jsonl` on `examples/counter`).
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise::testing::AgentConnection;
use reprise_e2e::{build_example, build_example_with, flush_until_sent};
use reprise_example_counter::CounterCall;
use reprise_example_warehouse::{InventoryHandle, OrderCall};
use reprise_testkit::bindings::golem::api::oplog::{
    AgentInvocation, AgentInvocationResult, OplogProcessorCheckpointParameters, PluginInstallationDescription,
};
use reprise_testkit::oplog::OplogEntry;
use reprise_testkit::plugins::{PluginSettings, worker_id};
use reprise_testkit::verify::{CrashPlan, Scenario, verify};
use reprise_testkit::{Agent, CrashPoint, Environment, LoadedComponent};

const BUCKET: &str = "audit";

/// An environment with the counter component (revision 0) and the
/// JSON-lines plugin defined; returns the revision with it installed too.
fn setup() -> (Environment, LoadedComponent, LoadedComponent) {
    let env = Environment::new().unwrap();
    let counter = env.load(build_example("counter")).unwrap();
    let jsonl = env.load(build_example("oplog-jsonl")).unwrap();
    env.define_plugin("jsonl", "1.0.0", "every entry as a JSON line", &jsonl).unwrap();
    let audited = env.install_plugin(&counter, "jsonl", "1.0.0", [("bucket", BUCKET)]).unwrap();
    (env, counter, audited)
}

fn installation(component: &LoadedComponent) -> PluginInstallationDescription {
    component.plugin("jsonl").expect("installed").clone()
}

/// The JSON lines the plugin wrote for `agent`, in key order, each with
/// the bounds of the batch it came in.
fn lines(env: &Environment, agent: &str) -> Vec<(String, serde_json::Value)> {
    let kv = env.kv_contents();
    let Some(bucket) = kv.get(BUCKET) else { return Vec::new() };
    bucket
        .iter()
        .filter(|(key, _)| key.starts_with(&format!("{agent}/")))
        .flat_map(|(key, value)| {
            String::from_utf8(value.clone())
                .unwrap()
                .lines()
                .map(|line| (key.clone(), serde_json::from_str(line).unwrap()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The oplog indexes the plugin wrote lines for, in order.
fn indexes(env: &Environment, agent: &str) -> Vec<u64> {
    lines(env, agent).iter().map(|(_, line)| line["index"].as_u64().unwrap()).collect()
}

/// What the plugin's instance recorded: (batch keys of its invocations,
/// refusals).
fn worker_record(env: &Environment, plugin: &PluginInstallationDescription) -> (Vec<String>, Vec<String>) {
    let handle = env.agent_handle(&worker_id(plugin, 0)).expect("the plugin instance runs");
    let worker = handle.lock();
    let mut keys = Vec::new();
    let mut refusals = Vec::new();
    for entry in worker.oplog().entries() {
        match entry {
            OplogEntry::AgentInvocationStarted(p) => {
                if let AgentInvocation::ProcessOplogEntries(p) = &p.invocation {
                    keys.push(p.idempotency_key.clone());
                }
            }
            OplogEntry::AgentInvocationFinished(p) => {
                if let AgentInvocationResult::ProcessOplogEntries(r) = &p.result
                    && let Some(e) = &r.error
                {
                    refusals.push(e.clone());
                }
            }
            _ => {}
        }
    }
    (keys, refusals)
}

/// A counter agent called `name`, held by the test: the untyped agent, for
/// its plugins, oplog and crashes (its calls are typed, see [`increment`]).
fn create_counter(env: &Environment, component: &LoadedComponent, name: &str) -> Agent {
    env.create(component, CounterCall::new(name.into())).unwrap().agent
}

fn increment(agent: &mut Agent, times: usize) {
    for _ in 0..times {
        AgentConnection::perform(agent, CounterCall::increment(1)).unwrap();
    }
}

/// The agent's latest checkpoint for `plugin`.
fn checkpoint(agent: &Agent, plugin: &PluginInstallationDescription) -> Option<OplogProcessorCheckpointParameters> {
    agent.plugin_checkpoint(plugin)
}

/// The index of the last entry of kind `kind` in the agent's oplog.
fn position_of(agent: &Agent, kind: &str) -> u64 {
    let entries = agent.oplog().entries();
    entries.iter().rposition(|e| reprise_testkit::oplog::kind_name(e) == kind).expect("the entry is there") as u64 + 1
}

/// Every entry of `agent` up to `confirmed` reached the plugin once, in
/// order, but for checkpoints a skipped batch held (a batch of nothing but
/// checkpoints is passed over).
fn assert_delivered_once_in_order(env: &Environment, agent: &Agent, confirmed: u64) {
    let delivered = indexes(env, agent.id());
    assert!(delivered.windows(2).all(|w| w[0] < w[1]), "out of order or twice: {delivered:?}");
    let entries = agent.oplog().entries();
    for index in 1..=confirmed {
        let checkpoint = matches!(entries[index as usize - 1], OplogEntry::OplogProcessorCheckpoint(_));
        assert!(
            delivered.binary_search(&index).is_ok() || checkpoint,
            "entry {index} was not delivered: {delivered:?}"
        );
    }
    assert!(delivered.last().is_none_or(|last| *last <= confirmed), "{delivered:?} past {confirmed}");
}

#[test]
fn the_handshake_refuses_a_component_without_the_processor_interface() {
    let env = Environment::new().unwrap();
    let counter = env.load(build_example("counter")).unwrap();
    let e = env.define_plugin("fake", "0.1.0", "not a plugin", &counter).unwrap_err().to_string();
    assert_eq!(
        e,
        "plugin: plugin `fake` 0.1.0: the component must export `golem:api/oplog-processor@1.5.0`, but it exports golem:agent/guest@1.5.0"
    );
    let e = env.install_plugin(&counter, "fake", "0.1.0", [("k", "v")]).unwrap_err().to_string();
    assert_eq!(e, "plugin: plugin `fake` 0.1.0 is not defined (see `define_plugin`)");
}

#[test]
fn an_installed_plugin_receives_every_entry_once_in_order() {
    let (env, counter, audited) = setup();
    assert_eq!(counter.plugins().len(), 0);
    assert_eq!(audited.revision(), 1);
    let plugin = installation(&audited);
    assert_eq!(plugin.parameters, [("bucket".to_string(), BUCKET.to_string())]);

    let mut agent = create_counter(&env, &audited, "a");
    assert_eq!(agent.active_plugins(), std::slice::from_ref(&plugin));
    increment(&mut agent, 20);
    let confirmed = flush_until_sent(&mut agent, &plugin);
    assert_delivered_once_in_order(&env, &agent, confirmed);

    let lines = lines(&env, agent.id());
    assert_eq!(lines[0].1["kind"], "create");
    assert_eq!(lines[1].1["detail"]["method"], "(constructor)");
    assert!(lines.iter().any(|(_, l)| l["detail"]["method"] == "increment"));
    // Batches one after the other, named by their bounds; the agent's own
    // checkpoints (in its oplog) are delivered like any entry.
    let mut batches: Vec<(u64, u64)> = lines
        .iter()
        .map(|(k, _)| {
            let (a, b) = k.rsplit_once('/').unwrap().1.split_once('-').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect();
    batches.dedup();
    let entries = agent.oplog().entries();
    for w in batches.windows(2) {
        let between = &entries[w[0].1 as usize..w[1].0 as usize - 1];
        assert!(between.iter().all(|e| matches!(e, OplogEntry::OplogProcessorCheckpoint(_))), "{batches:?}");
    }
    assert!(lines.iter().any(|(_, l)| l["kind"] == "oplog-processor-checkpoint"));

    // The plugin worker's oplog: each batch enqueued (a pending invocation),
    // then processed once, none refused.
    let (keys, refusals) = worker_record(&env, &plugin);
    assert_eq!(keys.len(), batches.len());
    assert!(refusals.is_empty(), "{refusals:?}");
    let handle = env.agent_handle(&worker_id(&plugin, 0)).unwrap();
    let enqueued =
        handle.lock().oplog().entries().iter().filter(|e| matches!(e, OplogEntry::PendingAgentInvocation(_))).count();
    assert_eq!(enqueued, keys.len());
    // The agent's oplog: the worker named once, then each batch announced
    // before it is enqueued and confirmed once it is.
    let checkpoints: Vec<OplogProcessorCheckpointParameters> = agent
        .oplog()
        .entries()
        .iter()
        .filter_map(|e| match e {
            OplogEntry::OplogProcessorCheckpoint(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(checkpoints.len(), 1 + 2 * keys.len());
    assert!(checkpoints.iter().all(|c| c.target_agent_id.agent_id == worker_id(&plugin, 0)));
    assert_eq!((checkpoints[0].confirmed_up_to, checkpoints[0].sending_up_to), (0, 0));
    for (pair, batch) in checkpoints[1..].chunks(2).zip(&batches) {
        assert_eq!(
            (pair[0].confirmed_up_to, pair[0].last_batch_start, pair[0].sending_up_to),
            (batch.0 - 1, batch.0, batch.1)
        );
        assert_eq!((pair[1].confirmed_up_to, pair[1].sending_up_to), (batch.1, batch.1));
    }

    // Agents on the revision without the plugin are not observed.
    let mut plain = create_counter(&env, &counter, "b");
    increment(&mut plain, 2);
    assert!(indexes(&env, plain.id()).is_empty());
}

#[test]
fn activation_starts_delivery_after_its_entry_and_deactivation_stops_it() {
    let (env, counter, audited) = setup();
    let plugin = installation(&audited);
    // An agent that ran before the plugin was installed ...
    let mut agent = create_counter(&env, &counter, "a");
    increment(&mut agent, 5);
    let e = agent.activate_plugin(&plugin).unwrap_err().to_string();
    assert!(e.contains("is not installed to revision 0"), "{e}");

    // ... is updated to the revision that has it: the plugin is sent what
    // follows the update, not the history before it (as on Golem).
    agent.update(1, true).unwrap().unwrap();
    assert_eq!(agent.active_plugins(), std::slice::from_ref(&plugin));
    let updated = position_of(&agent, "successful-update");
    increment(&mut agent, 1);
    let confirmed = flush_until_sent(&mut agent, &plugin);
    assert_eq!(indexes(&env, agent.id()), (updated + 1..=confirmed).collect::<Vec<_>>());

    // Deactivated, it hears nothing ...
    agent.deactivate_plugin(&plugin).unwrap();
    assert!(agent.active_plugins().is_empty());
    let delivered = indexes(&env, agent.id());
    increment(&mut agent, 3);
    agent.flush_plugins().unwrap();
    assert_eq!(indexes(&env, agent.id()), delivered);
    // ... and activated again, it is sent what follows the activation: what
    // happened while it was inactive stays unsent.
    agent.activate_plugin(&plugin).unwrap();
    let activated = position_of(&agent, "activate-plugin");
    increment(&mut agent, 1);
    let confirmed = flush_until_sent(&mut agent, &plugin);
    let expected: Vec<u64> = delivered.iter().copied().chain(activated + 1..=confirmed).collect();
    assert_eq!(indexes(&env, agent.id()), expected);

    // Uninstalled: a new revision without it; agents updated to it stop delivering.
    let plain = env.uninstall_plugin(&audited, "jsonl").unwrap();
    assert_eq!((plain.revision(), plain.plugins().len()), (2, 0));
    agent.update(2, true).unwrap().unwrap();
    assert!(agent.active_plugins().is_empty());
    let delivered = indexes(&env, agent.id()).len();
    increment(&mut agent, 2);
    agent.flush_plugins().unwrap();
    assert_eq!(indexes(&env, agent.id()).len(), delivered);
    let e = env.uninstall_plugin(&plain, "jsonl").unwrap_err().to_string();
    assert_eq!(e, "plugin: plugin `jsonl` is not installed to revision 2 of this component");
}

#[test]
fn delivery_follows_the_agents_commits_and_the_flush_timer() {
    let (env, _counter, audited) = setup();
    let plugin = installation(&audited);
    // At every commit (Golem's default is every third): the constructor's
    // start is committed, and the plugin is sent it with the `create` entry
    // before the constructor has finished.
    env.set_plugin_settings(PluginSettings { max_commit_count: 1, ..Default::default() });
    let agent = create_counter(&env, &audited, "c");
    let first = lines(&env, agent.id());
    assert_eq!(first[0].0, r#"counter("c")/00000001-00000002"#, "{first:?}");
    assert_eq!(first[1].1["kind"], "agent-invocation-started");
    // The agent's oplog: the batch announced, enqueued and confirmed
    // between the constructor's start and its end.
    let kinds: Vec<String> = agent.oplog().entries()[..6].iter().map(reprise_testkit::oplog::kind_name).collect();
    assert_eq!(
        kinds,
        [
            "create",
            "agent-invocation-started",
            "oplog-processor-checkpoint",
            "oplog-processor-checkpoint",
            "oplog-processor-checkpoint",
            "agent-invocation-finished"
        ]
    );

    // With a count never reached, nothing is sent until the timer ticks.
    env.set_plugin_settings(PluginSettings { max_commit_count: 1000, ..Default::default() });
    let mut quiet = create_counter(&env, &audited, "q");
    increment(&mut quiet, 5);
    assert!(indexes(&env, quiet.id()).is_empty());
    quiet.flush_plugins().unwrap();
    let sent = indexes(&env, quiet.id());
    assert_eq!(sent, (1..=sent.len() as u64).collect::<Vec<_>>(), "one batch, from the first entry");
    assert_eq!(sent.len(), 13, "create, then the constructor and five calls, started and finished");
    // A tick with only checkpoints since the last batch sends nothing.
    let (keys, _) = worker_record(&env, &plugin);
    quiet.flush_plugins().unwrap();
    assert_eq!(worker_record(&env, &plugin).0, keys);
}

/// A counter agent `name` that committed its creation and two calls, sent
/// nothing yet (the commit count is never reached), and was crashed at
/// `point(committed)` in its first flush: the environment, the plugin, the
/// agent and how many entries it had committed before the flush.
fn crashed_in_first_flush(
    name: &str,
    point: impl Fn(u64) -> CrashPoint,
) -> (Environment, PluginInstallationDescription, Agent, u64) {
    let (env, _counter, audited) = setup();
    let plugin = installation(&audited);
    env.set_plugin_settings(PluginSettings { max_commit_count: 1000, ..Default::default() });
    let mut agent = create_counter(&env, &audited, name);
    increment(&mut agent, 2);
    let committed = agent.oplog().len();
    agent.schedule_crashes([point(committed)]);
    agent.flush_plugins().unwrap();
    (env, plugin, agent, committed)
}

#[test]
fn a_deactivated_plugin_still_gets_the_batch_it_was_being_sent() {
    // The flush names the worker (entry +1) and announces the batch (+2);
    // the agent crashes there, before the batch is enqueued.
    let (env, plugin, mut agent, committed) = crashed_in_first_flush("d", |c| CrashPoint::AfterEntry(c + 2));
    let announced = checkpoint(&agent, &plugin).unwrap();
    assert_eq!((announced.confirmed_up_to, announced.sending_up_to), (0, committed));
    assert!(indexes(&env, agent.id()).is_empty());

    // Deactivated now, the plugin still gets that batch, whole, once ...
    agent.deactivate_plugin(&plugin).unwrap();
    agent.flush_plugins().unwrap();
    assert_eq!(indexes(&env, agent.id()), (1..=committed).collect::<Vec<_>>());
    assert_eq!(checkpoint(&agent, &plugin).unwrap().confirmed_up_to, committed);
    // ... and nothing after it.
    increment(&mut agent, 3);
    agent.flush_plugins().unwrap();
    assert_eq!(indexes(&env, agent.id()).len() as u64, committed);
    assert_eq!(worker_record(&env, &plugin).0.len(), 1);
    // Activated again, it is sent what follows the activation only.
    agent.activate_plugin(&plugin).unwrap();
    let activated = position_of(&agent, "activate-plugin");
    increment(&mut agent, 1);
    let confirmed = flush_until_sent(&mut agent, &plugin);
    let expected: Vec<u64> = (1..=committed).chain(activated + 1..=confirmed).collect();
    assert_eq!(indexes(&env, agent.id()), expected);
}

#[test]
fn a_batch_sent_again_after_a_crash_between_enqueue_and_confirmation_is_not_enqueued_twice() {
    // The flush names the worker (+1), announces the batch (+2), enqueues
    // it, and the agent crashes before the confirmation (+3) is persisted.
    let (env, plugin, mut agent, committed) = crashed_in_first_flush("e", |c| CrashPoint::BeforePersist(c + 3));
    assert_eq!(agent.crashes_fired().len(), 1);
    let in_flight = checkpoint(&agent, &plugin).unwrap();
    assert_eq!((in_flight.confirmed_up_to, in_flight.sending_up_to), (0, committed));

    // Recovered, the agent sends the same batch again under the same key:
    // the worker has it already and does not take it twice.
    agent.flush_plugins().unwrap();
    assert_eq!(checkpoint(&agent, &plugin).unwrap().confirmed_up_to, committed);
    let worker = env.agent_handle(&worker_id(&plugin, 0)).unwrap();
    let enqueued =
        worker.lock().oplog().entries().iter().filter(|e| matches!(e, OplogEntry::PendingAgentInvocation(_))).count();
    assert_eq!(enqueued, 1);
    assert_eq!(worker_record(&env, &plugin).0.len(), 1);
    assert_eq!(indexes(&env, agent.id()), (1..=committed).collect::<Vec<_>>());
    assert_eq!(env.plugin_metrics()["jsonl"].batches_retried, 1);
}

#[test]
fn checkpoints_in_a_reverted_region_no_longer_count() {
    let (env, _counter, audited) = setup();
    let plugin = installation(&audited);
    env.set_plugin_settings(PluginSettings { max_commit_count: 1000, ..Default::default() });
    let mut agent = create_counter(&env, &audited, "r");
    increment(&mut agent, 1);
    let first = flush_until_sent(&mut agent, &plugin);
    let kept = agent.oplog().len();
    increment(&mut agent, 2);
    let second = flush_until_sent(&mut agent, &plugin);
    assert!(second > first);
    // Reverting to before the second batch drops its checkpoints: progress is
    // the first batch's again, as Golem folds it (deleted regions passed
    // over), and the next flush sends from there on, under new bounds.
    agent.revert(reprise_testkit::RevertTarget::ToIndex(kept)).unwrap();
    assert_eq!(checkpoint_kept(&agent, &plugin, kept), first);
    agent.flush_plugins().unwrap();
    let resent = checkpoint(&agent, &plugin).unwrap();
    assert_eq!(resent.last_batch_start, first + 1, "{resent:?}");
    // The plugin, which had seen those entries, refuses the overlap.
    assert_eq!(worker_record(&env, &plugin).0.len(), 3);
    assert_eq!(env.plugin_metrics()["jsonl"].batches_refused, 1);
}

/// The confirmed index of the last checkpoint at or before `index`.
fn checkpoint_kept(agent: &Agent, plugin: &PluginInstallationDescription, index: u64) -> u64 {
    agent.oplog().entries()[..index as usize]
        .iter()
        .rev()
        .find_map(|e| match e {
            OplogEntry::OplogProcessorCheckpoint(p)
                if p.plugin.environment_plugin_grant_id == plugin.environment_plugin_grant_id =>
            {
                Some(p.confirmed_up_to)
            }
            _ => None,
        })
        .unwrap_or(0)
}

/// A small deterministic generator for crash points.
fn draws(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    move |bound| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        2 + state % bound.max(1)
    }
}

#[test]
fn every_entry_is_delivered_exactly_once_through_crashes_of_agent_and_plugin() {
    let (env, _counter, audited) = setup();
    let plugin = installation(&audited);
    let mut recovered_plugins = 0;
    for seed in 0..20 {
        let env = env.fresh();
        let mut draw = draws(seed);
        // An agent observed from its creation keeps working through crashes
        // of both sides, its batches sent by commits and by the timer.
        let mut agent = create_counter(&env, &audited, "a");
        // Crashes after entries, and one before a confirming checkpoint is
        // persisted (if it lands on one): the batch was enqueued already.
        let mut agent_crashes: Vec<CrashPoint> = (0..3).map(|_| CrashPoint::AfterEntry(4 + draw(30))).collect();
        agent_crashes.push(CrashPoint::BeforePersist(4 + draw(30)));
        agent.schedule_crashes(agent_crashes);
        let plugin_crashes: Vec<CrashPoint> = (0..3).map(|_| CrashPoint::AfterEntry(draw(20))).collect();
        env.schedule_crashes(&worker_id(&plugin, 0), plugin_crashes);
        for round in 0..4 {
            increment(&mut agent, 3);
            if round % 2 == 1 {
                agent.flush_plugins().unwrap();
            }
        }

        let len = flush_until_sent(&mut agent, &plugin);
        assert_delivered_once_in_order(&env, &agent, len);
        let (keys, refusals) = worker_record(&env, &plugin);
        assert!(refusals.is_empty(), "seed {seed}: {refusals:?}");
        let unique: std::collections::BTreeSet<&String> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len(), "seed {seed}: a batch was processed twice: {keys:?}");
        let worker = env.agent_handle(&worker_id(&plugin, 0)).unwrap();
        let (agent_fired, plugin_fired) = (agent.crashes_fired().len(), worker.lock().crashes_fired().len());
        println!(
            "seed {seed}: {len} entries in {} batches; crashes: agent {agent_fired}, plugin {plugin_fired} ({} plugin recoveries)",
            keys.len(),
            worker.lock().recoveries()
        );
        assert!(agent_fired >= 1 && plugin_fired >= 1, "seed {seed}: crashes fired on both sides");
        recovered_plugins += worker.lock().recoveries();
    }
    // The plugin's memory (where each agent is) was rebuilt by replaying
    // its batches, and it still accepted every following batch.
    assert!(recovered_plugins >= 20, "{recovered_plugins}");
}

#[test]
fn crash_verification_of_an_observed_agent_crashes_its_plugin_too_and_compares_the_agent() {
    let (env, _counter, audited) = setup();
    let scenario = Scenario::of(CounterCall::new("a".into()))
        .then(CounterCall::increment(2))
        .then(CounterCall::increment(3))
        .then(CounterCall::get());
    let report = verify(&env, &audited, &scenario, &CrashPlan::every_entry()).unwrap();
    println!("{report}");
    assert!(report.is_ok(), "{report}");
    // What the plugin is sent depends on when the agent commits, which a
    // crash changes (on Golem too): its output is not compared ...
    assert!(!report.reference.kv.contains_key(BUCKET), "{:?}", report.reference.kv);
    // ... but the plugin's worker is crashed at every point of its oplog too.
    assert!(report.runs as u64 > report.reference.oplog_len + 4, "{report}");
}

/// Statistics computed from an oplog the way the agent-stats plugin counts.
fn expected_stats(entries: &[OplogEntry]) -> serde_json::Value {
    let mut invocations = std::collections::BTreeMap::<String, u64>::new();
    let mut host_calls = std::collections::BTreeMap::<String, u64>::new();
    let mut errors = 0;
    for entry in entries {
        match entry {
            OplogEntry::AgentInvocationStarted(p) => match &p.invocation {
                AgentInvocation::AgentMethodInvocation(m) => {
                    *invocations.entry(m.method_name.clone()).or_default() += 1
                }
                AgentInvocation::AgentInitialization(_) => *invocations.entry("(constructor)".into()).or_default() += 1,
                _ => {}
            },
            OplogEntry::HostCall(p) => *host_calls.entry(p.function_name.clone()).or_default() += 1,
            OplogEntry::Error(_) | OplogEntry::FailedUpdate(_) => errors += 1,
            _ => {}
        }
    }
    serde_json::json!({
        "entries": entries.len(),
        "invocations": invocations,
        "host_calls": host_calls,
        "errors": errors,
        "last_index": entries.len(),
    })
}

/// The warehouse example (5 apples in stock) with plugin `example`
/// installed as `name` 1.0.0, writing to `bucket`: the environment and the
/// observed revision.
fn warehouse_with_plugin(example: &str, name: &str, bucket: &str) -> (Environment, LoadedComponent) {
    let env = Environment::builder().kv_entry("stock-levels", "main", r#"{"apple":5}"#).build().unwrap();
    let warehouse = env.load(build_example("warehouse")).unwrap();
    let plugin = env.load(build_example(example)).unwrap();
    env.define_plugin(name, "1.0.0", example, &plugin).unwrap();
    let observed = env.install_plugin(&warehouse, name, "1.0.0", [("bucket", bucket)]).unwrap();
    (env, observed)
}

#[test]
fn the_statistics_plugin_counts_every_agent_it_observes() {
    let (env, observed) = warehouse_with_plugin("agent-stats", "stats", "stats");

    let mut order = env.create(&observed, OrderCall::new("o-1".into(), "main".into())).unwrap();
    let added: Vec<Result<u32, String>> =
        [1, 2, 9].into_iter().map(|quantity| order.add_line("apple".into(), quantity).unwrap()).collect();
    assert_eq!(added, [Ok(4), Ok(2), Err("only 2 of apple left in main".to_string())]);
    assert_eq!(order.place().unwrap(), Ok(3));
    // The inventory the order called runs the newest revision: observed too.
    let mut inventory = InventoryHandle { agent: env.agent_handle(r#"inventory("main")"#).unwrap() };
    assert_eq!(inventory.stock("apple".into()).unwrap(), 2);

    let plugin = observed.plugin("stats").unwrap().clone();
    let order_confirmed = flush_until_sent(&mut order.agent, &plugin) as usize;
    let inventory_confirmed = flush_until_sent(&mut inventory.agent.lock(), &plugin) as usize;
    let published =
        |agent: &str| -> serde_json::Value { serde_json::from_slice(&env.kv_contents()["stats"][agent]).unwrap() };
    let order_stats = published(order.agent.id());
    assert_eq!(order_stats, expected_stats(&order.agent.oplog().entries()[..order_confirmed]));
    assert_eq!(order_stats["invocations"]["add_line"], 3);
    assert_eq!(order_stats["host_calls"]["golem::rpc::wasm-rpc::invoke_and_await"], 3);
    let inventory_stats = published(inventory.agent.id());
    assert_eq!(inventory_stats, expected_stats(&inventory.agent.lock().oplog().entries()[..inventory_confirmed]));
    assert_eq!(inventory_stats["invocations"]["reserve"], 3);
}

/// Events received so far, in order.
fn drain(events: &std::sync::mpsc::Receiver<reprise_testkit::plugins::PluginEvent>) -> Vec<String> {
    use reprise_testkit::plugins::PluginEvent as E;
    events
        .try_iter()
        .map(|e| match e {
            E::Registered { name, .. } => format!("registered {name}"),
            E::Updated { name, .. } => format!("updated {name}"),
            E::Unregistered { name, reason, .. } => format!("unregistered {name}: {reason}"),
            E::Removed { name, .. } => format!("removed {name}"),
            E::BatchRefused { name, agent, range, error, .. } => {
                format!("{name} refused {agent} {}-{}: {error}", range.0, range.1)
            }
            E::EnqueueFailed { name, agent, range, reason, .. } => {
                format!("{name} could not enqueue {agent} {}-{}: {reason}", range.0, range.1)
            }
        })
        .collect()
}

#[test]
fn a_refused_batch_is_reported_and_never_sent_again() {
    // The plugin's bucket does not exist: every `process` answers an error.
    let env = Environment::builder().kv_buckets(["other"]).build().unwrap();
    let counter = env.load(build_example("counter")).unwrap();
    let jsonl = env.load(build_example("oplog-jsonl")).unwrap();
    env.define_plugin("jsonl", "1.0.0", "every entry as a JSON line", &jsonl).unwrap();
    let audited = env.install_plugin(&counter, "jsonl", "1.0.0", [("bucket", BUCKET)]).unwrap();
    let plugin = installation(&audited);
    let events = env.subscribe_plugin_events();
    let mut agent = create_counter(&env, &audited, "r");
    increment(&mut agent, 3);
    agent.flush_plugins().unwrap();

    let refused: Vec<String> = drain(&events).into_iter().filter(|e| e.contains(" refused ")).collect();
    let (keys, refusals) = worker_record(&env, &plugin);
    // One `process` per batch, each refused once: no batch twice.
    assert!(!keys.is_empty());
    assert_eq!(refusals.len(), keys.len(), "{refusals:?}");
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), keys.len(), "a batch was sent again: {keys:?}");
    assert_eq!(refused.len(), keys.len(), "{refused:?}");
    assert!(refused[0].starts_with(r#"jsonl refused counter("r") 1-"#), "{refused:?}");
    let metrics = &env.plugin_metrics()["jsonl"];
    assert_eq!((metrics.batches_refused, metrics.batches_retried), (keys.len() as u64, 0));
    assert_eq!(metrics.entries_delivered, 0);
}

#[test]
fn batch_keys_are_golems_and_the_same_for_a_batch_sent_again() {
    let (env, _, audited) = setup();
    let plugin = installation(&audited);
    let mut agent = create_counter(&env, &audited, "k");
    increment(&mut agent, 2);
    agent.flush_plugins().unwrap();
    let (keys, _) = worker_record(&env, &plugin);
    // UUIDv5 (version nibble 5) over the agent, the installation and the bounds.
    assert!(keys.iter().all(|k| k.len() == 36 && k.as_bytes()[14] == b'5'), "{keys:?}");

    // The same batches, delivered again in a new environment where the
    // plugin's instance crashes in its first batch: the keys are the same.
    let (again, _, audited_again) = setup();
    again.schedule_crashes(&worker_id(&plugin, 0), [CrashPoint::AfterEntry(3)]);
    let mut agent = create_counter(&again, &audited_again, "k");
    increment(&mut agent, 2);
    agent.flush_plugins().unwrap();
    let (keys_again, _) = worker_record(&again, &installation(&audited_again));
    let mut unique = keys_again.clone();
    unique.dedup();
    assert_eq!(unique, keys, "same batches, same keys");
}

fn fast_restarts() -> reprise_testkit::plugins::PluginSettings {
    reprise_testkit::plugins::PluginSettings {
        backoff: std::time::Duration::from_millis(100),
        max_backoff: std::time::Duration::from_secs(1),
        max_restarts: 3,
        ..Default::default()
    }
}

#[test]
fn a_trapping_plugin_is_restarted_with_backoff_and_resumes_from_its_checkpoint() {
    let env = Environment::new().unwrap();
    let counter = env.load(build_example("counter")).unwrap();
    let jsonl = env.load(build_example("oplog-jsonl")).unwrap();
    let events = env.subscribe_plugin_events();
    env.define_plugin("jsonl", "1.0.0", "every entry as a JSON line", &jsonl).unwrap();
    env.set_plugin_settings(fast_restarts());
    let audited = env.install_plugin(&counter, "jsonl", "1.0.0", [("bucket", BUCKET), ("trap-when", "halt")]).unwrap();
    let plugin = installation(&audited);

    let mut agent = create_counter(&env, &audited, "a");
    increment(&mut agent, 2);
    let confirmed = flush_until_sent(&mut agent, &plugin);
    assert_delivered_once_in_order(&env, &agent, confirmed);
    let delivered = indexes(&env, agent.id());

    // The plugin traps on the next batch. The batch was confirmed when it
    // was enqueued on the worker: the agent is done with it and carries on.
    env.kv_put(BUCKET, "halt", Some(b"1"));
    increment(&mut agent, 1);
    agent.flush_plugins().unwrap();
    let after_trap = checkpoint(&agent, &plugin).unwrap();
    assert_eq!(after_trap.confirmed_up_to, after_trap.sending_up_to);
    assert!(after_trap.confirmed_up_to > confirmed);
    assert_eq!(indexes(&env, agent.id()), delivered);
    assert_eq!(env.plugin_metrics()["jsonl"].crashes, 1);

    // Within the backoff the worker takes nothing: the next batch stays in
    // flight in the agent's oplog, to be sent again.
    increment(&mut agent, 1);
    agent.flush_plugins().unwrap();
    let in_flight = checkpoint(&agent, &plugin).unwrap();
    assert!(in_flight.sending_up_to > in_flight.confirmed_up_to, "{in_flight:?}");
    assert_eq!(env.plugin_metrics()["jsonl"].restarts, 0);

    // After the backoff the restart runs the trapped batch again (Golem
    // retries an invocation from its start) and traps again: the wait
    // doubles, and the batch in flight still waits.
    std::thread::sleep(std::time::Duration::from_millis(110));
    agent.flush_plugins().unwrap();
    let metrics = &env.plugin_metrics()["jsonl"];
    assert_eq!((metrics.crashes, metrics.restarts), (2, 0), "{metrics:?}");
    assert_eq!(checkpoint(&agent, &plugin).unwrap(), in_flight, "still in flight, nothing written");
    std::thread::sleep(std::time::Duration::from_millis(110));
    env.flush_plugins().unwrap();
    assert_eq!(env.plugin_metrics()["jsonl"].crashes, 2, "200 ms have not passed yet");

    // Fixed: the next restart finishes the trapped batch; the agent's next
    // flush sends the batch in flight (the same range) and what followed.
    env.kv_put(BUCKET, "halt", None);
    std::thread::sleep(std::time::Duration::from_millis(100));
    env.flush_plugins().unwrap();
    increment(&mut agent, 1);
    let confirmed = flush_until_sent(&mut agent, &plugin);
    assert_delivered_once_in_order(&env, &agent, confirmed);
    let (keys, _) = worker_record(&env, &plugin);
    let unique: std::collections::BTreeSet<&String> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len(), "{keys:?}");
    let metrics = &env.plugin_metrics()["jsonl"];
    assert_eq!((metrics.starts, metrics.crashes, metrics.restarts, metrics.active_instances), (2, 2, 1, 1));
    assert!(metrics.batches_retried >= 2, "a trapped batch and a batch in flight: {metrics:?}");

    let mut seen = drain(&events);
    // The waiting worker may refuse a batch in flight more than once in a row.
    seen.dedup();
    let enqueue_failed = |e: &String| e.starts_with(r#"jsonl could not enqueue counter("a") "#);
    assert_eq!(seen[0], "registered jsonl");
    assert!(
        seen[1].starts_with("unregistered jsonl: crashed (") && seen[1].ends_with("restarting in 100ms"),
        "{seen:?}"
    );
    assert!(seen[1].contains("trapping as asked"), "the trap's message is in the reason: {seen:?}");
    assert!(enqueue_failed(&seen[2]), "{seen:?}");
    assert!(seen[3].ends_with("restarting in 200ms"), "{seen:?}");
    assert!(enqueue_failed(&seen[4]), "{seen:?}");
    assert_eq!(seen[5], "registered jsonl");
    assert_eq!(seen.len(), 6, "{seen:?}");

    let text = env.plugin_metrics_prometheus();
    assert!(text.contains("reprise_plugin_restarts_total{plugin=\"jsonl\"} 1\n"), "{text}");
    assert!(text.contains("# TYPE reprise_plugin_active_instances gauge\n"), "{text}");
}

#[test]
fn a_plugin_that_keeps_trapping_is_given_up() {
    let env = Environment::new().unwrap();
    let counter = env.load(build_example("counter")).unwrap();
    let jsonl = env.load(build_example("oplog-jsonl")).unwrap();
    env.define_plugin("jsonl", "1.0.0", "every entry as a JSON line", &jsonl).unwrap();
    env.set_plugin_settings(fast_restarts());
    let audited = env.install_plugin(&counter, "jsonl", "1.0.0", [("bucket", BUCKET), ("trap-when", "halt")]).unwrap();
    let events = env.subscribe_plugin_events();
    env.kv_put(BUCKET, "halt", Some(b"1"));
    let mut agent = create_counter(&env, &audited, "a");
    // 1 crash, then restarts (crashing) after 100, 200, 400 ms: given up on the 4th crash.
    for wait in [0, 110, 210, 410, 810] {
        std::thread::sleep(std::time::Duration::from_millis(wait));
        increment(&mut agent, 1);
        agent.flush_plugins().unwrap();
    }
    let metrics = &env.plugin_metrics()["jsonl"];
    assert_eq!((metrics.crashes, metrics.active_instances), (4, 0), "{metrics:?}");
    let seen = drain(&events);
    assert!(seen.iter().any(|e| e.contains("gave up after 3 restarts in a row")), "{seen:?}");
    assert!(indexes(&env, agent.id()).is_empty());
    assert_eq!(AgentConnection::perform(&mut agent, CounterCall::get()).unwrap(), 5, "the agent is unaffected");
}

#[test]
fn several_instances_serve_different_agents_in_parallel() {
    let (env, _counter, audited) = setup();
    env.set_plugin_settings(reprise_testkit::plugins::PluginSettings { instances: 2, ..Default::default() });
    let plugin = installation(&audited);
    let names: Vec<String> = (0..6).map(|i| format!("n{i}")).collect();
    std::thread::scope(|scope| {
        for name in &names {
            let env = &env;
            let audited = &audited;
            scope.spawn(move || {
                let mut agent = create_counter(env, audited, name);
                increment(&mut agent, 5);
                let confirmed = flush_until_sent(&mut agent, &installation(audited));
                assert_delivered_once_in_order(env, &agent, confirmed);
            });
        }
    });
    let workers = env.plugin_workers(&plugin);
    assert_eq!(workers.len(), 2, "both instances serve some of the six agents");
    assert_eq!(env.plugin_metrics()["jsonl"].active_instances, 2);
}

fn write(path: &std::path::Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn plugins_load_from_a_directory_and_bad_manifests_are_reported_and_skipped() {
    use reprise_testkit::plugins::{ManifestOutcome, content_hash};
    let dir = tempfile::tempdir().unwrap();
    let jsonl = std::fs::read(build_example("oplog-jsonl")).unwrap();
    std::fs::write(dir.path().join("jsonl.wasm"), &jsonl).unwrap();
    write(
        &dir.path().join("jsonl/plugin.json"),
        r#"{"name": "jsonl", "version": "1.0.0", "description": "lines", "component": "../jsonl.wasm", "config": {"bucket": "from-manifest"}}"#,
    );
    std::fs::copy(build_example("agent-stats"), dir.path().join("stats.wasm")).unwrap();
    write(&dir.path().join("stats.json"), r#"{"name": "stats", "version": "0.1.0", "component": "stats.wasm"}"#);
    write(&dir.path().join("broken.json"), "{ not json");
    write(&dir.path().join("incomplete.json"), r#"{"name": "x", "version": "1"}"#);
    write(&dir.path().join("missing.json"), r#"{"name": "y", "version": "1", "component": "nope.wasm"}"#);
    std::fs::copy(build_example("counter"), dir.path().join("counter.wasm")).unwrap();
    write(&dir.path().join("agent.json"), r#"{"name": "z", "version": "1", "component": "counter.wasm"}"#);
    write(&dir.path().join("notes.txt"), "not a manifest");

    let env = Environment::new().unwrap();
    let (directory, reports) = env.load_plugin_directory(dir.path()).unwrap();
    let outcome = |file: &str| {
        reports
            .iter()
            .find(|r| r.manifest.ends_with(file))
            .unwrap_or_else(|| panic!("{file}: {reports:?}"))
            .outcome
            .clone()
    };
    assert_eq!(
        outcome("jsonl/plugin.json"),
        ManifestOutcome::Loaded { name: "jsonl".into(), version: "1.0.0".into(), hash: content_hash(&jsonl) }
    );
    assert!(matches!(outcome("stats.json"), ManifestOutcome::Loaded { .. }));
    let reason = |file: &str| match outcome(file) {
        ManifestOutcome::Rejected { reason } => reason,
        other => panic!("{file}: {other:?}"),
    };
    assert!(
        reason("broken.json").starts_with("not a plugin manifest: key must be a string"),
        "{}",
        reason("broken.json")
    );
    assert!(reason("incomplete.json").contains("missing field `component`"), "{}", reason("incomplete.json"));
    assert!(reason("missing.json").contains("nope.wasm` cannot be read"), "{}", reason("missing.json"));
    assert!(
        reason("agent.json")
            .contains("must export `golem:api/oplog-processor@1.5.0`, but it exports golem:agent/guest@1.5.0"),
        "{}",
        reason("agent.json")
    );
    assert_eq!(reports.len(), 6, "notes.txt is not a manifest: {reports:?}");
    assert_eq!(directory.plugins().len(), 2);
    let defined: Vec<String> = env.plugin_definitions().into_iter().map(|(n, v, _)| format!("{n} {v}")).collect();
    assert_eq!(defined, ["jsonl 1.0.0", "stats 0.1.0"]);
    let line = reports.iter().find(|r| r.manifest.ends_with("missing.json")).unwrap().to_string();
    assert!(line.contains("missing.json: rejected: its component `") && line.contains("nope.wasm"), "{line}");

    // The manifest's configuration is where installations start.
    let counter = env.load(build_example("counter")).unwrap();
    let installed = env.install_plugin(&counter, "jsonl", "1.0.0", [("extra", "1")]).unwrap();
    let parameters = &installed.plugin("jsonl").unwrap().parameters;
    assert_eq!(parameters, &[("bucket".to_string(), "from-manifest".to_string()), ("extra".into(), "1".into())]);
}

/// A plugin directory holding the JSON-lines plugin (writing to `audit`):
/// the directory, the component file, and the bytes of its second revision.
fn jsonl_directory() -> (tempfile::TempDir, std::path::PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("jsonl.wasm");
    std::fs::copy(build_example("oplog-jsonl"), &wasm).unwrap();
    let v2 = std::fs::read(build_example_with("oplog-jsonl", "format-v2")).unwrap();
    write(
        &dir.path().join("jsonl.json"),
        r#"{"name": "jsonl", "version": "1.0.0", "component": "jsonl.wasm", "config": {"bucket": "audit"}}"#,
    );
    (dir, wasm, v2)
}

#[test]
fn a_changed_component_is_hot_updated_after_in_flight_batches_drain_and_a_deleted_one_removed() {
    use reprise_testkit::plugins::{ManifestOutcome, PluginEvent, content_hash};
    let (dir, wasm, v2) = jsonl_directory();
    let env = Environment::new().unwrap();
    let (mut directory, _) = env.load_plugin_directory(dir.path()).unwrap();
    let events = env.subscribe_plugin_events();
    let counter = env.load(build_example("counter")).unwrap();
    let audited = env.install_plugin(&counter, "jsonl", "1.0.0", Vec::<(String, String)>::new()).unwrap();
    let mut agent = create_counter(&env, &audited, "a");
    increment(&mut agent, 3);

    // The agent keeps working on another thread while the file changes.
    let agent = std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            increment(&mut agent, 20);
            agent
        });
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&wasm, &v2).unwrap();
        let reports = directory.rescan().unwrap();
        assert_eq!(
            reports.iter().map(|r| r.outcome.clone()).collect::<Vec<_>>(),
            [ManifestOutcome::Updated { name: "jsonl".into(), version: "1.0.0".into(), hash: content_hash(&v2) }]
        );
        worker.join().unwrap()
    });
    let mut agent = agent;
    increment(&mut agent, 2); // surely on the new code

    // Every entry once, in order; each batch wholly on one version; both versions served.
    let confirmed = flush_until_sent(&mut agent, &installation(&audited));
    assert_delivered_once_in_order(&env, &agent, confirmed);
    let mut formats: std::collections::BTreeMap<String, std::collections::BTreeSet<u64>> = Default::default();
    for (batch, line) in lines(&env, agent.id()) {
        formats.entry(batch).or_default().insert(line["format"].as_u64().unwrap_or(1));
    }
    assert!(formats.values().all(|f| f.len() == 1), "a batch mixed versions: {formats:?}");
    let used: std::collections::BTreeSet<u64> = formats.values().flatten().copied().collect();
    assert_eq!(used, [1, 2].into());
    assert_eq!(env.plugin_metrics()["jsonl"].updates, 1);
    assert_eq!(
        events.try_iter().collect::<Vec<_>>(),
        [PluginEvent::Updated { name: "jsonl".into(), version: "1.0.0".into(), hash: content_hash(&v2) }]
    );

    // Deleted: removed, and nothing more is delivered.
    std::fs::remove_file(&wasm).unwrap();
    let reports = directory.rescan().unwrap();
    assert_eq!(reports[0].outcome, ManifestOutcome::Removed { name: "jsonl".into(), version: "1.0.0".into() });
    let delivered = indexes(&env, agent.id()).len();
    increment(&mut agent, 2);
    agent.flush_plugins().unwrap();
    assert_eq!(indexes(&env, agent.id()).len(), delivered);
    assert_eq!(
        events.try_iter().collect::<Vec<_>>(),
        [PluginEvent::Removed { name: "jsonl".into(), version: "1.0.0".into() }]
    );
    assert!(env.plugin_definitions().is_empty());
}

#[test]
fn a_watched_directory_updates_and_removes_plugins_by_itself() {
    use reprise_testkit::plugins::{ManifestOutcome, content_hash};
    let (dir, wasm, v2) = jsonl_directory();
    let env = Environment::new().unwrap();
    let (directory, _) = env.load_plugin_directory(dir.path()).unwrap();
    let watched = directory.watch().unwrap();
    let next = || watched.reports().recv_timeout(std::time::Duration::from_secs(20)).unwrap().outcome;

    std::fs::write(&wasm, &v2).unwrap();
    assert_eq!(
        next(),
        ManifestOutcome::Updated { name: "jsonl".into(), version: "1.0.0".into(), hash: content_hash(&v2) }
    );
    std::fs::remove_file(&wasm).unwrap();
    assert_eq!(next(), ManifestOutcome::Removed { name: "jsonl".into(), version: "1.0.0".into() });
    assert!(env.plugin_definitions().is_empty());
}

#[test]
fn dropping_the_environment_frees_called_agents_and_plugin_instances() {
    let (env, observed) = warehouse_with_plugin("oplog-jsonl", "jsonl", BUCKET);
    let mut order = env.create(&observed, OrderCall::new("o-1".into(), "main".into())).unwrap();
    assert_eq!(order.add_line("apple".into(), 1).unwrap(), Ok(4));
    assert_eq!(env.owned_agents().len(), 2, "the inventory and the plugin instance");
    let liveness = env.liveness();
    drop((order, env, observed));
    // Environment-owned agents hold the environment; nothing may hold them back.
    assert!(!liveness.is_alive());
}
