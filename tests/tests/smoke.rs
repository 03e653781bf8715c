//! The smoke example end to end: built for wasm32-wasip2, checked against
//! Golem 1.5, run in the testkit host.
// Tests fail by unwrapping and panicking, with the value in the message.
#![allow(clippy::unwrap_used, clippy::panic)]

use reprise_e2e::build_example;
use reprise_testkit::inspect::inspect_file;
use reprise_testkit::{Environment, LogLevel, LogRecord};

#[test]
fn smoke_example_imports_only_what_golem_1_5_provides() {
    let wasm = build_example("smoke");
    let info = inspect_file(&wasm).expect("the example is a component");
    info.check_golem_imports().expect("every import exists in Golem 1.5");

    let imports: Vec<String> = info.imports.iter().map(ToString::to_string).collect();
    assert!(imports.iter().any(|i| i == "wasi:logging/logging"), "{imports:?}");
    assert!(imports.iter().all(|i| i.starts_with("wasi:")), "{imports:?}");
    let run = info.exports.iter().find(|e| e.package_name() == "wasi:cli" && e.interface == "run");
    let run = run.unwrap_or_else(|| panic!("a command exports wasi:cli/run: {:?}", info.exports));
    assert!(run.version.as_deref().is_some_and(|v| v.starts_with("0.2.")), "{run}");
}

#[test]
fn smoke_example_runs_in_the_testkit() {
    let wasm = build_example("smoke");
    let env = Environment::new().expect("environment");
    let app = env.load(&wasm).expect("load");

    let outcome = app.run(&env).expect("run");
    assert_eq!(outcome.exit_code, 0, "stderr: {}", outcome.stderr);
    assert_eq!(outcome.stdout, "total = 245\n");
    assert_eq!(
        outcome.logs,
        [
            LogRecord { level: LogLevel::Info, context: "smoke".into(), message: "processing 3 orders".into() },
            LogRecord { level: LogLevel::Debug, context: "smoke".into(), message: "total 245".into() },
        ]
    );

    // Every run is a fresh instance: nothing carries over.
    let again = app.run(&env).expect("second run");
    assert_eq!(again, outcome);
}
