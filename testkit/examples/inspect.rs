//! Print a component's imports and exports and its Golem 1.5 check.
//!
//! ```text
//! cargo run -p reprise-testkit --example inspect -- path/to/component.wasm
//! ```

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: inspect FILE.wasm");
        return ExitCode::FAILURE;
    };
    let info = match reprise_testkit::inspect::inspect_file(&path) {
        Ok(info) => info,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{path}: {} bytes", info.size);
    for i in &info.imports {
        println!("  import {i}");
    }
    for e in &info.exports {
        println!("  export {e}");
    }
    match info.check_golem_imports() {
        Ok(()) => {
            println!("every import is provided by Golem 1.5");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
