//! Build the `probe` test agent for wasm32-wasip2 and verify it under crashes:
//! one crash-free run, then one run per oplog index (and per side effect
//! whose entry could be lost), each recovered by replay and compared.
//!
//! ```text
//! cargo run -p reprise-testkit --example crash_test
//! ```

use std::path::Path;
use std::process::ExitCode;

use reprise_testkit::Environment;
use reprise_testkit::guest::GuestBuild;
use reprise_testkit::recording::RecordingService;
use reprise_testkit::value::Value;
use reprise_testkit::verify::{CrashPlan, Scenario, verify};

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<bool, Box<dyn std::error::Error>> {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/guests/probe");
    println!("building tests/guests/probe for wasm32-wasip2 ...");
    let wasm = GuestBuild::new(&crate_dir).profile("guest").build()?;

    let service = RecordingService::start()?;
    let env = Environment::builder().recording_service(&service).build()?;
    let component = env.load(&wasm)?;
    println!("component  {} ({} bytes), imports checked against Golem 1.5", wasm.display(), component.info().size);

    let s = Value::string;
    let scenario = Scenario::new("probe", [s("demo")])
        .call("count", [])
        .call("put", [s("colour"), s("green")])
        .call("get", [s("colour")])
        .call("charge", [s("alice"), Value::U64(250)])
        .call("transfer", [s("checking"), s("savings")])
        .call("blob-put", [s("docs"), s("note.txt"), s("durable by default")])
        .call("http-post", [s(&service.addr().to_string()), s("/payments"), s("250")])
        .call("traced", [s("order-7")])
        .call("count", []);
    println!(
        "scenario   {} calls: {}",
        scenario.calls.len(),
        scenario.calls.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>().join(", ")
    );

    let every = verify(&env, &component, &scenario, &CrashPlan::every_entry())?;
    println!("\nevery oplog index\n{every}");
    let random =
        verify(&env, &component, &scenario, &CrashPlan::Random { seed: 2026, trials: 50, crashes_per_run: 3 })?;
    println!("\nseeded random points (3 crashes per run)\n{random}");
    Ok(every.is_ok() && random.is_ok())
}
