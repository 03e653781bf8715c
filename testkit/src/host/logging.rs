//! `wasi:logging/logging`: log records are kept per instance for assertions.

use super::HostState;
use crate::bindings::golem::api::oplog::{LogLevel as OplogLevel, LogParameters};
use crate::bindings::wasi::logging::logging::{Host, Level};
use crate::oplog::OplogEntry;

/// Severity of a [`LogRecord`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// `trace`
    Trace,
    /// `debug`
    Debug,
    /// `info`
    Info,
    /// `warn`
    Warn,
    /// `error`
    Error,
    /// `critical`
    Critical,
}

/// One message a guest logged through `wasi:logging`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// Severity.
    pub level: LogLevel,
    /// The context string the guest passed (often a module path).
    pub context: String,
    /// The message.
    pub message: String,
}

impl From<Level> for LogLevel {
    fn from(level: Level) -> Self {
        match level {
            Level::Trace => LogLevel::Trace,
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
            Level::Critical => LogLevel::Critical,
        }
    }
}

impl Host for HostState {
    fn log(&mut self, level: Level, context: String, message: String) -> wasmtime::Result<()> {
        // A replayed agent logs nothing new: its messages are in the oplog.
        // That includes a line recorded just before a crash, which replay
        // reaches only after the last entry it must match.
        let recorded = |e: &OplogEntry| matches!(e, OplogEntry::Log(p) if p.message == message && p.context == context);
        if self.journal.replay_passive(recorded) || !self.journal.is_live() {
            return Ok(());
        }
        let entry = OplogEntry::Log(LogParameters {
            timestamp: self.journal.now(),
            level: match level {
                Level::Trace => OplogLevel::Trace,
                Level::Debug => OplogLevel::Debug,
                Level::Info => OplogLevel::Info,
                Level::Warn => OplogLevel::Warn,
                Level::Error => OplogLevel::Error,
                Level::Critical => OplogLevel::Critical,
            },
            context: context.clone(),
            message: message.clone(),
        });
        self.logs.push(LogRecord { level: level.into(), context, message });
        self.journal.append(entry).map(|_| ())
    }
}
