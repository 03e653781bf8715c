//! What the plugin host reports: lifecycle events and counters, the latter
//! also in the Prometheus text exposition format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

/// Something that happened to a plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginEvent {
    /// A plugin version became available (defined or loaded), or one of its
    /// instances started again after a crash.
    Registered {
        /// Plugin name.
        name: String,
        /// Plugin version.
        version: String,
    },
    /// A plugin's component changed: later batches go to the new code.
    Updated {
        /// Plugin name.
        name: String,
        /// The version now serving.
        version: String,
        /// SHA-256 of the new component, hex.
        hash: String,
    },
    /// A plugin instance stopped for now (it crashed and waits for its
    /// restart, or gave up after too many); it may come back.
    Unregistered {
        /// Plugin name.
        name: String,
        /// Plugin version.
        version: String,
        /// Why.
        reason: String,
    },
    /// A batch could not be enqueued on its plugin worker (it waits to
    /// restart after a trap); it stays in flight and the agent's next flush
    /// sends the same range again. Golem reports these as plugin errors.
    EnqueueFailed {
        /// Plugin name.
        name: String,
        /// Plugin version.
        version: String,
        /// The agent whose entries the batch held.
        agent: String,
        /// The batch's first and last oplog index.
        range: (u64, u64),
        /// Why.
        reason: String,
    },
    /// A plugin answered a batch with an error. Golem reports it and does
    /// not send the batch again; this event shows every such batch.
    BatchRefused {
        /// Plugin name.
        name: String,
        /// Plugin version.
        version: String,
        /// The agent whose entries the batch held.
        agent: String,
        /// The batch's first and last oplog index.
        range: (u64, u64),
        /// The plugin's error.
        error: String,
    },
    /// A plugin is gone for good (its file was deleted).
    Removed {
        /// Plugin name.
        name: String,
        /// Plugin version.
        version: String,
    },
}

/// Counters of one plugin, across its instances.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PluginMetrics {
    /// Instances started (first starts and restarts).
    pub starts: u64,
    /// Instances that crashed (trapped, or an injected crash fired).
    pub crashes: u64,
    /// Instances restarted after a trap.
    pub restarts: u64,
    /// Hot updates to new code.
    pub updates: u64,
    /// Time to start an instance (instantiate and replay its oplog): total.
    pub start_latency_total: Duration,
    /// The longest start.
    pub start_latency_max: Duration,
    /// Instances running now.
    pub active_instances: u64,
    /// Oplog entries delivered in batches the plugin accepted.
    pub entries_delivered: u64,
    /// Batches sent again (after a crash before confirmation or a trap).
    pub batches_retried: u64,
    /// Batches the plugin answered with an error: confirmed and never sent
    /// again, as on Golem.
    pub batches_refused: u64,
}

impl PluginMetrics {
    pub(crate) fn started(&mut self, latency: Duration) {
        self.starts += 1;
        self.start_latency_total += latency;
        self.start_latency_max = self.start_latency_max.max(latency);
    }
}

/// Every plugin's counters in the Prometheus text format, one sample per
/// plugin (label `plugin`) for each metric.
pub fn prometheus_text(metrics: &BTreeMap<String, PluginMetrics>) -> String {
    type Metric = (&'static str, &'static str, &'static str, fn(&PluginMetrics) -> f64);
    let table: [Metric; 10] = [
        ("reprise_plugin_starts_total", "counter", "Plugin instances started.", |m| m.starts as f64),
        ("reprise_plugin_crashes_total", "counter", "Plugin instances that crashed.", |m| m.crashes as f64),
        ("reprise_plugin_restarts_total", "counter", "Plugin instances restarted after a trap.", |m| m.restarts as f64),
        ("reprise_plugin_updates_total", "counter", "Hot updates of plugin code.", |m| m.updates as f64),
        ("reprise_plugin_start_latency_seconds_sum", "counter", "Total time spent starting instances.", |m| {
            m.start_latency_total.as_secs_f64()
        }),
        ("reprise_plugin_start_latency_seconds_max", "gauge", "Longest instance start.", |m| {
            m.start_latency_max.as_secs_f64()
        }),
        ("reprise_plugin_active_instances", "gauge", "Plugin instances running.", |m| m.active_instances as f64),
        (
            "reprise_plugin_entries_delivered_total",
            "counter",
            "Oplog entries delivered in batches the plugin accepted.",
            |m| m.entries_delivered as f64,
        ),
        ("reprise_plugin_batches_retried_total", "counter", "Batches sent again.", |m| m.batches_retried as f64),
        ("reprise_plugin_batches_refused_total", "counter", "Batches the plugin answered with an error.", |m| {
            m.batches_refused as f64
        }),
    ];
    let mut out = String::new();
    for (name, kind, help, value) in table {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (plugin, m) in metrics {
            let label = plugin.replace('\\', "\\\\").replace('"', "\\\"");
            let _ = writeln!(out, "{name}{{plugin=\"{label}\"}} {}", value(m));
        }
    }
    out
}

/// The subscribers to lifecycle events.
#[derive(Default)]
pub(crate) struct Subscribers(Vec<Sender<PluginEvent>>);

impl Subscribers {
    pub(crate) fn subscribe(&mut self) -> Receiver<PluginEvent> {
        let (tx, rx) = channel();
        self.0.push(tx);
        rx
    }

    /// Send to every subscriber still listening.
    pub(crate) fn emit(&mut self, event: &PluginEvent) {
        self.0.retain(|tx| tx.send(event.clone()).is_ok());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text_has_help_type_and_one_sample_per_plugin() {
        let mut metrics = BTreeMap::new();
        metrics.insert("jsonl".to_string(), PluginMetrics { starts: 2, entries_delivered: 40, ..Default::default() });
        metrics.insert("a\"b".to_string(), PluginMetrics::default());
        let text = prometheus_text(&metrics);
        assert!(text.contains("# TYPE reprise_plugin_starts_total counter\n"));
        assert!(text.contains("reprise_plugin_starts_total{plugin=\"jsonl\"} 2\n"));
        assert!(text.contains("reprise_plugin_entries_delivered_total{plugin=\"jsonl\"} 40\n"));
        assert!(text.contains("reprise_plugin_starts_total{plugin=\"a\\\"b\"} 0\n"));
        assert_eq!(text.lines().filter(|l| l.starts_with("# HELP")).count(), 10);
    }

    #[test]
    fn events_reach_every_live_subscriber() {
        let mut subscribers = Subscribers::default();
        let first = subscribers.subscribe();
        let second = subscribers.subscribe();
        drop(second);
        let event = PluginEvent::Removed { name: "p".into(), version: "1".into() };
        subscribers.emit(&event);
        assert_eq!(first.try_recv(), Ok(event));
        assert_eq!(subscribers.0.len(), 1, "a dropped receiver is forgotten");
    }
}
