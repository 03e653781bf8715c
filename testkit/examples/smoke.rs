//! Build `examples/smoke` for wasm32-wasip2, check it against Golem 1.5 and run
//! it in the testkit host, printing what happened.
//!
//! ```text
//! cargo run -p reprise-testkit --example smoke
//! ```

use std::path::Path;
use std::process::ExitCode;

use reprise_testkit::Environment;
use reprise_testkit::guest::GuestBuild;
use reprise_testkit::inspect::inspect_file;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/smoke");
    println!("building examples/smoke for wasm32-wasip2 ...");
    let wasm = GuestBuild::new(&crate_dir).profile("guest").build()?;

    let info = inspect_file(&wasm)?;
    println!("component  {} ({} bytes)", wasm.display(), info.size);
    for import in &info.imports {
        println!("  imports  {import}");
    }
    for export in &info.exports {
        println!("  exports  {export}");
    }
    info.check_golem_imports()?;
    println!("golem 1.5  every import is provided by a Golem 1.5 executor");

    let env = Environment::new()?;
    let outcome = env.load(&wasm)?.run(&env)?;
    println!("run        exit code {}", outcome.exit_code);
    for line in outcome.stdout.lines() {
        println!("  stdout   {line}");
    }
    for log in &outcome.logs {
        println!("  log      {:?} [{}] {}", log.level, log.context, log.message);
    }
    Ok(())
}
