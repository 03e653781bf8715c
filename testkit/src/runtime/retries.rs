//! Golem's retries of a failed invocation
//! (golem-worker-executor/src/model/mod.rs `TrapType::from_error`,
//! src/durable_host/mod.rs `fixed_decision_for_trap_type` and
//! `on_invocation_failure`; the default `[retry]` policy in
//! config/worker-executor.toml):
//!
//! - a deterministic trap (a panic, `unreachable`, a division by zero, ...)
//!   is retried only inside an atomic region; a stack overflow never;
//! - any other error from the host, `golem:api/host.trap` included, is
//!   retried;
//! - each failed attempt adds an `error` entry, committed with everything
//!   before it, and the agent recovers by replay and runs the invocation
//!   again live (an atomic region left open is jumped over and runs again);
//! - three retries at most (Golem waits 100 ms, 300 ms, 900 ms between
//!   them; the testkit does not wait), then the agent fails.
//!
//! Errors the testkit finds itself (divergences, corrupt oplogs, the time
//! and memory limits) are not retried.

use super::Agent;
use crate::bindings::golem::api::oplog::ErrorParameters;
use crate::error::{Error, chain};
use crate::host::limits::MemoryRefused;
use crate::journal::Interrupt;
use crate::oplog::{OplogEntry, OplogError};

/// Retries of one invocation (`[retry] max_attempts`, which counts retries).
pub(crate) const MAX_RETRIES: u32 = 3;

/// How Golem classifies a failed guest call, as far as retrying goes.
#[derive(Debug, PartialEq, Eq)]
enum Failure {
    /// A WebAssembly trap the same code hits again.
    Deterministic,
    /// Anything else the host raised.
    Host,
    /// Not retried.
    Final,
}

fn failure(e: &wasmtime::Error) -> Failure {
    if Interrupt::of(e).is_some()
        || e.downcast_ref::<OplogError>().is_some()
        || e.downcast_ref::<MemoryRefused>().is_some()
    {
        return Failure::Final;
    }
    if chain(e).contains("memory allocation failed") {
        return Failure::Final;
    }
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::StackOverflow | wasmtime::Trap::Interrupt | wasmtime::Trap::OutOfFuel) => Failure::Final,
        Some(_) => Failure::Deterministic,
        None => Failure::Host,
    }
}

impl Agent {
    /// Whether Golem retries the invocation that failed with `e`; if so,
    /// the attempt is recorded and the instance discarded, so that recovery
    /// runs the invocation again.
    pub(super) fn retry(&mut self, e: &wasmtime::Error) -> bool {
        if self.updating || self.retries >= MAX_RETRIES {
            return false;
        }
        let Some(live) = self.live_mut() else { return false };
        let state = live.store.data_mut();
        // The trap with what the guest printed (a panic's message).
        let stderr = String::from_utf8_lossy(&state.stderr.contents()).into_owned();
        let error = Error::Trap { message: chain(e), stderr }.to_string();
        let journal = &mut state.journal;
        let in_region = !journal.open_regions.is_empty();
        let retried = match failure(e) {
            Failure::Deterministic => in_region,
            Failure::Host => true,
            Failure::Final => false,
        };
        if !retried {
            return false;
        }
        let entry = OplogEntry::Error(ErrorParameters {
            timestamp: journal.now(),
            error,
            retry_from: journal.retry_point(),
            inside_atomic_region: in_region,
            retry_policy_state: None,
        });
        if let Err(stop) = journal.append(entry) {
            // A crash scheduled at the error entry: recovery retries anyway.
            // Anything else (a divergence found earlier) fails the agent.
            if !matches!(Interrupt::of(&stop), Some(Interrupt::Crash(_))) {
                return false;
            }
            let _ = self.stopped(stop);
        }
        self.retries += 1;
        self.discard_instance();
        true
    }
}
