//! Where every stopped guest call and journal operation is handled: crashes
//! and restarts discard the instance (recovery carries the work on), the
//! rest become the most precise [`Error`].

use wasmtime::Store;

use super::Agent;
use crate::error::{Error, chain};
use crate::host::HostState;
use crate::host::limits::MemoryRefused;
use crate::journal::Interrupt;
use crate::oplog::OplogError;

/// What became of a guest call or journal operation that did not complete.
#[derive(Debug)]
pub(super) enum Stop {
    /// The instance is gone (an injected crash, or a restart the agent asked
    /// for): recovery carries on from the oplog.
    Lost,
    /// A failure to report.
    Failed(Error),
}

impl Agent {
    /// Handle `e`, raised by the live instance's guest or journal (or by the
    /// parked journal while no instance runs).
    pub(super) fn stopped(&mut self, e: wasmtime::Error) -> Stop {
        match Interrupt::of(&e) {
            Some(Interrupt::Crash(fired)) => {
                self.crashes_fired.push(*fired);
                self.discard_instance();
                // The executor went down: what it had not committed is gone.
                self.journal_mut().oplog.discard_uncommitted();
                Stop::Lost
            }
            Some(Interrupt::Restart) => {
                self.discard_instance();
                Stop::Lost
            }
            // Golem retries some failures: recovery runs the invocation again.
            _ if self.retry(&e) => Stop::Lost,
            _ => Stop::Failed(match self.store() {
                Some(store) => classify_trap(e, store),
                None => classify_trap_without_store(e),
            }),
        }
    }
}

/// Apply the environment's limits to a store: memory, and the time one
/// invocation may run.
pub(crate) fn apply_limits(store: &mut Store<HostState>) {
    store.limiter(|s| &mut s.limits);
    let ticks = store.data().world.limits.invocation_timeout.as_millis() / crate::engine::EPOCH_TICK.as_millis();
    store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX).max(1));
}

/// Turn a failed guest call into the most precise testkit error.
pub(crate) fn classify_trap(e: wasmtime::Error, store: &Store<HostState>) -> Error {
    let e = match precise(e) {
        Ok(error) => return error,
        Err(e) => e,
    };
    let limits = store.data().world.limits;
    if let Some(wasmtime::Trap::Interrupt) = e.downcast_ref::<wasmtime::Trap>() {
        return Error::Timeout { limit: limits.invocation_timeout };
    }
    match e.downcast_ref::<MemoryRefused>() {
        Some(MemoryRefused::Instance { limit }) => return Error::MemoryLimit { limit: *limit },
        Some(MemoryRefused::Total { limit }) => return Error::MemoryBudget { limit: *limit },
        None => {}
    }
    let message = chain(&e);
    if message.contains("memory allocation failed") {
        return Error::MemoryLimit { limit: limits.memory_bytes };
    }
    let stderr = String::from_utf8_lossy(&store.data().stderr.contents()).into_owned();
    Error::Trap { message, stderr }
}

fn classify_trap_without_store(e: wasmtime::Error) -> Error {
    precise(e).unwrap_or_else(|e| Error::Guest(chain(&e)))
}

/// The error an interrupt or a failing oplog stands for, if `e` is one.
fn precise(e: wasmtime::Error) -> Result<Error, wasmtime::Error> {
    match Interrupt::of(&e) {
        Some(Interrupt::Divergence(d)) => return Ok(Error::Divergence(d.clone())),
        Some(Interrupt::Corrupt(c)) => return Ok(Error::CorruptOplog(c.clone())),
        Some(Interrupt::Unrecoverable(reason)) => return Ok(Error::Unrecoverable(reason.clone())),
        Some(other) => return Ok(Error::Guest(other.to_string())),
        None => {}
    }
    e.downcast::<OplogError>().map(Error::Oplog)
}
