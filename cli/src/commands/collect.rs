//! `reprise collect`: a loopback OpenTelemetry collector that prints the
//! spans and log records exported to it (OTLP/HTTP JSON), for watching an
//! exporter plugin work without installing a tracing backend.

use std::time::Duration;

use reprise_testkit::collector::{CollectedLog, CollectedSpan, OtlpCollector};

use crate::CliResult;
use crate::error::CliError;

/// How often the collector is read for new data.
const POLL: Duration = Duration::from_millis(200);

pub fn run(listen: &str) -> CliResult {
    let addr = super::loopback_addr(listen)?;
    let collector = OtlpCollector::start_on(addr)
        .map_err(|e| CliError::input(format!("cannot listen on {listen}: {e}")).hint("pick another port, or 0"))?;
    println!("collecting OTLP/HTTP JSON on {} (POST /v1/traces, /v1/logs); Ctrl-C stops", collector.url());
    let (mut spans_seen, mut logs_seen) = (0, 0);
    loop {
        std::thread::sleep(POLL);
        let spans = collector.spans();
        for span in spans.get(spans_seen..).unwrap_or_default() {
            println!("{}", span_line(span));
        }
        spans_seen = spans.len();
        let logs = collector.logs();
        for log in logs.get(logs_seen..).unwrap_or_default() {
            println!("{}", log_line(log));
        }
        logs_seen = logs.len();
    }
}

/// `span TRACE SPAN NAME (parent P) 1.2ms k=v ... [service]`
fn span_line(span: &CollectedSpan) -> String {
    let parent = span.parent_span_id.as_deref().unwrap_or("-");
    let micros = span.end_unix_nano.saturating_sub(span.start_unix_nano) / 1000;
    let mut line = format!("span {} {} {} (parent {parent}) {micros}µs", span.trace_id, span.span_id, span.name);
    for (key, value) in &span.attributes {
        line.push_str(&format!(" {key}={value}"));
    }
    if let Some(error) = &span.error {
        line.push_str(&format!(" ERROR {error}"));
    }
    line.push_str(&service(&span.resource));
    line
}

/// `log SEVERITY BODY (trace T) [service]`
fn log_line(log: &CollectedLog) -> String {
    let trace = log.trace_id.as_deref().unwrap_or("-");
    format!("log {} {} (trace {trace}){}", log.severity_text, log.body, service(&log.resource))
}

fn service(resource: &std::collections::BTreeMap<String, String>) -> String {
    resource.get("service.name").map(|s| format!(" [{s}]")).unwrap_or_default()
}
