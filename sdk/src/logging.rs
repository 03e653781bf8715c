//! Logging through `wasi:logging`, also behind the `log` facade.
//!
//! Call [`init`] once (the agent macro does it for you) and `log::info!` and
//! friends reach the executor's log, with the log target as context. Log
//! lines are recorded once: a replayed agent does not log again.
//!
//! ```no_run
//! reprise::logging::init();
//! log::info!(target: "checkout", "order {} accepted", 17);
//! reprise::logging::log(reprise::logging::Level::Warn, "checkout", "stock is low");
//! ```

use crate::bindings::wasi::logging::logging as raw;
pub use crate::bindings::wasi::logging::logging::Level;

/// Log `message` at `level` with `context` (a component or module name).
pub fn log(level: Level, context: &str, message: &str) {
    raw::log(level, context, message);
}

struct WasiLogger;

impl log::Log for WasiLogger {
    fn enabled(&self, _metadata: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let level = match record.level() {
            log::Level::Error => Level::Error,
            log::Level::Warn => Level::Warn,
            log::Level::Info => Level::Info,
            log::Level::Debug => Level::Debug,
            log::Level::Trace => Level::Trace,
        };
        raw::log(level, record.target(), &record.args().to_string());
    }

    fn flush(&self) {}
}

static LOGGER: WasiLogger = WasiLogger;

/// Route the `log` facade to `wasi:logging` at every level. Calling it
/// again (or after another logger was installed) changes nothing.
pub fn init() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Trace);
    }
}
