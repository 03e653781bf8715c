//! Scoped control over the executor: persistence level, idempotence mode,
//! atomic regions, checkpoints, oplog commits, idempotency keys, and
//! transactions with compensations. Guards restore the previous setting when
//! dropped, also on early return and unwinding.
//!
//! ```no_run
//! use reprise::guards::{atomically, fallible_transaction, idempotency_key};
//!
//! // Both writes happen, or after a crash inside, the region runs again.
//! atomically(|| {
//!     // debit(); credit();
//! });
//!
//! // Each step registers how to undo it; a failing step undoes the others.
//! let result: Result<u32, String> = fallible_transaction(|tx| {
//!     let hold = tx.step(|| Ok::<_, String>(42), |hold| { let _ = hold; /* release */ })?;
//!     tx.step(|| Err("card declined".to_string()), |_: &()| {})?;
//!     Ok(hold)
//! });
//! assert!(result.is_err());
//! let key: uuid::Uuid = idempotency_key();
//! ```

use crate::bindings::golem::api::host::{self, PersistenceLevel};
pub use crate::durability::PersistenceGuard;

/// Run `f` with the given persistence level, restoring the previous one after.
///
/// On Golem 1.5, replay passes over a persist-nothing zone whole, so the
/// level change itself is not there to replay: code that turns persistence
/// off must not run again during replay, or the agent fails to recover
/// ("unexpected oplog entry"). Use it only where replay does not reach, as
/// [`durable`](crate::durable)'s live branch does; the testkit reports any
/// other use as a divergence.
pub fn with_persistence_level<T>(level: PersistenceLevel, f: impl FnOnce() -> T) -> T {
    let _guard = PersistenceGuard::set(level);
    f()
}

/// Sets the idempotence mode until dropped (`true`: side effects may be
/// retried, at-least-once; `false`: at-most-once).
#[derive(Debug)]
pub struct IdempotenceGuard {
    previous: bool,
}

impl IdempotenceGuard {
    /// Switch the mode until the guard is dropped.
    pub fn set(idempotent: bool) -> Self {
        let previous = host::get_idempotence_mode();
        host::set_idempotence_mode(idempotent);
        IdempotenceGuard { previous }
    }
}

impl Drop for IdempotenceGuard {
    fn drop(&mut self) {
        host::set_idempotence_mode(self.previous);
    }
}

/// Run `f` with the given idempotence mode.
pub fn with_idempotence_mode<T>(idempotent: bool, f: impl FnOnce() -> T) -> T {
    let _guard = IdempotenceGuard::set(idempotent);
    f()
}

/// An atomic region: if the agent fails before the region ends, recovery runs
/// it again from its start. Ends when dropped after normal completion; a
/// panic leaves it open (so it is retried).
#[derive(Debug)]
pub struct AtomicRegion {
    begin: u64,
}

impl AtomicRegion {
    /// Begin a region.
    pub fn begin() -> Self {
        AtomicRegion { begin: host::mark_begin_operation() }
    }

    /// End the region now.
    pub fn end(self) {
        // Dropping ends it.
    }
}

impl Drop for AtomicRegion {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            host::mark_end_operation(self.begin);
        }
    }
}

/// Run `f` as an atomic region.
pub fn atomically<T>(f: impl FnOnce() -> T) -> T {
    let region = AtomicRegion::begin();
    let out = f();
    region.end();
    out
}

/// Run `f` as an atomic region; an error traps the invocation inside the
/// region, so the executor retries the whole region (under its retry policy).
pub fn atomically_or_retry<T, E: std::fmt::Display>(f: impl FnOnce() -> Result<T, E>) -> T {
    let region = AtomicRegion::begin();
    match f() {
        Ok(v) => {
            region.end();
            v
        }
        Err(e) => {
            // The region stays open: the retry starts from its beginning.
            std::mem::forget(region);
            host::trap(&format!("atomic region failed and will be retried: {e}"));
            std::process::abort()
        }
    }
}

/// A position in the oplog to return to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    index: u64,
}

impl Checkpoint {
    /// Remember the current position.
    pub fn capture() -> Self {
        Checkpoint { index: host::get_oplog_index() }
    }

    /// Continue execution from the captured position (never returns: the
    /// agent restarts there, with everything since forgotten).
    pub fn revert(self) -> ! {
        host::set_oplog_index(self.index);
        std::process::abort()
    }
}

/// Wait until the oplog is written to `replicas` replicas.
pub fn commit_oplog(replicas: u8) {
    host::oplog_commit(replicas);
}

/// A fresh idempotency key, persisted before it is returned: replay yields
/// the same key.
pub fn idempotency_key() -> uuid::Uuid {
    host::generate_idempotency_key().into()
}

/// The steps of a transaction and how to undo them.
#[derive(Default)]
pub struct Transaction {
    compensations: Vec<Box<dyn FnOnce()>>,
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction").field("steps", &self.compensations.len()).finish()
    }
}

impl Transaction {
    /// Run a step; when it succeeds, remember `compensation` (called with the
    /// step's output) in case a later step fails.
    pub fn step<T: Clone + 'static, E>(
        &mut self,
        action: impl FnOnce() -> Result<T, E>,
        compensation: impl FnOnce(&T) + 'static,
    ) -> Result<T, E> {
        let out = action()?;
        let kept = out.clone();
        self.compensations.push(Box::new(move || compensation(&kept)));
        Ok(out)
    }

    fn compensate(&mut self) {
        while let Some(undo) = self.compensations.pop() {
            undo();
        }
    }
}

/// Run the steps in an atomic region; if one fails, run the compensations of
/// the completed steps in reverse order and return the error. A crash inside
/// reruns the region from its start.
pub fn fallible_transaction<T, E>(f: impl FnOnce(&mut Transaction) -> Result<T, E>) -> Result<T, E> {
    atomically(|| {
        let mut tx = Transaction::default();
        let result = f(&mut tx);
        if result.is_err() {
            tx.compensate();
        }
        result
    })
}

/// Run the steps until they succeed: on failure, compensate and travel back
/// to the start of the transaction, which then runs again.
pub fn infallible_transaction<T, E>(f: impl FnOnce(&mut Transaction) -> Result<T, E>) -> T {
    let start = Checkpoint::capture();
    let mut tx = Transaction::default();
    match f(&mut tx) {
        Ok(v) => v,
        Err(_) => {
            tx.compensate();
            start.revert()
        }
    }
}
