//! From oplog entries to OpenTelemetry spans and log records, one agent at
//! a time. What an invocation's context and its span entries say:
//!
//! - `agent-invocation-started` opens the invocation's own spans (those of
//!   its context not inherited from a caller: the `invoke-exported-function`
//!   span first), with their parents as recorded, so the span of an
//!   invocation made by another agent hangs under that agent's
//!   `rpc-invocation` span;
//! - `start-span`, `set-span-attribute` and `finish-span` open, change and
//!   close the agent's own spans; `agent-invocation-finished` closes what is
//!   still open;
//! - `error`, `interrupted` and `exited` close everything open with an error
//!   status, and are logged;
//! - `log` entries become log records in the invocation's trace.
//!
//! Spans still open at the end of a batch wait in [`AgentSpans`] for the
//! batches that close them.

use std::collections::BTreeMap;

use reprise::bindings::golem::api::context::{Attribute, AttributeValue};
use reprise::bindings::golem::api::oplog::{LogLevel, OplogEntry, SpanData, WorkerError};
use reprise::bindings::wasi::clocks::wall_clock::Datetime;
use serde_json::{Value as Json, json};

/// A span opened and not yet closed.
#[derive(Debug, Clone)]
struct Open {
    span_id: String,
    parent: Option<String>,
    start: Datetime,
    attributes: BTreeMap<String, String>,
}

/// What is known of one agent between batches.
#[derive(Debug, Clone, Default)]
pub struct AgentSpans {
    trace_id: String,
    trace_states: Vec<String>,
    /// The invocation's own spans from its context, in the context's order.
    invocation: Vec<Open>,
    /// Spans the agent started, by id.
    started: BTreeMap<String, Open>,
}

impl AgentSpans {
    /// Nothing open: the state can be forgotten.
    pub fn is_idle(&self) -> bool {
        self.invocation.is_empty() && self.started.is_empty()
    }
}

/// Spans and log records, as OTLP JSON objects.
#[derive(Debug, Default)]
pub struct Output {
    pub spans: Vec<Json>,
    pub logs: Vec<Json>,
}

/// Fold `entries` into `state`, collecting what they complete.
pub fn process<'a>(state: &mut AgentSpans, entries: impl IntoIterator<Item = &'a OplogEntry>) -> Output {
    let mut out = Output::default();
    for entry in entries {
        match entry {
            OplogEntry::AgentInvocationStarted(p) => {
                // Spans left open by an invocation that never finished are dropped.
                *state = AgentSpans {
                    trace_id: p.trace_id.clone(),
                    trace_states: p.trace_states.clone(),
                    ..Default::default()
                };
                for span in &p.invocation_context {
                    if let SpanData::LocalSpan(s) = span
                        && !s.inherited
                    {
                        state.invocation.push(Open {
                            span_id: s.span_id.clone(),
                            parent: s.parent.clone(),
                            start: s.start,
                            attributes: attributes(&s.attributes),
                        });
                    }
                }
            }
            OplogEntry::StartSpan(p) => {
                let open = Open {
                    span_id: p.span_id.clone(),
                    parent: p.parent.clone(),
                    start: p.timestamp,
                    attributes: attributes(&p.attributes),
                };
                state.started.insert(p.span_id.clone(), open);
            }
            OplogEntry::SetSpanAttribute(p) => {
                let AttributeValue::String(value) = &p.value;
                let target = match state.started.get_mut(&p.span_id) {
                    Some(open) => Some(open),
                    None => state.invocation.iter_mut().find(|o| o.span_id == p.span_id),
                };
                if let Some(open) = target {
                    open.attributes.insert(p.key.clone(), value.clone());
                }
            }
            OplogEntry::FinishSpan(p) => {
                if let Some(open) = state.started.remove(&p.span_id) {
                    out.spans.push(span(state, open, p.timestamp, None));
                }
            }
            OplogEntry::AgentInvocationFinished(p) => close_all(state, p.timestamp, None, &mut out),
            OplogEntry::Error(p) => {
                let message = worker_error(&p.error);
                out.logs.push(log(state, p.timestamp, 17, "ERROR", &message, &[("error.type", error_type(&p.error))]));
                close_all(state, p.timestamp, Some(&message), &mut out);
            }
            OplogEntry::Interrupted(t) => {
                out.logs.push(log(state, t.timestamp, 13, "WARN", "Agent interrupted", &[]));
                close_all(state, t.timestamp, Some("interrupted"), &mut out);
            }
            OplogEntry::Exited(t) => {
                out.logs.push(log(state, t.timestamp, 9, "INFO", "Agent exited", &[]));
                close_all(state, t.timestamp, Some("exited"), &mut out);
            }
            OplogEntry::Log(p) => {
                let (number, text) = severity(p.level);
                let context = [("log.context", p.context.as_str())];
                let attributes: &[(&str, &str)] = if p.context.is_empty() { &[] } else { &context };
                out.logs.push(log(state, p.timestamp, number, text, &p.message, attributes));
            }
            _ => {}
        }
    }
    out
}

/// Close the invocation's spans, then the agent's, at `end`.
fn close_all(state: &mut AgentSpans, end: Datetime, error: Option<&str>, out: &mut Output) {
    let invocation = std::mem::take(&mut state.invocation);
    let started = std::mem::take(&mut state.started);
    for open in invocation.into_iter().chain(started.into_values()) {
        out.spans.push(span(state, open, end, error));
    }
}

