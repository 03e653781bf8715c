//! An oplog-processor plugin exporting what the agents it observes do as
//! OpenTelemetry data, over OTLP/HTTP JSON: a span per invocation with the
//! agent's own spans under it (names, attributes, parents and times from
//! the oplog), the span of an invocation made by another agent under that
//! agent's `rpc-invocation` span, and log entries as log records.
//!
//! Configuration (the installation's parameters):
//!
//! | key | meaning | default |
//! | --- | --- | --- |
//! | `endpoint` | the collector's base URL (`/v1/traces`, `/v1/logs` are appended) | none: nothing is exported |
//! | `headers` | extra request headers, `name=value,name=value` | none |
//! | `service-name-mode` | `service.name` as `agent-id` (`{component}/{agent}`) or `agent-type` (the agent id up to its constructor arguments) | `agent-id` |
//! | `signals` | `traces`, `logs`, or both, comma-separated | `traces` |
//!
//! Each export carries an `idempotency-key` derived from the agent, the
//! batch's bounds and the signal, so a batch exported again (after a crash
//! of the plugin between the export and its journal entry) is recognisably
//! the same export. An agent's spans still open at the end of a batch are
//! kept, and kept only once the batch's exports succeeded: a batch that
//! fails is answered with an error, which Golem reports and does not send
//! again.

mod config;
mod spans;

use std::collections::BTreeMap;

use reprise::http::{self, Request};
use reprise::plugin::{Batch, OplogProcessor};
use serde_json::{Value as Json, json};

use config::{Config, ServiceName};
use spans::AgentSpans;

/// Namespace of the exports' idempotency keys.
const KEY_NAMESPACE: uuid::Uuid = uuid::uuid!("5f0c6a1e-2d4b-4e8a-9c3f-7a1b2c3d4e5f");

/// The exporter: what each agent has open, by `{component}/{agent}`.
#[derive(Debug, Default)]
pub struct OtlpExporter {
    agents: BTreeMap<String, AgentSpans>,
}

impl OplogProcessor for OtlpExporter {
    fn process(&mut self, batch: &Batch) -> Result<(), String> {
        let config = match Config::from_params(batch.config()) {
            Ok(Some(config)) => config,
            Ok(None) => return Ok(()),
            Err(e) => return Err(format!("OTLP exporter: configuration error: {e}")),
        };
        let agent = agent_key(batch);
        let mut state = self.agents.get(&agent).cloned().unwrap_or_default();
        let output = spans::process(&mut state, batch.raw_entries().map(|(_, e)| e));
        let resource = resource(&config, batch);
        let scope = json!({ "name": "reprise-otlp-exporter", "version": env!("CARGO_PKG_VERSION") });
        if config.signals.traces && !output.spans.is_empty() {
            let body = json!({ "resourceSpans": [{
                "resource": resource,
                "scopeSpans": [{ "scope": scope, "spans": output.spans }],
            }]});
            export(&config, batch, "traces", &body)?;
        }
        if config.signals.logs && !output.logs.is_empty() {
            let body = json!({ "resourceLogs": [{
                "resource": resource,
                "scopeLogs": [{ "scope": scope, "logRecords": output.logs }],
            }]});
            export(&config, batch, "logs", &body)?;
        }
        // Exported: what is still open is kept for the batches that close it.
        if state.is_idle() {
            self.agents.remove(&agent);
        } else {
            self.agents.insert(agent, state);
        }
        Ok(())
    }
}

reprise::export_oplog_processor!(OtlpExporter);

/// Post `body` to the collector's path for `signal`.
fn export(config: &Config, batch: &Batch, signal: &str, body: &Json) -> Result<(), String> {
    let key = uuid::Uuid::new_v5(
        &KEY_NAMESPACE,
        format!("{}\0{}\0{}\0{signal}", agent_key(batch), batch.first_index(), batch.last_index()).as_bytes(),
    );
    let mut request = Request::post(format!("{}/v1/{signal}", config.endpoint))
        .header("content-type", "application/json")
        .header("idempotency-key", key.to_string());
    for (name, value) in &config.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = request.body(body.to_string().into()).map_err(|e| format!("OTLP exporter: bad request: {e}"))?;
    let reply = http::send(request).map_err(|e| format!("OTLP transport error: {e}"))?;
    if !reply.is_success() {
        return Err(format!("OTLP export failed with HTTP status: {}", reply.status));
    }
    Ok(())
}

/// `{component id}/{agent id}`, the component id as a hyphenated UUID.
fn agent_key(batch: &Batch) -> String {
    format!("{}/{}", component_uuid(batch), batch.agent_id().agent_id)
}

fn component_uuid(batch: &Batch) -> uuid::Uuid {
    let id = &batch.component_id().uuid;
    uuid::Uuid::from_u64_pair(id.high_bits, id.low_bits)
}

/// The resource: the service (named as configured), the agent and its
/// component and revision.
fn resource(config: &Config, batch: &Batch) -> Json {
    let agent = agent_key(batch);
    let service = match config.service_name {
        ServiceName::AgentId => agent.clone(),
        ServiceName::AgentType => {
            let id = &batch.agent_id().agent_id;
            id.split_once('(').map_or(id.as_str(), |(agent_type, _)| agent_type).to_string()
        }
    };
    let attribute = |k: &str, v: String| json!({ "key": k, "value": { "stringValue": v } });
    json!({ "attributes": [
        attribute("service.name", service),
        attribute("golem.agent.id", agent),
        attribute("golem.component.id", component_uuid(batch).to_string()),
        attribute("golem.component.version", batch.metadata().component_revision.to_string()),
    ]})
}
