//! `reprise inspect FILE.wasm`: what a component imports and exports, its
//! agent types with their schemas, its size, and whether Golem 1.5 can run it.

use std::path::Path;
use std::process::ExitCode;

use reprise_testkit::inspect::{InterfaceRef, inspect_file};
use serde_json::json;

use super::{PROCESSOR_INTERFACE, agent_type_json, describe_agent_type, load};
use crate::CliResult;
use crate::error::CliError;

pub fn run(file: &Path, as_json: bool) -> CliResult {
    let info = inspect_file(file).map_err(|e| CliError::loading(file, reprise_testkit::Error::Inspect(e)))?;
    let check = info.check_golem_imports();
    // Agent types are discovered by instantiating the component, which only
    // a component Golem 1.5 can run allows.
    let agent_types = match &check {
        Ok(()) => {
            let (_env, component) = load(file)?;
            component.agent_types().map(<[_]>::to_vec).map_err(|e| e.to_string())
        }
        Err(_) => Ok(Vec::new()),
    };
    let plugin = info.exports_interface(PROCESSOR_INTERFACE);
    if as_json {
        let iface = |i: &InterfaceRef| json!({"name": i.to_string(), "functions": i.functions});
        let report = json!({
            "file": file.display().to_string(),
            "size": info.size,
            "imports": info.imports.iter().map(iface).collect::<Vec<_>>(),
            "exports": info.exports.iter().map(iface).collect::<Vec<_>>(),
            "golem_1_5": match &check {
                Ok(()) => json!({"compatible": true, "problems": []}),
                Err(e) => json!({"compatible": false, "problems": e.problems.iter().map(ToString::to_string).collect::<Vec<_>>()}),
            },
            "agent_types": match &agent_types {
                Ok(types) => types.iter().map(agent_type_json).collect::<Vec<_>>(),
                Err(_) => Vec::new(),
            },
            "discovery_error": agent_types.as_ref().err(),
            "oplog_processor": plugin,
        });
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        println!("{}: {} bytes", file.display(), info.size);
        println!("imports");
        for i in &info.imports {
            println!("  {i}");
        }
        println!("exports");
        for e in &info.exports {
            println!("  {e}");
        }
        match &check {
            Ok(()) => println!("every import is provided by Golem 1.5"),
            Err(e) => println!("NOT runnable on Golem 1.5: {e}"),
        }
        if plugin {
            println!("oplog-processor plugin: exports {PROCESSOR_INTERFACE}");
        }
        match &agent_types {
            Ok(types) => {
                for t in types {
                    println!("{}", describe_agent_type(t));
                }
            }
            Err(e) => println!("agent type discovery failed: {e}"),
        }
    }
    Ok(if check.is_ok() && agent_types.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
