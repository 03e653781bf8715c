//! One module per subcommand.

pub mod build;
pub mod collect;
pub mod crash_test;
pub mod inspect;
pub mod new;
pub mod oplog;
pub mod plugins;
pub mod replay;
pub mod run;

use std::net::SocketAddr;
use std::path::Path;

use reprise_testkit::{AgentType, Environment, LoadedComponent, schema_parameters};
use serde_json::{Value as Json, json};

use crate::error::CliError;

/// A fresh environment with `path` loaded (imports checked against Golem 1.5).
pub fn load(path: &Path) -> Result<(Environment, LoadedComponent), CliError> {
    load_with(path, &[])
}

/// [`load`], with the key-value store preloaded from `BUCKET/KEY=VALUE` texts.
pub fn load_with(path: &Path, kv: &[String]) -> Result<(Environment, LoadedComponent), CliError> {
    let mut builder = Environment::builder();
    for entry in kv {
        let (bucket, key, value) = kv_entry(entry)?;
        builder = builder.kv_entry(bucket, key, value);
    }
    let env = builder.build().map_err(|e| CliError::failed(format!("cannot start the testkit host: {e}")))?;
    let component = env.load(path).map_err(|e| CliError::loading(path, e))?;
    Ok((env, component))
}

/// `BUCKET/KEY=VALUE` split at the first `=` and the first `/` before it.
fn kv_entry(text: &str) -> Result<(&str, &str, &str), CliError> {
    let parsed = text.split_once('=').and_then(|(place, value)| {
        let (bucket, key) = place.split_once('/')?;
        (!bucket.is_empty() && !key.is_empty()).then_some((bucket, key, value))
    });
    parsed.ok_or_else(|| {
        CliError::input(format!("`{text}` is not a key-value entry"))
            .hint("write --kv BUCKET/KEY=VALUE, such as --kv 'stock-levels/main={\"apple\": 10}'")
    })
}

/// The interface an oplog-processor plugin exports.
pub use reprise_testkit::PROCESSOR_INTERFACE;

/// An agent type's constructor and methods with their WIT types, one line each.
pub fn describe_agent_type(t: &AgentType) -> String {
    let mut out = format!("agent type {}", t.type_name);
    if !t.description.is_empty() {
        out.push_str(&format!("  // {}", first_line(&t.description)));
    }
    out.push_str(&format!("\n  constructor({})", params_text(&t.constructor.input_schema)));
    for m in &t.methods {
        let results = results_text(&m.output_schema);
        let arrow = if results.is_empty() { String::new() } else { format!(" -> {results}") };
        out.push_str(&format!("\n  {}({}){arrow}", m.name, params_text(&m.input_schema)));
        if !m.description.is_empty() {
            out.push_str(&format!("  // {}", first_line(&m.description)));
        }
    }
    out
}

/// The first paragraph of a doc comment, on one line.
fn first_line(text: &str) -> String {
    text.lines().map(str::trim).take_while(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

fn params_text(schema: &reprise_testkit::bindings::golem::core::types::DataSchema) -> String {
    match schema_parameters(schema) {
        Ok(params) => params.iter().map(|(n, t)| format!("{n}: {t}")).collect::<Vec<_>>().join(", "),
        Err(e) => format!("<{e}>"),
    }
}

/// Result types only: their element names (`return_value`) say nothing.
fn results_text(schema: &reprise_testkit::bindings::golem::core::types::DataSchema) -> String {
    match schema_parameters(schema) {
        Ok(params) => params.iter().map(|(_, t)| t.to_string()).collect::<Vec<_>>().join(", "),
        Err(e) => format!("<{e}>"),
    }
}

fn params_json(schema: &reprise_testkit::bindings::golem::core::types::DataSchema) -> Json {
    match schema_parameters(schema) {
        Ok(params) => params.iter().map(|(n, t)| json!({"name": n, "type": t.to_string()})).collect(),
        Err(e) => json!({ "unsupported": e }),
    }
}

/// An agent type as JSON: names, descriptions, parameter and result types.
pub fn agent_type_json(t: &AgentType) -> Json {
    json!({
        "name": t.type_name,
        "description": t.description,
        "constructor": params_json(&t.constructor.input_schema),
        "methods": t.methods.iter().map(|m| json!({
            "name": m.name,
            "description": m.description,
            "parameters": params_json(&m.input_schema),
            "results": params_json(&m.output_schema),
        })).collect::<Vec<_>>(),
    })
}

/// `text` as an address on this machine only: servers Reprise starts are
/// not reachable from the network.
pub fn loopback_addr(text: &str) -> Result<SocketAddr, CliError> {
    let addr: SocketAddr = text.parse().map_err(|_| {
        CliError::input(format!("`{text}` is not an address"))
            .hint("write an IP address and port, such as 127.0.0.1:9090")
    })?;
    if !addr.ip().is_loopback() {
        return Err(CliError::input(format!("{text} is not a loopback address"))
            .hint("serve it on 127.0.0.1 or [::1] (add --token-file to require a bearer token)"));
    }
    Ok(addr)
}
