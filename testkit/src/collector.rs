//! A loopback OpenTelemetry collector for tests: the recording service
//! (`crate::recording`) taking OTLP/HTTP JSON exports (`POST /v1/traces`,
//! `POST /v1/logs`) and reading back the spans and log records they carry,
//! with the resource each came with and the export's idempotency key.
//!
//! ```no_run
//! use reprise_testkit::collector::OtlpCollector;
//!
//! let collector = OtlpCollector::start()?;
//! // ... install an exporter plugin with `endpoint` = collector.url() ...
//! for span in collector.spans() {
//!     println!("{} {} (parent {:?})", span.span_id, span.name, span.parent_span_id);
//! }
//! # Ok::<(), std::io::Error>(())
//! ```

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::recording::{RecordedRequest, RecordingService};

/// One span, as exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectedSpan {
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// The parent's span id; `None` for a root.
    pub parent_span_id: Option<String>,
    /// The span's name.
    pub name: String,
    /// OTLP's span kind (1 internal, 2 server, 3 client).
    pub kind: u64,
    /// Start, in nanoseconds since the epoch.
    pub start_unix_nano: u128,
    /// End, in nanoseconds since the epoch.
    pub end_unix_nano: u128,
    /// String attributes, by key.
    pub attributes: BTreeMap<String, String>,
    /// The status message, for a span that ended in error.
    pub error: Option<String>,
    /// The resource's attributes (the service and what it names).
    pub resource: BTreeMap<String, String>,
    /// The `idempotency-key` of the export that carried it.
    pub export_key: Option<String>,
}

/// One log record, as exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectedLog {
    /// When, in nanoseconds since the epoch.
    pub time_unix_nano: u128,
    /// OTLP's severity number.
    pub severity_number: u64,
    /// The severity's name.
    pub severity_text: String,
    /// The message.
    pub body: String,
    /// String attributes, by key.
    pub attributes: BTreeMap<String, String>,
    /// The trace the record belongs to, if any.
    pub trace_id: Option<String>,
    /// The resource's attributes.
    pub resource: BTreeMap<String, String>,
    /// The `idempotency-key` of the export that carried it.
    pub export_key: Option<String>,
}

/// The running collector; it stops when dropped.
#[derive(Debug, Clone)]
pub struct OtlpCollector {
    service: RecordingService,
}

impl OtlpCollector {
    /// Start on a free loopback port.
    pub fn start() -> std::io::Result<Self> {
        Ok(OtlpCollector { service: RecordingService::start()? })
    }

    /// Start listening on `addr` (port 0 picks a free one).
    pub fn start_on(addr: std::net::SocketAddr) -> std::io::Result<Self> {
        Ok(OtlpCollector { service: RecordingService::start_on(addr)? })
    }

    /// `http://127.0.0.1:PORT`: the endpoint to configure exporters with.
    pub fn url(&self) -> String {
        self.service.url()
    }

    /// Every request received, in order (exports and anything else).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.service.requests()
    }

    /// Every span of every trace export, in the order received (a span
    /// exported twice is here twice).
    pub fn spans(&self) -> Vec<CollectedSpan> {
        self.exports("/v1/traces", "resourceSpans", "scopeSpans", "spans")
            .map(|(resource, key, span)| CollectedSpan {
                trace_id: text(&span["traceId"]),
                span_id: text(&span["spanId"]),
                parent_span_id: span["parentSpanId"].as_str().filter(|p| !p.is_empty()).map(str::to_string),
                name: text(&span["name"]),
                kind: span["kind"].as_u64().unwrap_or(0),
                start_unix_nano: nanos(&span["startTimeUnixNano"]),
                end_unix_nano: nanos(&span["endTimeUnixNano"]),
                attributes: attributes(&span["attributes"]),
                error: (span["status"]["code"].as_u64() == Some(2)).then(|| text(&span["status"]["message"])),
                resource,
                export_key: key,
            })
            .collect()
    }

    /// Every record of every log export, in the order received.
    pub fn logs(&self) -> Vec<CollectedLog> {
        self.exports("/v1/logs", "resourceLogs", "scopeLogs", "logRecords")
            .map(|(resource, key, record)| CollectedLog {
                time_unix_nano: nanos(&record["timeUnixNano"]),
                severity_number: record["severityNumber"].as_u64().unwrap_or(0),
                severity_text: text(&record["severityText"]),
                body: text(&record["body"]["stringValue"]),
                attributes: attributes(&record["attributes"]),
                trace_id: record["traceId"].as_str().map(str::to_string),
                resource,
                export_key: key,
            })
            .collect()
    }

    /// Answer the next `n` exports with `503 Service Unavailable`.
    pub fn fail_next(&self, n: usize) {
        self.service.fail_next(n);
    }

    /// Forget everything received.
    pub fn reset(&self) {
        self.service.reset();
    }

    /// The items of every JSON export to `path`, with their resource and
    /// the export's key; bodies that are not OTLP JSON are passed over.
    fn exports<'a>(
        &self,
        path: &'a str,
        resources: &'a str,
        scopes: &'a str,
        items: &'a str,
    ) -> impl Iterator<Item = (BTreeMap<String, String>, Option<String>, Json)> + 'a {
        self.requests().into_iter().filter(move |r| r.method == "POST" && r.path == path).flat_map(move |request| {
            let body: Json = serde_json::from_slice(&request.body).unwrap_or(Json::Null);
            let mut found = Vec::new();
            for resource in body[resources].as_array().into_iter().flatten() {
                let resource_attributes = attributes(&resource["resource"]["attributes"]);
                for scope in resource[scopes].as_array().into_iter().flatten() {
                    for item in scope[items].as_array().into_iter().flatten() {
                        found.push((resource_attributes.clone(), request.idempotency_key.clone(), item.clone()));
                    }
                }
            }
            found
        })
    }
}

fn text(value: &Json) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// OTLP JSON writes 64-bit times as decimal strings (numbers are accepted too).
fn nanos(value: &Json) -> u128 {
    match value {
        Json::String(s) => s.parse().unwrap_or(0),
        other => other.as_u64().map_or(0, u128::from),
    }
}

/// `[{"key": k, "value": {"stringValue": v}}, ..]` as a map (other value
/// kinds as their JSON text).
fn attributes(list: &Json) -> BTreeMap<String, String> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|kv| {
            let value = match kv["value"]["stringValue"].as_str() {
                Some(s) => s.to_string(),
                None => kv["value"].to_string(),
            };
            (text(&kv["key"]), value)
        })
        .collect()
}