fn attributes(list: &[Attribute]) -> BTreeMap<String, String> {
    list.iter()
        .map(|a| {
            let AttributeValue::String(value) = &a.value;
            (a.key.clone(), value.clone())
        })
        .collect()
}

/// Nanoseconds since the epoch, as OTLP JSON writes them (a decimal string).
fn nanos(t: Datetime) -> String {
    (u128::from(t.seconds) * 1_000_000_000 + u128::from(t.nanoseconds)).to_string()
}

fn key_values<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<Json> {
    pairs.into_iter().map(|(k, v)| json!({ "key": k, "value": { "stringValue": v } })).collect()
}

/// An OTLP span: named by its `name` attribute (else by its request, else
/// `unknown`), a server span for an invocation, a client span for RPC and
/// HTTP calls, internal otherwise.
fn span(state: &AgentSpans, mut open: Open, end: Datetime, error: Option<&str>) -> Json {
    let name = match open.attributes.remove("name") {
        Some(name) if !name.trim().is_empty() => name,
        _ => match (open.attributes.get("request.method"), open.attributes.get("request.uri")) {
            (Some(m), Some(u)) if !m.is_empty() && !u.is_empty() => format!("{m} {u}"),
            _ => "unknown".to_string(),
        },
    };
    let kind = match name.as_str() {
        "invoke-exported-function" => 2,
        "rpc-connection" | "rpc-invocation" | "outgoing-http-request" => 3,
        _ if open.attributes.contains_key("request.method") && open.attributes.contains_key("request.uri") => 2,
        _ => 1,
    };
    let mut span = json!({
        "traceId": state.trace_id,
        "spanId": open.span_id,
        "name": name,
        "kind": kind,
        "startTimeUnixNano": nanos(open.start),
        "endTimeUnixNano": nanos(end),
        "attributes": key_values(open.attributes.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
    });
    if let Some(parent) = open.parent {
        span["parentSpanId"] = json!(parent);
    }
    if !state.trace_states.is_empty() {
        span["traceState"] = json!(state.trace_states.join(","));
    }
    if let Some(message) = error {
        span["status"] = json!({ "code": 2, "message": message });
    }
    span
}

fn log(state: &AgentSpans, at: Datetime, number: u32, text: &str, body: &str, attributes: &[(&str, &str)]) -> Json {
    let mut record = json!({
        "timeUnixNano": nanos(at),
        "observedTimeUnixNano": nanos(at),
        "severityNumber": number,
        "severityText": text,
        "body": { "stringValue": body },
        "attributes": key_values(attributes.iter().copied()),
    });
    if !state.trace_id.is_empty() {
        record["traceId"] = json!(state.trace_id);
    }
    record
}

/// OpenTelemetry's severity number and text of a log level.
fn severity(level: LogLevel) -> (u32, &'static str) {
    match level {
        LogLevel::Stdout => (1, "STDOUT"),
        LogLevel::Stderr => (13, "STDERR"),
        LogLevel::Trace => (1, "TRACE"),
        LogLevel::Debug => (5, "DEBUG"),
        LogLevel::Info => (9, "INFO"),
        LogLevel::Warn => (13, "WARN"),
        LogLevel::Error => (17, "ERROR"),
        LogLevel::Critical => (21, "CRITICAL"),
    }
}

fn worker_error(error: &WorkerError) -> String {
    match error {
        WorkerError::Unknown(m)
        | WorkerError::InvalidRequest(m)
        | WorkerError::InternalError(m)
        | WorkerError::DeterministicTrap(m)
        | WorkerError::TransientError(m)
        | WorkerError::PermanentError(m) => format!("{}: {m}", error_type(error)),
        other => error_type(other).to_string(),
    }
}

/// The error's variant, as its type.
fn error_type(error: &WorkerError) -> &'static str {
    match error {
        WorkerError::Unknown(_) => "Unknown",
        WorkerError::InvalidRequest(_) => "InvalidRequest",
        WorkerError::StackOverflow => "StackOverflow",
        WorkerError::OutOfMemory => "OutOfMemory",
        WorkerError::ExceededMemoryLimit => "ExceededMemoryLimit",
        WorkerError::InternalError(_) => "InternalError",
        WorkerError::DeterministicTrap(_) => "DeterministicTrap",
        WorkerError::TransientError(_) => "TransientError",
        WorkerError::PermanentError(_) => "PermanentError",
        WorkerError::ExceededTableLimit => "ExceededTableLimit",
        WorkerError::ExceededHttpCallLimit => "ExceededHttpCallLimit",
        WorkerError::ExceededRpcCallLimit => "ExceededRpcCallLimit",
        WorkerError::NodeOutOfFilesystemStorage => "NodeOutOfFilesystemStorage",
        WorkerError::AgentExceededFilesystemStorageLimit => "AgentExceededFilesystemStorageLimit",
        WorkerError::AgentTerminatedByQuota(_) => "AgentTerminatedByQuota",
        WorkerError::EphemeralSleepTooLong(_) => "EphemeralSleepTooLong",
        WorkerError::EphemeralFuelExhausted(_) => "EphemeralFuelExhausted",
        WorkerError::EphemeralCannotSuspend(_) => "EphemeralCannotSuspend",
    }
}
