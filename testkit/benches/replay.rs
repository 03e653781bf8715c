//! Speed of the testkit: instantiation, live and replayed host calls, and
//! crash points verified per second. Prints figures; run with
//! `cargo bench -p reprise-testkit --bench replay`.

use std::path::Path;
use std::time::{Duration, Instant};

use reprise_testkit::guest::GuestBuild;
use reprise_testkit::value::Value;
use reprise_testkit::verify::{CrashPlan, Scenario, VerificationReport, verify, verify_from_start};
use reprise_testkit::{Environment, Error, LoadedComponent};

fn main() {
    let probe = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/guests/probe");
    let wasm = GuestBuild::new(&probe).profile("guest").build().expect("build the probe guest");
    let env = Environment::new().expect("environment");
    let started = Instant::now();
    let component = env.load(&wasm).expect("load the probe");
    println!("component load + compile          {:>10.2?}", started.elapsed());

    guest_sizes();
    instantiation(&env, &component);
    host_calls(&env, &component);
    for steps in [10, 100, 1_000] {
        crash_verification(&env, &component, steps);
    }
    // Every crashed run whole (the cost before runs started at their crash),
    // then as `verify` and `reprise crash-test` run them.
    script_verification(&component, 1_000, "every-point, from start", verify_from_start, CrashPlan::every_entry());
    for calls in [1_000, 10_000] {
        script_verification(&component, calls, "every-point", verify, CrashPlan::every_entry());
        script_verification(&component, calls, "distinct-outcome", verify, CrashPlan::distinct_outcomes());
    }
}

type Verifier = fn(&Environment, &LoadedComponent, &Scenario, &CrashPlan) -> Result<VerificationReport, Error>;

/// A script of `calls` invocations, as `reprise crash-test` runs one: how the
/// cost grows with the script's length.
fn script_verification(component: &LoadedComponent, calls: usize, name: &str, verifier: Verifier, plan: CrashPlan) {
    let env = Environment::new().expect("environment");
    let mut scenario = Scenario::new("probe", [Value::string("s")]);
    for _ in 0..calls {
        scenario = scenario.call("count", []);
    }
    let report = verifier(&env, component, &scenario, &plan).expect("verify");
    assert!(report.is_ok(), "{report}");
    println!(
        "{name:>23} verification, {calls:>6}-call script: {:>6} crash runs in {:>9.2?} ({:>6.0} runs/s; {} started at the crash, {} rejoined)",
        report.runs,
        report.elapsed,
        report.runs_per_second(),
        report.started_at_crash,
        report.rejoined
    );
}

fn per(d: Duration, n: u64) -> Duration {
    d / u32::try_from(n.max(1)).unwrap_or(u32::MAX)
}

fn instantiation(env: &Environment, component: &LoadedComponent) {
    // A new agent: a fresh instance from the pre-instantiated component, its
    // create entry, and the constructor call.
    let rounds = 200;
    let started = Instant::now();
    for i in 0..rounds {
        env.create_agent(component, "probe", &[Value::string(format!("a{i}"))]).expect("agent");
    }
    println!("create agent (instantiate + init)  {:>10.2?} per agent", per(started.elapsed(), rounds));

    // Recovering an agent whose oplog holds only its creation is dominated by
    // instantiating a fresh instance.
    let mut agent = env.create_agent(component, "probe", &[Value::string("bench")]).expect("agent");
    let rounds = 200;
    let started = Instant::now();
    for _ in 0..rounds {
        agent.crash();
        agent.invoke("name", &[]).expect("name");
    }
    println!(
        "crash + fresh instance + replay    {:>10.2?} per recovery (1 invocation)",
        per(started.elapsed(), rounds)
    );
}

fn host_calls(env: &Environment, component: &LoadedComponent) {
    let n: u64 = 20_000;
    let mut agent = env.create_agent(component, "probe", &[Value::string("calls")]).expect("agent");
    let started = Instant::now();
    agent.invoke("steps", &[Value::U64(n)]).expect("steps");
    let live = started.elapsed();
    println!("live journaled host call           {:>10.2?} per call", per(live, n));

    // Replay the same invocation: every host call is served from the oplog.
    agent.crash();
    let started = Instant::now();
    agent.invoke("name", &[]).expect("recover");
    let replay = started.elapsed();
    println!(
        "replayed host call                 {:>10.2?} per entry ({} entries)",
        per(replay, n),
        agent.oplog().len()
    );

    // The same for a `#[durable]` function (observe, begin, state, persist
    // or read, end, and the persistence-level switches around its body).
    let mut agent = env.create_agent(component, "probe", &[Value::string("durable")]).expect("agent");
    let started = Instant::now();
    agent.invoke("durable-steps", &[Value::U64(n)]).expect("durable steps");
    println!("live #[durable] call               {:>10.2?} per call", per(started.elapsed(), n));
    agent.crash();
    let started = Instant::now();
    agent.invoke("name", &[]).expect("recover");
    println!("replayed #[durable] call           {:>10.2?} per call", per(started.elapsed(), n));
}

/// Release (`guest` profile: opt-level s, LTO, stripped) size of a guest crate.
fn guest_size(dir: &str) -> Result<u64, String> {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let wasm = GuestBuild::new(&crate_dir).profile("guest").build().map_err(|e| e.to_string())?;
    std::fs::metadata(&wasm).map(|m| m.len()).map_err(|e| e.to_string())
}

/// Every example's size beside golem-rust 2.1.0's counter, all built with
/// the same size-tuned profile (targets: the counter at most 150,000 bytes,
/// every example smaller than golem-rust's counter).
fn guest_sizes() {
    let peer = guest_size("../tests/fixtures/golem-rust-counter");
    match &peer {
        Ok(size) => println!("golem-rust 2.1.0 counter .wasm     {size:>10} bytes (opt-level s, LTO, stripped)"),
        Err(e) => println!("golem-rust counter: {e}"),
    }
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut names: Vec<String> = std::fs::read_dir(&examples)
        .map(|dir| dir.filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned())).collect())
        .unwrap_or_default();
    names.sort();
    for name in names {
        match guest_size(&format!("../examples/{name}")) {
            Ok(size) => {
                let against = peer.as_ref().map(|p| format!("{:.2}x golem-rust's counter", size as f64 / *p as f64));
                println!("examples/{name:<25}{size:>10} bytes ({})", against.unwrap_or_default());
            }
            Err(e) => println!("examples/{name}: {e}"),
        }
    }
}

fn crash_verification(env: &Environment, component: &LoadedComponent, steps: u64) {
    let scenario = Scenario::new("probe", [Value::string("v")]).call("steps", [Value::U64(steps)]);
    for (name, plan) in
        [("every-point", CrashPlan::every_entry()), ("distinct-outcome", CrashPlan::distinct_outcomes())]
    {
        let report = verify(env, component, &scenario, &plan).expect("verify");
        assert!(report.is_ok(), "{report}");
        println!(
            "{name:>16} verification, {steps:>5} steps: {:>4} crash points in {:>9.2?} ({:>6.0} points/s)",
            report.runs,
            report.elapsed,
            report.runs_per_second()
        );
    }
}
